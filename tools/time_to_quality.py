"""Time-to-quality curves (`quality_curve`, `14b_hires`): train each configuration as `medvae-train` would and record
the held-out PSNR (against the noisy and the noise-free render) after every epoch, with the training minutes.

    python tools/time_to_quality.py OUT.csv NAME [NAME ...]   # rows appended to OUT.csv, one per epoch and configuration
"""
import json, sys
from pathlib import Path
import pandas as pd, torch
from medvae_nb.hires import quality_curve

CONFIGS = { # name: quality_curve arguments
    'vae-64': dict(model='vae', size=64, epochs=40),
    'vae-64-sigma0.03': dict(model='vae', size=64, epochs=40, model_kw=dict(sigma=0.03)), # the shipped vae-64px's recipe
    'vae-256-stem4': dict(model='vae', size=256, epochs=40, model_kw=dict(stem=4)),
    'vae-256-stem4-bs16': dict(model='vae', size=256, epochs=40, bs=16, model_kw=dict(stem=4)),
    'vae-256-stem4-lr4e-3': dict(model='vae', size=256, epochs=40, lr=4e-3, model_kw=dict(stem=4)),
    'vae-256-stem2': dict(model='vae', size=256, epochs=20, model_kw=dict(stem=2)),
}

if __name__ == '__main__':
    out = Path(sys.argv[1])
    torch.set_num_threads(2)
    for name in sys.argv[2:]:
        curve = quality_curve(**CONFIGS[name]).assign(config=name, settings=json.dumps(CONFIGS[name]))
        print(curve.to_string(index=False), flush=True)
        old = pd.read_csv(out).query('config != @name') if out.exists() else None
        pd.concat([old, curve]).to_csv(out, index=False)
