"""Probes of the shipped `vqvae-64px`'s transformer prior (issue 30, item 5): more knees for the prior, a larger
transformer, and top-k / temperature at sampling. The autoencoder is the shipped one, frozen; only the prior is
retrained, on the code maps of phantom knees, and scored by `card_eval` as the cards are (4 sets of 256 samples,
each against 256 of 512 held-out knees).

    python tools/vq_prior_probes.py OUT [NAME ...]     # the named probes (default: all), one after the other
    python tools/vq_prior_probes.py --sampling OUT NAME # score a finished probe's prior at several top-k / temperatures

Each probe writes OUT/NAME.json (settings, bits per code per epoch, minutes, scores) and OUT/NAME-prior.pt.
"""
import functools, json, sys, time
from pathlib import Path
import numpy as np, torch
from medvae_nb.data import phantom_dls
from medvae_nb.vqvae import CodePrior
from medvae_nb.priors import fit_code_prior
from medvae_nb.shipped import load_pretrained
from medvae_nb.evaluate import card_eval

# the shipped prior: 1 638 training knees (the autoencoder's split of 2 048), dim 128, 4 layers, 12 epochs at 3e-3
BASE = dict(n=2048, epochs=12, lr=3e-3, dim=128, layers=4, heads=4, dropout=0.1, bs=32, precision='bf16')
PROBES = {
    'shipped-recipe': {},
    'knees8k':        dict(n=8192, epochs=6), # four times the knees, half the epochs: twice the steps
    'wide-knees8k':   dict(n=8192, epochs=6, dim=256, layers=6, heads=8),
}

def score(model, **sample_kw)->dict:
    "`card_eval`'s sample metrics of `model`'s prior (4 sets of 256 against 512 held-out knees), sampled with `sample_kw`."
    if sample_kw: model.sample = functools.partial(type(model).sample, model, **sample_kw) # what `card_eval` calls
    ev = card_eval(model)
    return {k: ev[k]['sets'] for k in ('kfd', 'swd', 'precision', 'recall')}

def run_probe(name:str, out:Path):
    p = {**BASE, **PROBES[name]}
    model = load_pretrained('vqvae', size=64).float().eval()
    torch.manual_seed(0)
    dls = phantom_dls(size=64, n=p['n'], bs=p['bs'], seed=0)
    model.prior = CodePrior(model.vq.K, model.bottom, model.bottom, p['dim'], p['layers'], p['heads'], p['dropout'])
    t0 = time.time()
    learn = fit_code_prior(model, dls, epochs=p['epochs'], lr=p['lr'], progress=False, precision=p['precision'])
    minutes = (time.time() - t0) / 60
    model = model.float().eval()
    bits = [float(v[0]) for v in learn.recorder.values]
    res = dict(name=name, settings=p, minutes=round(minutes, 1), valid_bits=bits,
               params=sum(q.numel() for q in model.prior.parameters()), **score(model))
    (out/f'{name}.json').write_text(json.dumps(res, indent=1))
    torch.save(model.prior.state_dict(), out/f'{name}-prior.pt')
    return res

def sampling(out:Path, name:str, settings=((1.0, None), (1.0, 256), (1.0, 128), (1.0, 64), (0.9, None))):
    r = json.loads((out/f'{name}.json').read_text()); p = r['settings']
    model = load_pretrained('vqvae', size=64).float().eval()
    model.prior = CodePrior(model.vq.K, model.bottom, model.bottom, p['dim'], p['layers'], p['heads'], p['dropout'])
    model.prior.load_state_dict(torch.load(out/f'{name}-prior.pt')); model.prior.eval()
    res = {f't{t}-k{k}': score(model, temperature=t, top_k=k) for t, k in settings}
    (out/f'{name}-sampling.json').write_text(json.dumps(res, indent=1))
    for k, v in res.items(): print(k, {m: round(float(np.mean(s)), 3) for m, s in v.items()}, flush=True)

if __name__ == '__main__':
    torch.set_num_threads(2)
    if sys.argv[1] == '--sampling': sampling(Path(sys.argv[2]), sys.argv[3]); sys.exit()
    out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
    for name in sys.argv[2:] or list(PROBES):
        print(f"probe {name}", flush=True)
        r = run_probe(name, out)
        print(f"  {r['minutes']} min, {r['params']} parameters, valid bits/code {r['valid_bits'][-1]:.3f}, " +
              ', '.join(f"{k} {np.mean(v):.3f}" for k, v in r.items() if k in ('kfd', 'swd', 'precision', 'recall')), flush=True)
