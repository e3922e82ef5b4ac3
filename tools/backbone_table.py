"""The 256 px backbone table of `03_backbone`: for each channel plan, the cost of a training step (GFLOP per image,
images/s, peak memory, from `hires_row` in a fresh process) and the quality a VAE reaches on a fixed budget
(`medvae-train` defaults: 2,048 phantom knees, 4 epochs, one-cycle), scored on 256 held-out knees against their
noisy render and against the noise-free one.

    python tools/backbone_table.py OUT [NAME ...]   # every option, or the named ones; rows in OUT/backbone.csv
"""
import json, sys, time
from pathlib import Path
import pandas as pd, torch
from medvae_nb.bench import row_in_subprocess
from medvae_nb.core import load_model
from medvae_nb.evaluate import heldout_knees
from medvae_nb.train import train_run

OPTIONS = { # name: model arguments (`03_backbone`)
    'today (stem 1, base 32)': {},
    'base 8': dict(base=8),
    'stem 2': dict(stem=2),
    'stem 4': dict(stem=4),
}
SIZE, N, EPOCHS, BS = 256, 2048, 4, 32

@torch.no_grad()
def psnr_pair(model, n:int=256)->dict:
    "PSNR of `model`'s reconstructions of `n` held-out noisy knees, against the noisy input and against the noise-free render."
    batch, clean = heldout_knees(SIZE, n)
    x = torch.as_tensor(batch.images, dtype=torch.float32)
    r = torch.cat([model.reconstruct(x[i:i+32]) for i in range(0, n, 32)]).clamp(0, 1)
    psnr = lambda a, b: (10 * torch.log10(1 / (a - b).pow(2).flatten(1).mean(1))).mean().item()
    return dict(psnr_noisy=round(psnr(r, x), 2), psnr_clean=round(psnr(r, clean.float()), 2),
                input_vs_clean=round(psnr(x, clean.float()), 2))

def option_row(name:str, out:Path)->dict:
    kw = OPTIONS[name]
    cost = row_in_subprocess('hires_row', 'medvae_nb.hires', model='vae', size=SIZE, bs=16, steps=3, model_kw=kw)
    t = time.time()
    run = train_run('vae', size=SIZE, n=N, epochs=EPOCHS, bs=BS, out=out/name.split(' (')[0].replace(' ', '-'),
                    model_kw=kw, force=True, progress=False)
    minutes = (time.time() - t) / 60
    return dict(option=name, **{k: cost.get(k) for k in ('gflop_per_img', 'img_s', 'peak_rss_mb', 'train_mb', 'precision', 'error')},
                train_minutes=round(minutes, 1), **psnr_pair(load_model(run)))

if __name__ == '__main__':
    out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    for name in sys.argv[2:] or list(OPTIONS):
        row = option_row(name, out)
        print(json.dumps(row), flush=True)
        f = out/'backbone.csv'
        rows = (pd.read_csv(f).query('option != @name').to_dict('records') if f.exists() else []) + [row]
        pd.DataFrame(rows).to_csv(f, index=False)
