"""Execute notebooks in place and save their outputs, as fastai's nbs/ are committed.

Usage: python tools/run_nbs.py [--slow] [NOTEBOOK ...]   (default: every notebook in nbs/)

Cells flagged `#| slow` or `#| notest` are not run and keep the outputs of their last run (`nbdev-test --flags slow`
runs them as tests); with `--slow` the `slow` cells run too, and their new outputs are saved. Each notebook runs in its own folder, as nbdev-test runs it; a failing cell stops that notebook
and leaves its file untouched.
"""
import os, re, sys
from pathlib import Path
from fastcore.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

root = Path(__file__).resolve().parents[1]
SKIP = re.compile(r'^\s*#\|\s*(slow|notest)\b', re.M)
SKIP_NOTEST = re.compile(r'^\s*#\|\s*notest\b', re.M)

def run_nb(path:Path, slow:bool=False):
    nb = read_nb(path)
    cwd = os.getcwd(); os.chdir(path.parent)
    try: CaptureShell(path).run_all(nb, exc_stop=True, preproc=lambda c: bool((SKIP_NOTEST if slow else SKIP).search(c.source)))
    finally: os.chdir(cwd)
    for c in nb.cells: # a dependency's deprecation warning, with this machine's paths in it, is not documentation
        if c.cell_type == 'code': c.outputs = [o for o in c.get('outputs', []) if not _noise(o)]
    write_nb(nb, path)

def _noise(o)->bool: return o.get('output_type') == 'stream' and o.get('name') == 'stderr' and 'Warning' in ''.join(o.get('text', ''))

def strip_noise(path:Path):
    "Remove warning-only stderr outputs from the saved notebook `path` without running it."
    nb = read_nb(path)
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs = [o for o in c.get('outputs', []) if not _noise(o)]
    write_nb(nb, path)

if __name__ == '__main__':
    args = sys.argv[1:]
    slow = '--slow' in args
    paths = [Path(p).resolve() for p in args if p != '--slow'] or sorted(p for p in (root/'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)
    for p in paths:
        print(f"running {p.relative_to(root)}", flush=True)
        run_nb(p, slow=slow)
