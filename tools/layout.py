"""Report the layout measures of issue 17: code lines per notebook, the longest functions, private imports across modules,
and imports that flow against the notebooks' order.

Usage: python tools/layout.py   (from the repository root)
"""
import ast, json, re
from pathlib import Path

def code_lines(nb:Path)->int:
    "Non-blank code lines of a notebook, directives included (as a reader sees them)."
    cells = json.loads(nb.read_text())['cells']
    return sum(1 for c in cells if c['cell_type'] == 'code' for l in ''.join(c['source']).splitlines() if l.strip())

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
    print('longest functions (lines; goal <= 50):')
    for n, name in funcs[:10]: print(f'  {n:5d}  {name}')
    order = module_order()
    private, backwards = [], []
    for p in pys:
        for mod, names in imports(p):
            private += [f'{p.stem} imports {mod}.{n}' for n in names if n.startswith('_')]
            if mod in order and p.stem in order and order[mod][0] > order[p.stem][0]: backwards.append(f'{p.stem} imports {mod}')
    print(f'private imports across modules (goal 0): {len(private)}'); [print('  ' + s) for s in private]
    print(f'imports from a later notebook (goal 0): {len(backwards)}'); [print('  ' + s) for s in sorted(set(backwards))]
