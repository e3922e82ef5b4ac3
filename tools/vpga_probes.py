"""Short VPGA probes at 64 px: the KL weight β, and the terms and weights of the official CelebA command
(`train_vpga.py --zn_rec 3e-2 --zh_rec 1e-2 --vkld 2e-3`, `--vrec` at its default 1e-2). Each probe trains on the same
phantom knees and is scored by its *own-prior* samples on 512 held-out knees (KFD, SWD, precision, recall), as
`introvae_probes.py` scores IntroVAE's (`prior_scores`).

    python tools/vpga_probes.py OUT [NAME ...]     # all probes, or the named ones, one after the other
    python tools/vpga_probes.py --report OUT       # the table of every finished probe, as markdown

Each probe writes OUT/NAME.json (settings, last validation terms, how far the codes fill the prior, scores).
"""
import json, sys, time
from pathlib import Path
import pandas as pd, torch
from medvae_nb.data import phantom_dls
from medvae_nb.vpga import VPGA
from medvae_nb.learner import vae_learner
from medvae_nb.metrics import reconstruction_metrics
from medvae_nb.evaluate import prior_scores

BASE = dict(n=1024, bs=32, epochs=8, lr=2e-3, precision='bf16', seed=0) # one-cycle, KL warm-up 0.3 (the learner's)
SHIPPED = dict(zdim=128, latent_weight=3e-2, var_weight=5e-3, kl_weight=3e-3)
CELEBA = dict(zdim=128, latent_weight=3e-2, data_latent_weight=1e-2, var_weight=1e-2, kl_weight=2e-3)
PROBES = { # name: VPGA keyword arguments
    'shipped': SHIPPED,
    'celeba': CELEBA,
    'celeba-kl1e-2': {**CELEBA, 'kl_weight': 1e-2},
    'celeba-kl3e-2': {**CELEBA, 'kl_weight': 3e-2},
    'celeba-kl1e-1': {**CELEBA, 'kl_weight': 1e-1},
    'celeba-kl5e-4': {**CELEBA, 'kl_weight': 5e-4},
    'celeba-zn1e-1': {**CELEBA, 'latent_weight': 1e-1},
}

@torch.no_grad()
def prior_fill(model, dl):
    "RMS of the posterior means and mean posterior σ over `dl`: both near 1 when the codes fill N(0, I) as a VAE's should."
    mu, logvar = map(torch.cat, zip(*(model.posterior(xb.float().contiguous()) for xb, in dl)))
    return dict(mu_rms=mu.pow(2).mean().sqrt().item(), sigma=(0.5 * logvar).exp().mean().item())

def run_probe(name:str, out:Path):
    p, kw = BASE, PROBES[name]
    torch.manual_seed(p['seed'])
    dls = phantom_dls(size=64, n=p['n'], bs=p['bs'], seed=p['seed'])
    learn = vae_learner(dls, VPGA(64, **kw), lr=p['lr'], precision=p['precision'])
    t0 = time.time()
    with learn.no_bar(): learn.fit_one_cycle(p['epochs'], p['lr'])
    m = learn.model.float().to(memory_format=torch.contiguous_format).eval()
    names = learn.recorder.metric_names[1:-1]
    res = dict(name=name, settings=dict(**p, kw=kw), minutes=round((time.time() - t0) / 60, 1),
               valid=dict(zip(names, map(float, learn.recorder.values[-1]))),
               psnr=reconstruction_metrics(m, dls.valid)['psnr'], **prior_fill(m, dls.valid), **prior_scores(m))
    (out/f'{name}.json').write_text(json.dumps(res, indent=1))
    torch.save(m.state_dict(), out/f'{name}.pt') # for a look at the samples; not committed
    return res

def report(out:Path)->str:
    rows = [json.loads(f.read_text()) for f in sorted(out.glob('*.json'))]
    short = dict(latent_weight='α', data_latent_weight='zh', var_weight='γ', kl_weight='β')
    return pd.DataFrame([dict(probe=r['name'], settings=', '.join(f'{short[k]} {v:g}' for k, v in r['settings']['kw'].items() if k in short),
                              recon=f"{r['valid']['recon']:.4f}", latent_rec=round(r['valid']['latent_rec'], 3),
                              kl=round(r['valid']['kl'], 1), mu_rms=round(r['mu_rms'], 2), sigma=round(r['sigma'], 2),
                              psnr=round(r['psnr'], 2), kfd=round(r['kfd'], 2), swd=round(r['swd'], 1),
                              precision=round(r['precision'], 3), recall=round(r['recall'], 3), minutes=r['minutes'])
                         for r in rows]).pipe(markdown)

def markdown(df:pd.DataFrame)->str:
    "`df` as a markdown table (pandas' `to_markdown` needs `tabulate`, which the project does not install)."
    return '\n'.join('| ' + ' | '.join(map(str, r)) + ' |' for r in [df.columns, ['---'] * df.shape[1], *df.values])

if __name__ == '__main__':
    if sys.argv[1] == '--report': print(report(Path(sys.argv[2]))); sys.exit()
    out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    for name in sys.argv[2:] or list(PROBES):
        r = run_probe(name, out)
        print(f"{name}: {r['minutes']} min  psnr {r['psnr']:.2f}  kl {r['valid']['kl']:.1f}  mu_rms {r['mu_rms']:.2f}  "
              f"sigma {r['sigma']:.2f}  kfd {r['kfd']:.2f}  swd {r['swd']:.1f}  P {r['precision']:.2f}  R {r['recall']:.2f}", flush=True)
