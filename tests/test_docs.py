"""The docs site: `nbdev-proc-nbs` processes every notebook, the sidebar lists the modules and the tutorials, and
every exported name has a doc entry. Quarto itself cannot be installed on the project's machines; this is what CI
can check without it. nbdev-proc-nbs runs in a copy of the repository, so the checkout gets no `_proc/`."""
import importlib, json, os, re, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'

def _notebooks():
    return sorted(p.relative_to(NBS) for p in NBS.rglob('*.ipynb')
                  if '.ipynb_checkpoints' not in p.parts and not any(s.startswith('_') for s in p.relative_to(NBS).parts))

@pytest.fixture(scope='module')
def proc(tmp_path_factory):
    "The `_proc` folder nbdev-proc-nbs writes, in a copy of the repository."
    d = tmp_path_factory.mktemp('docs')
    for f in ('pyproject.toml', 'README.md'): shutil.copy(ROOT/f, d/f)
    shutil.copytree(NBS, d/'nbs', ignore=shutil.ignore_patterns('_proc', '.ipynb_checkpoints', 'runs', '_tmp*', 'sidebar.yml'))
    exe = shutil.which('nbdev-proc-nbs', path=str(Path(sys.executable).parent)) or shutil.which('nbdev-proc-nbs')
    assert exe, 'nbdev-proc-nbs is not installed (pip install -e ".[dev]")'
    # nbdev-proc-nbs downloads and installs Quarto (with sudo) when `quarto` is not on PATH; it does not need it to
    # process notebooks, so a `quarto` that only fails keeps the test from installing software
    shim = d/'bin'/'quarto'
    shim.parent.mkdir(); shim.write_text('#!/bin/sh\necho "quarto is not available in tests" >&2; exit 1\n'); shim.chmod(0o755)
    env = dict(os.environ, PATH=f"{shim.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    r = subprocess.run([exe], cwd=d, capture_output=True, text=True, timeout=3600, env=env)
    assert r.returncode == 0, f'nbdev-proc-nbs failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}'
    return d/'_proc'

def test_every_notebook_processed(proc):
    nbs = _notebooks()
    assert Path('tutorials/introvae_latent_space_interactive.ipynb') in nbs
    missing = [str(p) for p in nbs if not (proc/p).is_file()]
    assert not missing, f'nbdev-proc-nbs left out: {missing}'
    for p in nbs: json.loads((proc/p).read_text()) # each is a readable notebook

def test_sidebar_lists_modules_and_tutorials(proc):
    sidebar = (proc/'sidebar.yml').read_text()
    missing = [str(p) for p in _notebooks() if str(p) not in sidebar]
    assert not missing, f'sidebar.yml does not list: {missing}'

def _source_notebook(mod):
    "The notebook a module is exported from (nbdev's header: 'File to edit: ../nbs/X.ipynb')."
    m = re.search(r'File to edit: \.\./nbs/(\S+\.ipynb)', Path(mod.__file__).read_text())
    return m and Path(m.group(1))

def _doc_entries(nb:Path)->tuple:
    "Names given a `show_doc` in the processed notebook, and the text of its markdown (where constants are described)."
    cells = json.loads(nb.read_text())['cells']
    shown = {m.group(1).split('.')[-1] for c in cells if c['cell_type'] == 'code'
             for m in re.finditer(r'show_doc\(([\w.]+)', ''.join(c['source']))}
    prose = '\n'.join(''.join(c['source']) for c in cells if c['cell_type'] == 'markdown')
    return shown, prose

def _exported(proc):
    "(module name, exported name, object, shown names, prose) for every name in every module's `__all__`."
    for f in sorted((ROOT/'medvae_nb').glob('*.py')):
        if f.stem.startswith('_'): continue
        mod = importlib.import_module(f'medvae_nb.{f.stem}')
        nb = _source_notebook(mod)
        if nb is None: continue
        shown, prose = _doc_entries(proc/nb)
        for name in getattr(mod, '__all__', []): yield f.stem, name, getattr(mod, name), shown, prose

def test_every_exported_function_and_class_has_show_doc(proc):
    "nbdev adds a `show_doc` after each exported definition; a name without one has no entry on its module's page."
    missing = [f'{m}.{n}' for m, n, obj, shown, _ in _exported(proc) if callable(obj) and n not in shown]
    assert not missing, f'exported functions / classes without a show_doc: {missing}'

def _commented(mod, name:str)->bool:
    "Is `name` assigned in `mod`'s source on a line that ends with a comment?"
    return bool(re.search(rf'^{re.escape(name)}\b[^\n]*=[^\n]*#', Path(mod.__file__).read_text(), re.M))

def test_every_exported_constant_is_described(proc):
    "A constant a user may import is described, in its notebook's prose or by a comment on the line that defines it."
    undescribed = sorted(f'{m}.{n}' for m, n, obj, shown, prose in _exported(proc)
                         if not callable(obj) and n not in shown and f'`{n}`' not in prose
                         and not _commented(importlib.import_module(f'medvae_nb.{m}'), n))
    assert not undescribed, f'exported constants described neither in their notebook nor by a comment: {undescribed}'

# --- the pages as a reader sees them: figures present, no notebook machinery on show --------------------------------
FIGURE_CALL = re.compile(r'show_grid\(|show_images\(|plt\.|\.plot\(|imshow\(|_figure\(')
MAX_FIGURE, MAX_FIGURES_TOTAL = 200_000, 20_000_000 # bytes of PNG per figure, and in all notebooks together

def _png_outputs(nb:dict)->list:
    import base64
    return [base64.b64decode(o['data']['image/png']) for c in nb['cells'] if c['cell_type'] == 'code'
            for o in c.get('outputs', []) if 'image/png' in o.get('data', {})]

def test_figures_committed_and_small():
    "A notebook that draws figures is committed with them (its docs page shows them), each figure within 200 KB."
    missing, big, total = [], [], 0
    for p in _notebooks():
        nb = json.loads((NBS/p).read_text())
        draws = any(c['cell_type'] == 'code' and FIGURE_CALL.search(src := ''.join(c['source'])) and not re.match(r'\s*#\|\s*export', src)
                    for c in nb['cells']) # a cell that draws, not the library code that defines a figure
        pngs = _png_outputs(nb)
        if draws and not pngs: missing.append(str(p))
        big += [f'{p}: {len(b):,} bytes' for b in pngs if len(b) > MAX_FIGURE]
        total += sum(map(len, pngs))
    assert not missing, f'notebooks that draw figures but were committed without them (run python tools/run_nbs.py): {missing}'
    assert not big, f'figures over {MAX_FIGURE:,} bytes (python tools/run_nbs.py --shrink-only re-encodes them): {big}'
    assert total <= MAX_FIGURES_TOTAL, f'{total:,} bytes of figures in the notebooks'

def _quarto_options(cell:dict)->list:
    """Do to a code cell what Quarto does: take the `#|` option lines at its top out of the shown code, and return the
    options that hide something as tags for nbconvert. A `#|` line further down is code to Quarto, and shows."""
    if cell['cell_type'] != 'code': return []
    lines = ''.join(cell['source']).splitlines(True)
    opts = {}
    while lines and re.match(r'\s*#\|', lines[0]):
        k, _, v = lines.pop(0).strip()[2:].partition(':')
        opts[k.strip()] = v.strip()
    cell['source'] = ''.join(lines)
    return [f'{k}-false' for k in ('include', 'echo', 'output') if opts.get(k) == 'false']

@pytest.fixture(scope='module')
def pages(proc, tmp_path_factory):
    "Each processed notebook rendered to HTML by nbconvert (the site's pages without Quarto): path -> (html file, figures)."
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    out, exporter, res = tmp_path_factory.mktemp('html'), HTMLExporter(template_name='lab'), {}
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={'include-false'}, remove_input_tags={'echo-false'},
                                                         remove_all_outputs_tags={'output-false'}), enabled=True)
    for p in _notebooks():
        d = json.loads((proc/p).read_text())
        for c in d['cells']: # nbdev's own bookkeeping keys (e.g. `has_sd`) are not nbformat's
            for k in set(c) - {'cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count', 'attachments'}: del c[k]
            c['metadata'] = {'tags': _quarto_options(c)} # and its timings, which nbformat's schema does not take
        html, _ = exporter.from_notebook_node(nbformat.reads(json.dumps(d), as_version=4))
        f = out/p.with_suffix('.html'); f.parent.mkdir(parents=True, exist_ok=True); f.write_text(html, encoding='utf-8')
        res[p] = (f, len(_png_outputs(json.loads((proc/p).read_text()))))
    return res

def test_pages_show_their_figures(pages):
    "In Chromium, every figure output of every page is an image that loaded, and no `#|` directive or raw show_doc shows."
    from test_browser import _chromium, _missing, CHROMIUM_FLAGS
    try: from playwright.sync_api import sync_playwright
    except ImportError: _missing('playwright is not installed')
    exe = _chromium()
    if exe is None: _missing("Debian's chromium is not installed (apt-get install chromium)")
    problems, shown = [], 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS, headless=True)
        try:
            page = browser.new_page()
            for p, (f, n_figs) in pages.items():
                page.goto(f.as_uri(), wait_until='load')
                loaded = page.eval_on_selector_all('.jp-OutputArea-output img',
                                                   'imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length')
                shown += loaded
                if loaded != n_figs: problems.append(f'{p}: {loaded} of its {n_figs} figure outputs shown')
                text = page.inner_text('body')
                if re.search(r'^\s*#\|', text, re.M): problems.append(f'{p}: a `#|` directive is on the page')
                if 'show_doc(' in text or '```' in text: problems.append(f'{p}: raw show_doc or markdown source is on the page')
        finally: browser.close()
    assert not problems, problems
    assert shown >= 20, f'only {shown} figures on all pages'
