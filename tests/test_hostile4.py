"""Hostile input, round four (issue 44): each defect the round found, as a test that failed before its fix.

Most run in this process, through the functions the console scripts call (a subprocess per case would spend its time
importing torch); `run` checks the few whose exit code is the point. The `--hparams` fuzz at the end builds, runs and
back-propagates every model whose hyper-parameters pass the checks."""
import json, math, os, shutil
from collections import Counter
from pathlib import Path
import numpy as np, pytest, torch
from hypothesis import given, settings, strategies as st, HealthCheck
from clirun import run
from medvae_nb.errors import UsageError
from medvae_nb.core import load_model, create_model, check_model_args, save_prior, attach_prior, GaussianMixture, MODELS, import_variants
from medvae_nb.shipped import load_pretrained, pretrained_dir
from medvae_nb.train import train_run, refit_prior, check_config, TrainConfig

import_variants()

@pytest.fixture(scope='module')
def done(tmp_path_factory):
    "A finished 32 px VAE run with its fitted prior; tests copy it before they change it."
    return train_run('vae', size=32, epochs=1, n=40, bs=8, out=tmp_path_factory.mktemp('h4')/'run', progress=False)

@pytest.fixture
def run_copy(done, tmp_path):
    shutil.copytree(done, tmp_path/'run')
    return tmp_path/'run'

def _prior_bytes(r:Path)->tuple: return (r/'prior.json').read_bytes(), (r/'prior.safetensors').read_bytes()

def test_fit_prior_never_loses_the_prior(run_copy, monkeypatch):
    "Defect 1: a refit that fails, for any reason, leaves the working prior as it was."
    before = _prior_bytes(run_copy)
    with pytest.raises(UsageError, match='fewer than 16'): refit_prior(run_copy, knees=10)
    assert _prior_bytes(run_copy) == before
    import medvae_nb.train as train
    def killed(*a, **k): raise KeyboardInterrupt # a kill in the middle of the fit
    monkeypatch.setattr(train, 'fit_latent_prior', killed)
    with pytest.raises(KeyboardInterrupt): refit_prior(run_copy)
    assert _prior_bytes(run_copy) == before and load_model(run_copy).fitted_prior is not None

def test_prior_pair_is_checked(run_copy):
    "A prior.safetensors from another fit of the same model (or a pair cut between its two writes) is refused."
    m = load_model(run_copy)
    other = run_copy.parent/'other'; shutil.copytree(run_copy, other)
    p = m.fitted_prior
    attach_prior(m, GaussianMixture(p.weights, p.means + 0.1, p.scale_tril)); save_prior(m, other)
    shutil.copy(other/'prior.safetensors', run_copy/'prior.safetensors')
    with pytest.raises(ValueError, match='is not the file'): load_model(run_copy)
    assert load_model(other).fitted_prior is not None

def test_prior_with_huge_values_is_refused(run_copy):
    "Defect 13: a Cholesky diagonal of 1e30 is finite, and sampled all-NaN images; now the file is refused."
    m = load_model(run_copy); p = m.fitted_prior
    attach_prior(m, GaussianMixture(p.weights, p.means, p.scale_tril * 1e30)); save_prior(m, run_copy)
    with pytest.raises(ValueError, match='holds values up to'): load_model(run_copy)

def test_fit_prior_components_and_names(run_copy):
    "Defect 3 and smaller ones: more components than codes, a shipped model's name, --components for a VQ-VAE."
    with pytest.raises(UsageError, match=r'^--components 64: .*Ask for at most'): refit_prior(run_copy, components=(64,))
    with pytest.raises(UsageError, match='is a shipped model'): refit_prior('vae-64px')
    vq = dict(json.loads((run_copy/'train.json').read_text()), model='vqvae')
    (run_copy/'train.json').write_text(json.dumps(vq))
    with pytest.raises(UsageError, match="^--components: a vqvae's prior is a transformer"): refit_prior(run_copy, components=(1, 2))

@pytest.mark.parametrize('field,value,msg', [('size', 48, '--size 48'), ('bs', 0, '--bs 0'), ('n', 10**12, '--n'),
                                             ('model', 'nope', 'nope'), ('epochs', 'x', 'epochs')])
def test_fit_prior_checks_train_json(run_copy, field, value, msg):
    "Defect 4: an edited train.json fails in one line, as --resume's checks fail it."
    cfg = json.loads((run_copy/'train.json').read_text()); cfg[field] = value
    (run_copy/'train.json').write_text(json.dumps(cfg))
    with pytest.raises(UsageError, match=f'^RUN {run_copy}: train.json: .*{msg}'): refit_prior(run_copy)

