"""Short IntroVAE probes at 64 px: train each setting on the same phantom knees, record the energies of every
training batch, and score the model's *own-prior* samples on 512 held-out knees (KFD, SWD, precision, recall).

    python tools/introvae_probes.py OUT [NAME ...]    # all probes, or the named ones, one after the other
    python tools/introvae_probes.py --report OUT DEST [FIG]  # OUT's probes into DEST/probes.csv (rows of the same names
                                                             # replaced) and their energies into DEST/FIG (kl_traces.png)

Each probe writes OUT/NAME.json (settings, per-epoch validation energies, scores) and OUT/NAME-trace.csv
(per-batch energies); OUT/probes.csv collects the scores. Results go to nbs/reports/introvae-probes/.
"""
import json, sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from fastai.callback.core import Callback
from medvae_nb.data import phantom_dls
from medvae_nb.introvae import IntroVAE, KLTrace
from medvae_nb.softintrovae import SoftIntroVAE
from medvae_nb.learner import vae_learner
from medvae_nb.evaluate import prior_scores
from medvae_nb.metrics import reconstruction_metrics

BASE = dict(n=1024, bs=32, epochs=8, lr=1e-3, sched='one_cycle', precision='auto', seed=0) # auto: bf16 where the CPU has it natively
SHIPPED = dict(beta=200., m=300., alpha=0.25)
PROBES = { # name: model keyword arguments and run settings that differ from BASE
    'shipped':        dict(kw=SHIPPED),
    'alpha1':         dict(kw={**SHIPPED, 'alpha': 1.0}),
    'alpha1-dec05':   dict(kw={**SHIPPED, 'alpha': 1.0, 'alpha_dec': 0.5}),
    'beta50-alpha05': dict(kw=dict(beta=50., m=100., alpha=0.5)),
    'warm-m-auto':    dict(kw=dict(beta=200., alpha=1.0, warmup_epochs=2), m_from_warmup=1.5),
    'warm-m-auto-seq': dict(kw=dict(beta=200., alpha=1.0, warmup_epochs=2, fresh_forward=True), m_from_warmup=1.5),
    'soft-neg128':    dict(cls=SoftIntroVAE, kw=dict(beta_rec=1., beta_kl=1., beta_neg=128., clip=None), lr=5e-4),
    'soft-rec8-neg512': dict(cls=SoftIntroVAE, kw=dict(beta_rec=8., beta_kl=1., beta_neg=512., clip=None), lr=5e-4),
    'soft-rec32-neg128-const': dict(cls=SoftIntroVAE, kw=dict(beta_rec=32., beta_kl=1., beta_neg=128., clip=None),
                                    lr=5e-4, sched='constant', epochs=16),
    'soft-rec64-neg64-const': dict(cls=SoftIntroVAE, kw=dict(beta_rec=64., beta_kl=1., beta_neg=64., clip=None),
                                   lr=5e-4, sched='constant', epochs=16),
    'soft-sigma003-neg32': dict(cls=SoftIntroVAE, kw=dict(beta_rec=555., beta_kl=1., beta_neg=32., clip=None), lr=5e-4),
    'soft-sigma003-neg8': dict(cls=SoftIntroVAE, kw=dict(beta_rec=555., beta_kl=1., beta_neg=8., clip=None), lr=5e-4),
    # third round: the second round's best recipe on the official constant schedule (the gap closed as one-cycle cooled)
    'b50-const':      dict(kw=dict(beta=50., m=100., alpha=0.5), lr=5e-4, sched='constant', epochs=12),
    'b50-a1-const':   dict(kw=dict(beta=50., m=100., alpha=1.0), lr=5e-4, sched='constant', epochs=12),
    'b50-warm-seq-2e-4': dict(kw=dict(beta=50., m=100., alpha=0.5, warmup_epochs=2, fresh_forward=True),
                              lr=2e-4, sched='constant', epochs=12),
    'b50-a075':       dict(kw=dict(beta=50., m=100., alpha=0.75)), # after the retrain: a harder push on KL(fake)
    'b50-a1':         dict(kw=dict(beta=50., m=100., alpha=1.0)),
    'const-2e-4':     dict(kw=dict(beta=200., alpha=1.0, warmup_epochs=2), m_from_warmup=1.5, lr=5e-4, sched='constant'),
    # fifth round (after the 2D toy): β_rec small enough that a sample's reconstruction part of the exponent is below 1,
    # a VAE warm start, β_neg set from the warm-up's KL(fake) so that the exponent starts near 5, the official update order
    'soft5-rec20': dict(cls=SoftIntroVAE, kw=dict(beta_rec=20., beta_kl=1., beta_neg=100., warmup_epochs=2, fresh_forward=True,
                        clip=None), from_warmup=dict(exponent=5.), lr=2e-4, sched='constant', epochs=12),
    'soft5-rec20-5e-4': dict(cls=SoftIntroVAE, kw=dict(beta_rec=20., beta_kl=1., beta_neg=100., warmup_epochs=2,
                             fresh_forward=True, clip=None), from_warmup=dict(exponent=5.), lr=5e-4, sched='constant', epochs=12),
    'intro5': dict(kw=dict(beta=20., m=100., alpha=1.0, warmup_epochs=2, fresh_forward=True, clip=None),
                   from_warmup=dict(m_plus=50., beta_ratio=1.75), lr=2e-4, sched='constant', epochs=12),
}

