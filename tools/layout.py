"""Report the layout measures: code lines per notebook, the longest functions, private imports across modules and
imports that flow against the notebooks' order (issue 17); markdown words per code line, the largest markdown cell,
code cells over 50 lines, the longest saved text output, `#| slow` cells without outputs and dated lab-notebook
phrases (issue 32). Measured over `nbs/`, tutorials included, `index` excepted.

Usage: python tools/layout.py   (from the repository root)
"""
import ast, json, re
from pathlib import Path

def code_lines(nb:Path)->int:
    "Non-blank code lines of a notebook, directives included (as a reader sees them)."
    cells = json.loads(nb.read_text())['cells']
    return sum(1 for c in cells if c['cell_type'] == 'code' for l in ''.join(c['source']).splitlines() if l.strip())

LIBRARY_NBS = [p for p in sorted(Path('nbs').rglob('*.ipynb')) if p.name != 'index.ipynb']
DATED = re.compile(r'before the fix|until \d{4}-\d\d-\d\d|was stopped|measured at commit', re.I)

def cells(nb:Path)->list: return json.loads(nb.read_text())['cells']
def text(c)->str: return ''.join(c['source'])
def lines(s:str)->int: return sum(1 for l in s.splitlines() if l.strip())

def output_lines(c)->int:
    "Lines of the longest text a code cell saved: streams, and results or displays that have no picture or HTML."
    n = 0
    for o in c.get('outputs', []):
        data = o.get('data', {})
        if o.get('output_type') == 'stream': t = o.get('text', '')
        elif {'image/png', 'text/html', 'text/markdown'} & set(data): continue # a picture, a table or a rendered report
        else: t = data.get('text/plain', '')
        n = max(n, len(''.join(t).splitlines()))
    return n

SHOWS = {'print', 'display', 'show', 'show_grid', 'plot', 'imshow', 'subplots', 'fit', 'fit_one_cycle'}

def shows(src:str)->bool:
    "Does a code cell put something on the page: a call that prints, draws or shows progress, or a last line that is an expression?"
    try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('#|', '%', '!'))))
    except SyntaxError: return True
    last = tree.body[-1] if tree.body else None
    names = {getattr(n.func, 'id', getattr(n.func, 'attr', '')) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return bool(names & SHOWS) or (isinstance(last, ast.Expr) and not src.rstrip().endswith(';'))

def prose(nb:Path)->dict:
    "The prose measures of one notebook."
    cs = cells(nb)
    md, code = [c for c in cs if c['cell_type'] == 'markdown'], [c for c in cs if c['cell_type'] == 'code']
    return dict(words=sum(len(text(c).split()) for c in md), code=sum(lines(text(c)) for c in code),
                big_md=max([len(text(c).split()) for c in md] or [0]),
                long_cells=sum(lines(text(c)) > 50 for c in code), out=max([output_lines(c) for c in code] or [0]),
                slow_bare=sum(bool(re.search(r'#\|\s*slow', text(c))) and shows(text(c)) and not c.get('outputs') for c in code),
                dated=sum(len(DATED.findall(text(c))) for c in md))

def functions(py:Path):
    "(lines, qualified name) of every function in a module."
    tree = ast.parse(py.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.end_lineno - node.lineno + 1, f"{py.stem}.{node.name}"

def module_order()->dict:
    "Module name -> the position of the notebook that exports it."
    order = {}
    for i, nb in enumerate(sorted(Path('nbs').glob('[0-9]*.ipynb'))):
        m = re.search(r'#\|\s*default_exp\s+(\S+)', nb.read_text())
        if m: order[m.group(1).replace('\\n', '').strip('"')] = (i, nb.name)
    return order

def imports(py:Path):
    "(module, names) of every relative import of the package in `py`."
    for node in ast.walk(ast.parse(py.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or '').startswith('medvae_nb.')):
            yield (node.module or '').removeprefix('medvae_nb.'), [a.name for a in node.names]

if __name__ == '__main__':
    nbs = sorted(Path('nbs').rglob('*.ipynb'))
    sizes = sorted(((code_lines(nb), str(nb)) for nb in nbs), reverse=True)
    print('largest notebooks (code lines; goal <= 450):')
    for n, name in sizes[:6]: print(f'  {n:5d}  {name}')
    pys = [p for p in sorted(Path('medvae_nb').glob('*.py')) if p.stem != '_modidx']
    funcs = sorted((f for p in pys for f in functions(p)), reverse=True)
    print('longest functions (lines; goal <= 40):')
    for n, name in funcs[:10]: print(f'  {n:5d}  {name}')
    order = module_order()
    private, backwards = [], []
    for p in pys:
        for mod, names in imports(p):
            private += [f'{p.stem} imports {mod}.{n}' for n in names if n.startswith('_')]
            if mod in order and p.stem in order and order[mod][0] > order[p.stem][0]: backwards.append(f'{p.stem} imports {mod}')
    print(f'private imports across modules (goal 0): {len(private)}'); [print('  ' + s) for s in private]
    print(f'imports from a later notebook (goal 0): {len(backwards)}'); [print('  ' + s) for s in sorted(set(backwards))]
    ms = {nb: prose(nb) for nb in LIBRARY_NBS}
    words, code = sum(m['words'] for m in ms.values()), sum(m['code'] for m in ms.values())
    dated = sum(m['dated'] for m in ms.values()) + len(DATED.findall(Path('README.md').read_text()))
    print(f'markdown words per code line (goal <= 3 overall, <= 5 per notebook): {words / code:.2f} overall')
    print(f"  {'notebook':56s}words/line  largest md (<=350)  cells >50 lines  longest output (<=30)  bare slow cells")
    for nb, m in sorted(ms.items(), key=lambda kv: -kv[1]['words'] / max(kv[1]['code'], 1)):
        print(f"  {str(nb):56s} {m['words'] / max(m['code'], 1):6.2f} {m['big_md']:14d} {m['long_cells']:16d} {m['out']:18d} {m['slow_bare']:16d}")
    print(f'dated lab-notebook phrases in library notebooks and the README (goal 0): {dated}')
