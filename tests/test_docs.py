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

# Exported constants not yet described in their notebook's prose (as `NAME`). Every one is described now; keep it
# that way: describe a new constant in the prose, or make it private (`_NAME`) if users need not see it. The set may
# only shrink: a new undescribed constant fails, and so does a listed one that has become described.
UNDESCRIBED = set()

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

def test_every_exported_constant_is_described(proc):
    undescribed = {f'{m}.{n}' for m, n, obj, shown, prose in _exported(proc)
                   if not callable(obj) and n not in shown and f'`{n}`' not in prose}
    assert not undescribed - UNDESCRIBED, f'exported constants not described in their notebook: {sorted(undescribed - UNDESCRIBED)}'
    assert not UNDESCRIBED - undescribed, f'now described (or gone), delete from UNDESCRIBED: {sorted(UNDESCRIBED - undescribed)}'
