"""Sample a shipped VQ-VAE's transformer prior at several temperatures and score the samples as its card does (KFD,
SWD, precision and recall against the held-out knees), two sets of 256 against the two halves of 512 held-out knees.

    python tools/vq_temperature.py [SIZE]    # default 64: vqvae-64px
"""
import json, sys, time
import torch
from medvae_nb.shipped import load_pretrained
from medvae_nb.evaluate import heldout_knees, sample_scores

def sweep(size:int=64, temperatures=(1.0, 0.9, 0.8, 0.7, 0.6), n_sets:int=2, set_size:int=256, seed:int=10_000):
    m = load_pretrained('vqvae', size=size).eval()
    batch, _ = heldout_knees(m.img_size, 2 * set_size, seed)
    x = torch.as_tensor(batch.images, dtype=torch.float32)
    for t in temperatures:
        rows = []
        for s in range(n_sets):
            torch.manual_seed(seed + s); t0 = time.time()
            with torch.no_grad(): smp = torch.cat([m.sample(64, temperature=t).float() for _ in range(set_size // 64)])
            real = x[(s % 2) * set_size:][:set_size]
            rows.append(dict(sample_scores(real, smp, seed=s), seconds=time.time() - t0))
        yield dict(temperature=t, **{k: round(sum(r[k] for r in rows) / len(rows), 3) for k in rows[0]})

if __name__ == '__main__':
    torch.set_num_threads(1)
    for row in sweep(int(sys.argv[1]) if len(sys.argv) > 1 else 64): print(json.dumps(row), flush=True)
