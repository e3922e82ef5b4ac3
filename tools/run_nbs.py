"""Execute notebooks in place and save their outputs, as fastai's nbs/ are committed.

Usage: python tools/run_nbs.py [--slow | --shrink-only] [NOTEBOOK ...]   (default: every notebook in nbs/)

Cells flagged `#| slow`, `#| notest` or `#| eval: false` are not run and keep the outputs of their last run (`nbdev-test --flags slow`
runs them as tests); with `--slow` the `slow` cells run too, and their new outputs are saved. Figures over 200 KB
are re-encoded to fit (`shrink_png`). `--shrink-only` shrinks the figures of the notebooks without running them. Each notebook runs in its own folder, as nbdev-test runs it; a failing cell stops that notebook
and leaves its file untouched.
"""
import base64, io, os, re, sys
from pathlib import Path
from PIL import Image
from fastcore.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

root = Path(__file__).resolve().parents[1]
SKIP = re.compile(r'^\s*#\|\s*(slow|notest\b|eval:\s*false)', re.M)
SKIP_NOTEST = re.compile(r'^\s*#\|\s*(notest\b|eval:\s*false)', re.M)

def run_nb(path:Path, slow:bool=False):
    nb = read_nb(path)
    cwd = os.getcwd(); os.chdir(path.parent)
    try: CaptureShell(path).run_all(nb, exc_stop=True, preproc=lambda c: bool((SKIP_NOTEST if slow else SKIP).search(c.source)))
    finally: os.chdir(cwd)
    clean_outputs(nb)
    write_nb(nb, path)

MAX_FIGURE = 200_000 # bytes of PNG per figure output

def shrink_png(data:bytes, limit:int=MAX_FIGURE)->bytes:
    "`data` re-encoded within `limit` bytes: 256 colours first (lossless for greyscale figures), then halved until it fits."
    im = Image.open(io.BytesIO(data))
    def enc(im):
        buf = io.BytesIO(); im.save(buf, 'PNG', optimize=True); return buf.getvalue()
    im = im.convert('RGB').quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = enc(im)
    while len(out) > limit and min(im.size) > 64:
        im = im.convert('RGB').resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS).quantize(256, dither=Image.Dither.NONE)
        out = enc(im)
    return out if len(out) < len(data) else data

def shrink_figures(nb):
    "Re-encode every PNG output over `MAX_FIGURE` bytes with `shrink_png`, so the committed notebooks stay small."
    for c in nb.cells:
        for o in c.get('outputs', []) if c.cell_type == 'code' else []:
            png = o.get('data', {}).get('image/png')
            if png and len(base64.b64decode(png)) > MAX_FIGURE:
                o['data']['image/png'] = base64.b64encode(shrink_png(base64.b64decode(png))).decode()

_BAR = re.compile(r'^\s*Epoch \d+/\d+ :') # a fastprogress bar, as text: redrawn with carriage returns

def plain_progress(text:str)->str:
    "What a terminal shows of fastprogress's text output: each line's last redraw, without the bars (the epoch table stays)."
    if '\r' not in text: return text
    lines = []
    for line in text.split('\n'):
        segs = [s for s in line.split('\r') if s.strip(' █')]
        if segs and not _BAR.match(segs[-1]): lines.append(segs[-1])
        elif not segs and not line.strip(' █\r'): lines.append('')
    return '\n'.join(lines)

_TORCH_LOG = re.compile(r'^[IW]\d{4} \d\d:\d\d:\d\d') # PyTorch's own info and warning lines (glog format), e.g. torch.compile's
def _noise(o)->bool:
    if o.get('output_type') != 'stream' or o.get('name') != 'stderr': return False
    text = ''.join(o.get('text', ''))
    return 'Warning' in text or all(_TORCH_LOG.match(l) for l in text.splitlines() if l.strip())

def strip_noise(path:Path):
    "`clean_outputs` of the saved notebook `path`, without running it."
    nb = read_nb(path)
    clean_outputs(nb)
    write_nb(nb, path)

def clean_outputs(nb):
    "Drop warning-only stderr outputs (a dependency's deprecation warning, with this machine's paths in it, is not documentation), reduce progress bars to their table, shrink large figures."
    for c in nb.cells:
        if c.cell_type != 'code': continue
        c.outputs = [o for o in c.get('outputs', []) if not _noise(o)]
        for o in c.outputs:
            if o.get('output_type') == 'stream': o['text'] = plain_progress(''.join(o['text']))
    shrink_figures(nb)

if __name__ == '__main__':
    args = sys.argv[1:]
    unknown = [a for a in args if a.startswith('--') and a not in ('--slow', '--shrink-only')]
    if unknown: sys.exit(f"run_nbs.py: error: unknown flag {unknown[0]} (known: --slow, --shrink-only)")
    slow, shrink_only = '--slow' in args, '--shrink-only' in args
    paths = [Path(p).resolve() for p in args if not p.startswith('--')] or sorted(p for p in (root/'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)
    for p in paths:
        print(f"{'shrinking' if shrink_only else 'running'} {p.relative_to(root)}", flush=True)
        if shrink_only: strip_noise(p)
        else: run_nb(p, slow=slow)
