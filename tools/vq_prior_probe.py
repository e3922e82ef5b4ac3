"""Retrain a shipped VQ-VAE's transformer prior on the codes of more phantom knees, or with another width or depth, and
score its samples as `tools/vq_temperature.py` does (two sets of 256 against the two halves of 512 held-out knees).
The autoencoder is unchanged; the new prior's weights go to OUT/prior.safetensors.

    python tools/vq_prior_probe.py OUT [--size 64] [--n 8192] [--epochs 6] [--bs 64] [--dim 128] [--layers 4]
"""
import argparse, json, time
from pathlib import Path
import torch
from safetensors.torch import save_file
from medvae_nb.shipped import load_pretrained
from medvae_nb.priors import fit_code_prior
from medvae_nb.data import phantom_dls
from medvae_nb.vqvae import CodePrior
from vq_temperature import sweep

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('out'); p.add_argument('--size', type=int, default=64); p.add_argument('--n', type=int, default=8192)
    p.add_argument('--epochs', type=int, default=6); p.add_argument('--bs', type=int, default=64)
    p.add_argument('--lr', type=float, default=3e-3); p.add_argument('--dim', type=int, default=128)
    p.add_argument('--layers', type=int, default=4); p.add_argument('--dropout', type=float, default=0.1)
    a = p.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    m = load_pretrained('vqvae', size=a.size)
    old = m.prior
    m.prior = CodePrior(old.K, old.h, old.w, dim=a.dim, n_layers=a.layers, n_heads=4, dropout=a.dropout)
    torch.manual_seed(0); t0 = time.time()
    dls = phantom_dls(size=a.size, n=a.n, bs=a.bs, seed=0)
    learn = fit_code_prior(m, dls, epochs=a.epochs, lr=a.lr, progress=False)
    minutes = (time.time() - t0) / 60
    hist = [dict(zip(['train_loss', 'valid_loss'], map(float, v[:2]))) for v in learn.recorder.values]
    save_file({k: v.contiguous() for k, v in m.prior.state_dict().items()}, out/'prior.safetensors')
    res = dict(vars(a), minutes=round(minutes, 1), history=hist)
    print(json.dumps(res), flush=True)
    torch.set_num_threads(2)
    import vq_temperature
    vq_temperature.load_pretrained = lambda *args, **kw: m # score this model, not the shipped one
    res['samples'] = list(sweep(a.size, temperatures=(1.0, 0.9)))
    print(json.dumps(res['samples']), flush=True)
    (out/'probe.json').write_text(json.dumps(res, indent=1))