class FromWarmup(Callback):
    """After the model's warm-up epochs, set the game's weights from the last warm-up epoch's energies: Soft-IntroVAE's
    β_neg so that 2s·β_neg·KL(fake) = `exponent`; IntroVAE's margin m = KL(real) + `m_plus` and β so that
    β·SSE = `beta_ratio` × KL(real)."""
    order = 7
    def __init__(self, exponent=None, m_plus=None, beta_ratio=None): self.kw, self.done, self.rows = locals(), 0, []
    def after_loss(self):
        if self.training and not self.model.introspective:
            self.rows.append({k: self.loss_func.terms[k].item() for k in ('rec', 'kl_real', 'kl_fake')})
    def after_epoch(self):
        self.done += 1
        if self.done != self.model.warmup_epochs or not self.rows: return
        e = pd.DataFrame(self.rows[-max(1, len(self.rows) // self.done):]).mean()
        m, kw = self.model, self.kw
        if kw['exponent'] is not None: m.beta_neg = float(kw['exponent'] / (2 * m.scale * e.kl_fake))
        if kw['m_plus'] is not None: m.m = float(e.kl_real + kw['m_plus'])
        if kw['beta_ratio'] is not None: m.beta = float(kw['beta_ratio'] * e.kl_real / e.rec)
        print(f"  after warm-up: SSE {e.rec:.1f}, KL real {e.kl_real:.1f}, fake {e.kl_fake:.1f}; " +
              ', '.join(f"{k} = {getattr(m, k):.3g}" for k in ('beta_neg', 'm', 'beta') if hasattr(m, k)), flush=True)

class PriorEachEpoch(Callback):
    "Own-prior KFD, precision and recall of `n` samples after every epoch (`prior_scores`), with KL(fake) − KL(real)."
    order = 90
    def __init__(self, n:int=256): self.n, self.rows = n, []
    def after_epoch(self):
        m = self.learn.model; was = m.training
        r = prior_scores(m.eval(), self.n); m.train(was)
        v = dict(zip(self.recorder.metric_names[1:-1], map(float, self.recorder.values[-1])))
        self.rows.append(dict(epoch=self.epoch, kfd=r['kfd'], precision=r['precision'], recall=r['recall'],
                              gap=v.get('kl_fake', np.nan) - v.get('kl_real', np.nan), exp_elbo_fake=v.get('exp_elbo_fake', np.nan)))
        print('  ' + '  '.join(f'{k} {v:.3g}' for k, v in self.rows[-1].items()), flush=True)

class MarginFromWarmup(Callback):
    "After the model's warm-up epochs, set its margin to `factor` × the mean KL(real) of the last warm-up epoch."
    order = 7
    def __init__(self, factor:float): self.factor, self.done, self.kl = factor, 0, []
    def after_loss(self):
        if self.training and not self.model.introspective: self.kl.append(self.loss_func.terms['kl_real'].item())
    def after_epoch(self):
        self.done += 1
        if self.done == self.model.warmup_epochs and self.kl:
            n = max(1, len(self.kl) // self.done)
            self.model.m = float(self.factor * np.mean(self.kl[-n:]))
            print(f"  margin from warm-up: m = {self.model.m:.1f}")

def run_probe(name:str, out:Path):
    p = {**BASE, **PROBES[name]}
    torch.manual_seed(p['seed'])
    dls = phantom_dls(size=64, n=p['n'], bs=p['bs'], seed=p['seed'])
    model = p.get('cls', IntroVAE)(64, **p['kw'])
    trace = KLTrace()
    each = PriorEachEpoch()
    cbs = [trace, each] + ([MarginFromWarmup(p['m_from_warmup'])] if 'm_from_warmup' in p else []) + (
        [FromWarmup(**p['from_warmup'])] if 'from_warmup' in p else [])
    learn = vae_learner(dls, model, lr=p['lr'], precision=p['precision'], cbs=cbs)
    t0 = time.time()
    with learn.no_bar():
        if p['sched'] == 'one_cycle': learn.fit_one_cycle(p['epochs'], p['lr'])
        else: learn.fit(p['epochs'], p['lr'])
    minutes = (time.time() - t0) / 60
    m = learn.model.float().to(memory_format=torch.contiguous_format).eval()
    names = learn.recorder.metric_names[1:-1]
    valid = [dict(zip(names, map(float, v))) for v in learn.recorder.values]
    res = dict(name=name, settings={k: v for k, v in p.items() if k != 'cls'}, m=getattr(m, 'm', float('nan')), minutes=round(minutes, 1),
               valid=valid, per_epoch=each.rows, beta_neg=getattr(m, 'beta_neg', None), beta=getattr(m, 'beta', None),
               divergence=getattr(learn, 'divergence', []), nonfinite=getattr(learn, 'nonfinite', None),
               psnr=reconstruction_metrics(m, dls.valid)['psnr'], **prior_scores(m))
    (out/f'{name}.json').write_text(json.dumps(res, indent=1, default=str))
    trace.df.to_csv(out/f'{name}-trace.csv', index=False)
    torch.save(m.state_dict(), out/f'{name}.pt') # for a look at the samples; not committed
    return res

def report(out:Path, dest:Path, fig_name:str='kl_traces.png'):
    "A table of every finished probe (added to `dest/probes.csv`) and a figure of their per-batch energies, for `nbs/reports/`."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    dest.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(f.read_text()) for f in sorted(out.glob('*.json'))]
    fig, axs = plt.subplots(1, len(rows), figsize=(3.3 * len(rows), 3), sharey=True, squeeze=False)
    for ax, r in zip(axs[0], rows):
        tr = pd.read_csv(out/f"{r['name']}-trace.csv")
        for k in ('kl_real', 'kl_rec', 'kl_fake'): ax.plot(tr['epoch'], tr[k].rolling(5, min_periods=1).mean(), label=k)
        if 'beta_neg' not in r['settings']['kw']: ax.axhline(r['m'], ls=':', c='grey', label='m') # Soft-IntroVAE has no margin
        ax.set(title=r['name'], xlabel='epoch', yscale='log')
    axs[0][0].set_ylabel('nats per image (training batches)'); axs[0][0].legend(fontsize=7)
    fig.tight_layout(); fig.savefig(dest/fig_name, dpi=90); plt.close(fig)
    table = pd.DataFrame([dict(probe=r['name'], settings=', '.join(f'{k}={v}' for k, v in r['settings']['kw'].items()) +
                               (f", m = {r['settings']['m_from_warmup']} × warm-up KL(real)" if 'm_from_warmup' in r['settings'] else '') +
                               f", lr {r['settings']['lr']} {r['settings']['sched']}",
                               m=round(r['m'], 1), **{f'valid {k}': round(r['valid'][-1][k], 1) for k in ('kl_real', 'kl_rec', 'kl_fake')},
                               psnr=round(r['psnr'], 2), kfd=round(r['kfd'], 2), swd=round(r['swd'], 1),
                               precision=round(r['precision'], 3), recall=round(r['recall'], 3), minutes=r['minutes']) for r in rows])
    if (dest/'probes.csv').exists(): # earlier rounds' rows stay, unless a probe of the same name was run again
        old = pd.read_csv(dest/'probes.csv')
        table = pd.concat([old[~old['probe'].isin(table['probe'])], table], ignore_index=True)
    table.to_csv(dest/'probes.csv', index=False)
    return table

if __name__ == '__main__':
    if sys.argv[1] == '--report':
        print(report(Path(sys.argv[2]), Path(sys.argv[3]), *sys.argv[4:5]).to_string(index=False))
        sys.exit()
    out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    for name in sys.argv[2:] or list(PROBES):
        print(f"probe {name}", flush=True)
        r = run_probe(name, out)
        last = r['valid'][-1]
        print(f"  {r['minutes']} min  psnr {r['psnr']:.2f}  KL real/rec/fake {last['kl_real']:.0f}/{last['kl_rec']:.0f}/"
              f"{last['kl_fake']:.0f} (m {r['m']:.0f})  kfd {r['kfd']:.2f}  swd {r['swd']:.1f}  "
              f"P {r['precision']:.2f} R {r['recall']:.2f}", flush=True)
        rows = [json.loads(f.read_text()) for f in sorted(out.glob('*.json'))]
        pd.DataFrame([{k: r[k] for k in ('name', 'm', 'minutes', 'psnr', 'kfd', 'swd', 'precision', 'recall')} for r in rows]
                     ).to_csv(out/'probes.csv', index=False)
