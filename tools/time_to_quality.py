"""Time-to-quality curves (`quality_curve`, `14b_hires`): train each configuration as `medvae-train` would and record
the held-out PSNR (against the noisy and the noise-free render) after every epoch, with the training minutes.

    python tools/time_to_quality.py OUT.csv NAME [NAME ...]   # rows appended to OUT.csv, one per epoch and configuration

Each epoch's row is written as it comes; with `--stop-at DB` a configuration stops once its PSNR against the
noise-free knees reaches DB (the schedule up to then is that of the whole recipe). To measure PyTorch's AVX2 kernels
on a newer CPU: `ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python tools/time_to_quality.py OUT.csv vae-256-stem4-fp32`.
"""
import json, sys
from fastai.callback.core import Callback, CancelFitException
from pathlib import Path
import pandas as pd, torch
from medvae_nb.hires import quality_curve, HeldoutPSNR

CONFIGS = { # name: quality_curve arguments
    'vae-64': dict(model='vae', size=64, epochs=40),
    'vae-64-sigma0.03': dict(model='vae', size=64, epochs=40, model_kw=dict(sigma=0.03)), # the shipped vae-64px's recipe
    'vae-256-stem4': dict(model='vae', size=256, epochs=40, model_kw=dict(stem=4)),
    'vae-256-stem4-bs16': dict(model='vae', size=256, epochs=40, bs=16, model_kw=dict(stem=4)),
    'vae-256-stem4-lr4e-3': dict(model='vae', size=256, epochs=40, lr=4e-3, model_kw=dict(stem=4)),
    'vae-256-stem2': dict(model='vae', size=256, epochs=20, model_kw=dict(stem=2)),
    'vae-256-stem4-fp32': dict(model='vae', size=256, epochs=40, model_kw=dict(stem=4), precision='fp32'), # what an AVX2 CPU runs
}

class WriteRows(Callback):
    "After `HeldoutPSNR` (order 70): print and append each epoch's row to `out`; stop once `psnr_clean` reaches `stop_at`."
    order = 71
    def __init__(self, out:Path, config:str, stop_at:float=None): self.out, self.config, self.stop_at = out, config, stop_at
    def after_epoch(self):
        row = dict(self.learn.cbs.filter(lambda c: isinstance(c, HeldoutPSNR))[0].rows[-1], config=self.config, settings=json.dumps(CONFIGS[self.config]))
        print(json.dumps(row), flush=True)
        old = pd.read_csv(self.out) if self.out.exists() else None
        pd.concat([old, pd.DataFrame([row])]).to_csv(self.out, index=False)
        if self.stop_at is not None and row['psnr_clean'] >= self.stop_at: raise CancelFitException()

if __name__ == '__main__':
    args = sys.argv[1:]
    stop_at = float(args.pop(args.index('--stop-at') + 1)) if '--stop-at' in args else None
    if '--stop-at' in args: args.remove('--stop-at')
    out, names = Path(args[0]), args[1:]
    torch.set_num_threads(2)
    for name in names:
        if out.exists(): pd.read_csv(out).query('config != @name').to_csv(out, index=False) # a configuration's rows start afresh
        quality_curve(**CONFIGS[name], cbs=[WriteRows(out, name, stop_at)])
