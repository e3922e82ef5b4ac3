"""How much of the fitted prior's distance to the held-out knees is the mixture's sample size? Fit `fit_gmm` on the
codes of more phantom knees than the 1 638 training knees the shipped prior saw, and score its samples with
`card_eval` (4 sets of 256 against 512 held-out knees), as the cards score them.

    python tools/gmm_codes_probe.py OUT MODEL [N ...]   # e.g. OUT vae-64px 1638 4096 8192

N = 1638 refits on the training knees (the shipped recipe); a larger N adds knees of phantom seed 1 (disjoint from the
training knees, seed 0, and from the held-out ones, seed 10 000). Writes OUT/MODEL-N.json.
"""
import json, sys, time
from pathlib import Path
import torch
from medvae_nb.core import attach_prior
from medvae_nb.data import phantom_dls, phantom_images
from medvae_nb.priors import encode_all, fit_gmm
from medvae_nb.shipped import load_pretrained
from medvae_nb.evaluate import card_eval

def train_images(n:int)->torch.Tensor:
    "The 1 638 training knees of the shipped models (phantom seed 0, 2 048 split 80/20), and `n - 1638` knees of seed 1."
    dls = phantom_dls(size=64, n=2048, seed=0, bs=256)
    x = torch.cat([b[0] for b in dls.train.new(shuffle=False, drop_last=False)]).float()
    if n > len(x): x = torch.cat([x, torch.as_tensor(phantom_images(64, n - len(x), 1, None, None)[0], dtype=torch.float32)])
    return x[:n]

if __name__ == '__main__':
    torch.set_num_threads(2)
    out, key, ns = Path(sys.argv[1]), sys.argv[2], [int(a) for a in sys.argv[3:]] or [1638, 8192]
    out.mkdir(parents=True, exist_ok=True)
    model = load_pretrained(key).float().eval()
    for n in ns:
        x = train_images(n)
        t0 = time.time(); codes = encode_all(model, x)
        gm, table = fit_gmm(codes, components=(1, 2, 4, 8, 16, 32))
        fit_s = time.time() - t0
        attach_prior(model, gm)
        ev = card_eval(model)['fitted']
        res = dict(model=key, n=n, components=gm.n_components,
                   fit_seconds=round(fit_s, 1), table=table.reset_index().to_dict('records'),
                   **{k: ev[k] for k in ('kfd', 'swd', 'precision', 'recall')})
        (out/f'{key}-{n}.json').write_text(json.dumps(res, indent=1))
        print(key, n, f"components {res['components']}, {fit_s:.0f} s, " +
              ', '.join(f"{k} {ev[k]['mean']:.3f} [{ev[k]['lo']:.2f}, {ev[k]['hi']:.2f}]" for k in ('kfd', 'precision', 'recall')), flush=True)