def test_fit_prior_cache_dir_replaced_by_a_file(run_copy, tmp_path):
    cfg = json.loads((run_copy/'train.json').read_text()); cfg['cache_dir'] = str(tmp_path/'cache')
    (tmp_path/'cache').write_text('a file where a folder was'); (run_copy/'train.json').write_text(json.dumps(cfg))
    with pytest.raises(UsageError, match='cache'): refit_prior(run_copy)

def test_compare_refuses_a_run_folder(run_copy):
    "Defect 2: compare --pretrained --out RUN --force would overwrite the run's figures."
    from medvae_nb.compare import compare_pretrained
    figs = {p.name: p.read_bytes() for p in (run_copy/'figures').iterdir()}
    with pytest.raises(UsageError, match="training run's folder"): compare_pretrained(['vae'], out=run_copy, force=True)
    assert figs == {p.name: p.read_bytes() for p in (run_copy/'figures').iterdir()}

def test_eval_refuses_a_folder_inside_a_run(run_copy):
    from medvae_nb.evaluate import eval_run
    with pytest.raises(UsageError, match='lies inside the run folder'): eval_run(run_copy, n=8, out=run_copy/'figures')

@pytest.mark.parametrize('model,kw,msg', [
    ('vae', dict(base=0), 'base=0 must be an integer from 1'), ('vae', dict(max_ch=0), 'max_ch=0'),
    ('svae', dict(channels=0), 'channels=0'), ('vqvae', dict(D=0), 'D=0'), ('vqvae', dict(K=0), 'K=0'),
    ('vae', dict(stem=-4), 'stem=-4 must be an integer from 1 to 8'),
    ('vqvae', dict(prior_heads=3), 'divisible by prior_heads=3'), ('vqvae', dict(prior_heads=0), 'prior_heads=0'),
    ('vqvae', dict(prior_dim=1), 'prior_dim=1'), ('vqvae', dict(prior_dim=3), 'divisible'),
    ('vae', dict(zdim=65537), 'zdim=65537 must be an integer from 1 to 4096'),
    ('softintrovae', dict(beta_rec=-1.), 'beta_rec=-1.0 must be above 0'), ('softintrovae', dict(beta_kl=-5.), 'beta_kl'),
    ('softintrovae', dict(clip=-1.), 'clip'), ('softintrovae', dict(clip=0.), 'clip=0.0'), ('softintrovae', dict(logvar_limit=-1.), 'logvar_limit'),
    ('introvae', dict(m=-1.), 'm=-1.0'), ('introvae', dict(alpha=-1.), 'alpha=-1.0'), ('vae', dict(beta=-1.), 'beta=-1.0 must be at least 0'),
    ('vae', dict(base=4096, max_ch=4096), 'parameters'),
])
def test_hparams_checked_before_anything_is_written(tmp_path, model, kw, msg):
    "Defects 6, 7, 8, 10, 15: refused in one line before a folder is made, instead of a crash at the first batch or after training."
    with pytest.raises(UsageError, match=msg): train_run(model, size=32, epochs=1, n=16, bs=8, out=tmp_path/'r', model_kw=kw, progress=False)
    assert not (tmp_path/'r').exists()

def test_init_that_does_not_fit_the_size(tmp_path):
    "Defect 9: --init vqvae-256px --size 64 is the one-line 'does not fit', not a traceback."
    with pytest.raises(UsageError, match='^--init vqvae-256px: its weights do not fit a model at --size 64'):
        train_run('vqvae', size=64, epochs=1, n=16, out=tmp_path/'r', init='vqvae-256px', progress=False)

def test_accum_longer_than_an_epoch(tmp_path):
    "Defect 14: --accum above the batches of an epoch never stepped the optimiser and exited 0."
    with pytest.raises(UsageError, match='^--accum 8: more than the 2 training batch'):
        train_run('vae', size=32, epochs=1, n=40, bs=16, accum=8, out=tmp_path/'r', progress=False)
    assert not (tmp_path/'r').exists()

def test_sampling_temperature_and_edges():
    "Defect 12 and smaller ones: the fitted prior's temperature, zero samples, a VQ-VAE at temperature 0, a key and a size that disagree."
    m = load_pretrained('vae', 64)
    torch.manual_seed(0); z1 = m.fitted_latents(16)
    torch.manual_seed(0); z0 = m.fitted_latents(16, temperature=0.)
    torch.manual_seed(0); zh = m.fitted_latents(16, temperature=0.5)
    means = m.fitted_prior.means
    assert torch.cdist(z0, means).min(1).values.max() < 1e-5 # every draw at a component's mean
    assert torch.allclose(zh, z0 + 0.5 * (z1 - z0), atol=1e-5) # halfway to the T = 1 draw, from its component's mean
    torch.manual_seed(0); a = m.fitted_prior.sample(16)
    torch.manual_seed(0); assert torch.equal(a, m.fitted_prior.dist.sample((16,))) # T = 1: the mixture's own draws, as before
    assert m.sample(0, prior='fitted').shape == (0, 1, 64, 64)
    with pytest.raises(ValueError, match='temperature'): m.sample(2, temperature=-1., prior='fitted')
    q = load_pretrained('vqvae', 64)
    a, b = q.sample(2, temperature=0), q.sample(2, temperature=0)
    assert torch.isfinite(a).all() and torch.equal(a, b) # the likeliest codes: no randomness
    with pytest.raises(ValueError, match="is the 256 px model"): load_pretrained('vae-256px', size=64)
    assert load_pretrained('vae-256px').img_size == 256

def test_explorer_bounds():
    from medvae_nb.explore import LatentExplorer
    for kw in (dict(n_sliders=-1), dict(size=0), dict(n_phantoms=0)):
        with pytest.raises(ValueError, match=next(iter(kw))): LatentExplorer('vae-64px', **kw)

def _err(capsys, script, prog:str, **flags)->str:
    "Call the console script's function in this process as its command line would: one line on stderr, exit code 2."
    with pytest.raises(SystemExit) as e: script(**flags)
    lines = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(lines) == 1 and lines[0].startswith(f'{prog}: error: '), (e.value.code, lines)
    return lines[0]

def test_cli_exit_codes(tmp_path, capsys):
    "Defects 5, 11, 16 and --pretrained's ignored flags, through the console scripts: one line, exit code 2."
    from medvae_nb.cli import medvae_phantom, medvae_train, medvae_compare, medvae_eval
    from medvae_nb.bench import medvae_bench
    from medvae_nb.hires import medvae_hires
    long = str(tmp_path/'x') + '/' + 'é' * 128 # 256 bytes: one more than a name may have
    assert '--out' in _err(capsys, medvae_phantom, 'medvae-phantom', out=long)
    assert '--cache-dir' in _err(capsys, medvae_train, 'medvae-train', cache_dir=long, out=str(tmp_path/'r'))
    assert '--out' in _err(capsys, medvae_eval, 'medvae-eval', run='vae-64px', out=long)
    assert '--threads 100000: must be from 1 to 1024' in _err(capsys, medvae_bench, 'medvae-bench', threads=100000)
    assert '--json' in _err(capsys, medvae_bench, 'medvae-bench', json=long + '.json')
    assert '--stem 8: --model vqvae at --size 64' in _err(capsys, medvae_hires, 'medvae-hires', size=[64], model='vqvae', stem=8)
    assert '--epochs: applies to a comparison that trains' in _err(capsys, medvae_compare, 'medvae-compare', pretrained=True, epochs=9)
    assert not any(tmp_path.iterdir())
    r = run('medvae-bench', '--threads', '100000') # was a segmentation fault: the one case run as a subprocess
    assert r.returncode == 2 and '--threads 100000' in r.stderr, r.stderr

# --hparams fuzz: random values for every model's hyper-parameters; each case is refused in one line or trains
N_HPARAMS = int(os.environ.get('MEDVAE_FUZZ_HPARAMS', 20)) # per model
HP_CASES = {}

@pytest.fixture(scope='module')
def hp_counts():
    yield HP_CASES
    if HP_CASES: print(f"\n--hparams fuzz cases: { {m: dict(c) for m, c in HP_CASES.items()} }")
VALUES = st.one_of(st.sampled_from([0, -1, 1, 2, 3, 4, 7, 8, 16, 64, 4096, 65537, 2**40]),
                   st.sampled_from([0., -1., 1e-9, 0.5, 1., 2., 1e9, math.inf, math.nan]), st.booleans(),
                   st.sampled_from(['gaussian', 'bernoulli', 'nope', '']))

@pytest.mark.parametrize('model', ['vae', 'svae', 'vpga', 'vqvae', 'introvae', 'softintrovae'])
@settings(max_examples=N_HPARAMS, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_hparams_fuzz(model, data, hp_counts):
    import inspect
    count = hp_counts.setdefault(model, Counter())
    names = [k for k in inspect.signature(MODELS[model].__init__).parameters if k not in ('self', 'img_size', 'checkpointing')]
    kw = data.draw(st.dictionaries(st.sampled_from(names), VALUES, min_size=1, max_size=3))
    try: check_config(TrainConfig(model=model, size=32, model_kw=kw))
    except UsageError as e:
        assert str(e).startswith('--') and '\n' not in str(e), e
        count['refused'] += 1
        return
    m = create_model(model, 32, **kw)
    if sum(p.numel() for p in m.parameters()) > 20_000_000: count['passed, too big to run here'] += 1; return
    x = torch.rand(4, 1, 32, 32)
    out = m(x); loss = m.loss(x, out)
    total = loss['loss'] if isinstance(loss, dict) else loss
    assert torch.isfinite(total), (kw, total)
    total.backward()
    count['trained a step'] += 1
