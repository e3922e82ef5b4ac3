"""Fuzz the command line: random flag combinations of every console script (`medvae-train`, `-eval`, `-phantom`,
`-compare`, `-fit-prior`, `-bench`, `-hires`) end in a one-line `error:` with exit code 2, or reach the work with arguments that passed every check; never in a traceback.

The parser and every check run as in the console script, in this process (a subprocess per case would spend its time
importing torch). The work itself (training, evaluating, writing knees, scoring) is replaced by a stub: the checks are
what is fuzzed, and `test_cli.py` runs the commands for real."""
import contextlib, functools, inspect, io, json, os, time
from collections import Counter
from pathlib import Path
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from fastcore.script import anno_parser
import medvae_nb.train as train
import medvae_nb.cli as cli, medvae_nb.compare as compare_mod, medvae_nb.evaluate as evaluate
import medvae_nb.bench as bench_mod, medvae_nb.hires as hires_mod
from medvae_nb.cli import medvae_train, medvae_eval, medvae_phantom, medvae_compare, medvae_fit_prior
from medvae_nb.bench import medvae_bench
from medvae_nb.hires import medvae_hires
from medvae_nb.core import sha256_file
from medvae_nb.shipped import pretrained_dir

N_CASES = int(os.environ.get("MEDVAE_FUZZ_CASES", 300)) # the seeded subset the suite runs; tools/fuzz_report.py runs 1000
N_OTHER = int(os.environ.get("MEDVAE_FUZZ_CASES_OTHER", 150)) # per console script besides medvae-train
PARAMS = inspect.signature(medvae_train.__wrapped__).parameters
CASES = Counter()

class Reached(Exception): "Training would start now."

@pytest.fixture(scope='module')
def paths(tmp_path_factory):
    "Files and folders a careless user might pass: missing, a file, empty, images, a finished and an unfinished run."
    from PIL import Image
    from medvae_nb.train import train_run
    d = tmp_path_factory.mktemp('fuzz')
    (d/'file.txt').write_text('not a folder'); (d/'empty').mkdir(); (d/'pngs').mkdir()
    for i in range(3): Image.fromarray(np.full((40, 40), 40 * i, np.uint8)).save(d/'pngs'/f'{i}.png')
    (d/'one').mkdir(); Image.fromarray(np.zeros((40, 40), np.uint8)).save(d/'one'/'a.png')
    run = train_run('vae', size=32, epochs=1, n=16, bs=8, out=d/'done', progress=False)
    (d/'half').mkdir(); (d/'half'/'train.json').write_text((run/'train.json').read_text())
    (d/'badjson').mkdir(); (d/'badjson'/'train.json').write_text('{')
    return d

PATHS = ['phantom', 'nope', 'file.txt', 'empty', 'pngs', 'one', 'done', 'half', 'badjson', '/proc/forbidden', '', 'é' * 128]
INTS = st.one_of(st.integers(-3, 70), st.sampled_from([0, 128, 1024, 4096, 2**31, 2**63, 2**70, -2**70]),
                 st.integers()).map(str) | st.sampled_from(['abc', '', '1.5', '1e3', '0x10', ' 7'])
SIZES = st.sampled_from(['32', '64', '48', '0', '-64', '1024', '2048', str(2**70), 'x'])
FLOATS = st.sampled_from(['0', '-1', 'nan', 'inf', '-inf', '1e-3', '0.3', '2', '1e308', 'abc', '']) | st.floats().map(repr)
HPARAMS = st.sampled_from(['sigma=0.03', 'sigma=abc', 'sigma=-1', 'beta=1e9', 'likelihood=nope', 'zdim=3', 'x', '=', 'k=', ',,',
                           'img_size=32', 'channels=0', 'K=0', 'beta=[1]', 'sigma=1e400', 'base=0', 'max_ch=0', 'prior_heads=3',
                           'beta_rec=-1', 'clip=0', 'm=-1', 'max_ch=4096,base=4096', 'D=0', 'stem=-4']) | st.text(max_size=12)
WORDS = st.sampled_from(['auto', 'bf16', 'fp16', 'fp32', 'fp8', 'folder', 'hdf5', 'dicom', 'kaggle', 'npy', 'manifest', 'nifti', '']) | st.text(max_size=6)
FLAGS = {'--model': st.sampled_from(['vae', 'svae', 'vpga', 'vqvae', 'introvae', 'softintrovae', 'nope', 'VAE', '']),
         '--data': st.sampled_from(PATHS), '--size': SIZES, '--epochs': INTS, '--bs': INTS, '--n': INTS, '--seed': INTS,
         '--lr': FLOATS, '--kl-warmup': FLOATS, '--precision': WORDS, '--zdim': INTS, '--hparams': HPARAMS, '--format': WORDS,
         '--key': WORDS, '--axis': INTS, '--n-slices': INTS, '--cache-dir': st.sampled_from(PATHS), '--accum': INTS,
         '--resume': st.sampled_from(PATHS), '--out': st.sampled_from(['new', 'file.txt', 'pngs', 'done', '/proc/forbidden', 'é' * 128]),
         '--init': st.sampled_from(['vae-64px', 'vqvae-256px', 'done', 'nope', 'é' * 128])}
SWITCHES = ['--skip-bad', '--bilateral', '--checkpointing', '--force']
ARGV = st.tuples(st.dictionaries(st.sampled_from(sorted(FLAGS)), st.none(), max_size=7), st.lists(st.sampled_from(SWITCHES), max_size=2),
                 st.data())

def _argv(keys, switches, data, d:Path, i:int)->list:
    argv = []
    for k in keys:
        v = data.draw(FLAGS[k], label=k)
        if k in ('--data', '--cache-dir', '--resume', '--out') and v not in ('phantom', '', '/proc/forbidden'):
            v = str(d/f'{v}{i}') if v == 'new' else str(d/v)
        argv += [k, v]
    return argv + switches

def _run(argv, script=medvae_train, prog='medvae-train')->tuple:
    "Parse and run `argv` as the console script would: (outcome, stderr)."
    err, params = io.StringIO(), inspect.signature(script.__wrapped__).parameters
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            parser = anno_parser(script.__wrapped__)
            parser.prog = prog
            args = vars(parser.parse_args(argv))
            script.__wrapped__(**{k: v for k, v in args.items() if k in params})
            return 'returned', err.getvalue()
        except Reached: return 'reached training', err.getvalue()
        except SystemExit as e: return f'exit {e.code}', err.getvalue()

@settings(max_examples=N_CASES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(spec=ARGV)
def test_train_flags_never_traceback(paths, monkeypatch_module, spec):
    keys, switches, data = spec
    argv = _argv(keys, switches, data, paths, sum(CASES.values()))
    _check_case(argv, CASES)

def _check_case(argv, cases, script=medvae_train, prog='medvae-train'):
    t0 = time.time()
    outcome, err = _run(argv, script, prog)
    cases[outcome] += 1
    assert time.time() - t0 < 20, f"{argv}: the checks took {time.time() - t0:.0f} s"
    lines = [l for l in err.strip().splitlines() if not l.startswith('warning:')]
    if outcome == 'exit 2': # argparse's usage lines, or none; one error line; for bad files, their list indented below it
        errors = [i for i, l in enumerate(lines) if l.startswith(f'{prog}: error: ')]
        assert len(errors) == 1, (argv, err)
        assert all(l.startswith(('usage:', ' ')) for l in lines[:errors[0]]), (argv, err)
        assert all(l.startswith('  ') for l in lines[errors[0] + 1:]), (argv, err)
    else: assert outcome in ('reached training', 'returned'), (argv, outcome, err)

@pytest.fixture(scope='module')
def monkeypatch_module(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.chdir(tmp_path_factory.mktemp('cwd')) # the default --out, runs/MODEL-SIZEpx-TIME, lands here, not in the repository
    def fake_train(out, args, resume=False, progress=True): raise Reached(args)
    mp.setattr(train, "_train", fake_train)
    yield mp
    mp.undo()
    print(f"\nCLI fuzz cases, medvae-train: {dict(CASES)}, {sum(CASES.values())} in all")
    assert sum(CASES.values()) >= N_CASES and CASES['reached training'] >= N_CASES // 50 and CASES['exit 2'] >= N_CASES // 2, dict(CASES)


# medvae-eval, medvae-phantom and medvae-compare: the same contract, with their own flags and stubs
SHIPPED = {f: sha256_file(f) for f in pretrained_dir().rglob('*') if f.is_file()}
OUTS = st.sampled_from(['new', 'file.txt', 'pngs', 'done', 'half', 'empty', '/proc/forbidden', '', 'PKG', 'SHIPPED', 'LONG'])
JSONS = st.sampled_from(['new.json', 'file.txt', 'empty', 'nope/x.json', '/proc/forbidden/x.json', '', 'LONG'])
MODELS = st.sampled_from(['all', 'vae', 'vae,svae', 'vqvae', 'nope', '', ',', 'VAE'])
OTHER = {
    'medvae-eval': (medvae_eval, {'--n': INTS, '--seed': INTS, '--out': OUTS},
                    st.sampled_from(['done', 'half', 'nope', 'file.txt', 'empty', 'vae-64px', 'vae', 'introvae-64px', 'vae-32px',
                                     'SHIPPED', '', '/proc/forbidden'])),
    'medvae-phantom': (medvae_phantom, {'--n': INTS, '--size': SIZES, '--seed': INTS, '--out': OUTS}, None),
    'medvae-compare': (medvae_compare, {'--models': st.sampled_from(['all', 'vae', 'vae,svae', 'nope', '', ',', 'vae,vae', 'VAE']),
                       '--size': SIZES, '--epochs': INTS, '--n': INTS, '--bs': INTS, '--out': OUTS, '--seed': INTS,
                       '--n-eval': INTS, '--seeds': st.sampled_from(['0', '0,1', '0,0', 'a', '', '-1', str(2**40)])}, None),
    'medvae-fit-prior': (medvae_fit_prior, {'--components': st.sampled_from(['1', '1,2', '64', '0', '-1', 'a', '', '1,,2', '65']),
                         '--seed': INTS, '--epochs': INTS, '--n': INTS}, st.sampled_from(['done', 'half', 'badjson', 'nope', 'file.txt',
                         'empty', 'vae-64px', 'SHIPPED', '', 'LONG'])),
    'medvae-bench': (medvae_bench, {'--model': MODELS, '--size': SIZES, '--steps': INTS, '--bs': INTS, '--block': INTS,
                     '--json': JSONS, '--threads': INTS}, None),
    'medvae-hires': (medvae_hires, {'--model': MODELS, '--size': SIZES, '--bs': INTS, '--accum': INTS, '--steps': INTS,
                     '--checkpointing': st.sampled_from(['both', 'on', 'off', 'x', '']), '--stem': INTS, '--json': JSONS}, None)}
OTHER_SWITCHES = {'medvae-eval': [], 'medvae-phantom': ['--force'], 'medvae-compare': ['--force', '--pretrained', '--resume', '--healthy-only'],
                  'medvae-fit-prior': [], 'medvae-bench': ['--checkpointing', '--compile', '--fuse', '--cpu-time', '--tune-malloc'],
                  'medvae-hires': []}
OTHER_CASES = {p: Counter() for p in OTHER}

def _path(v, d:Path, i:int)->str:
    if v in ('', '/proc/forbidden', 'vae-64px', 'vae', 'introvae-64px', 'vae-32px', 'nope'): return v
    return {'new': str(d/f'new{i}'), 'new.json': str(d/f'new{i}.json'), 'PKG': str(pretrained_dir()/f'x{i}'),
            'SHIPPED': str(pretrained_dir()/'vae-64px'), 'LONG': str(d/('é' * 128))}.get(v, str(d/v))

@pytest.fixture(scope='module')
def stub_work(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.chdir(tmp_path_factory.mktemp('cwd-other'))
    def reached(*a, **k): raise Reached()
    mp.setattr(evaluate, '_eval_into', reached) # medvae-eval: the checks, the lock, then this
    mp.setattr(cli, 'write_phantom', reached)
    mp.setattr(compare_mod, 'train_run', reached)
    mp.setattr(compare_mod, 'resume_run', reached)
    mp.setattr(compare_mod, 'score_models', reached)
    mp.setattr(train, 'fit_folder_prior', reached) # medvae-fit-prior: its checks and the run's lock, then this
    mp.setattr(bench_mod, 'bench', reached)
    mp.setattr(hires_mod, 'hires', reached)
    # loading and checking a model is tested where it is defined; here each is loaded once, so that 500 cases stay quick
    mp.setattr(compare_mod, 'load_pretrained', functools.lru_cache(maxsize=None)(compare_mod.load_pretrained))
    mp.setattr(evaluate, 'load_any', functools.lru_cache(maxsize=None)(evaluate.load_any))
    yield mp
    mp.undo()
    print(f"\nCLI fuzz cases: { {p: dict(c) for p, c in OTHER_CASES.items()} }")
    for prog, c in OTHER_CASES.items():
        if not c: continue # not selected in this session
        assert sum(c.values()) >= N_OTHER and c['reached training'] >= N_OTHER // 50 and c['exit 2'] >= N_OTHER // 4, (prog, dict(c))
    test_eq = {f: sha256_file(f) for f in pretrained_dir().rglob('*') if f.is_file()}
    assert test_eq == SHIPPED, 'a command changed or added a file in the shipped models' # nothing in the package was written

@pytest.mark.parametrize('prog', list(OTHER))
def test_other_scripts_never_traceback(paths, stub_work, prog):
    script, flags, positional = OTHER[prog]
    spec = st.tuples(st.dictionaries(st.sampled_from(sorted(flags)), st.none(), max_size=5),
                     st.lists(st.sampled_from(OTHER_SWITCHES[prog]), max_size=2, unique=True) if OTHER_SWITCHES[prog] else st.just([]), st.data())
    @settings(max_examples=N_OTHER, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(spec=spec)
    def case(spec):
        keys, switches, data = spec
        i = sum(OTHER_CASES[prog].values())
        argv = [] if positional is None else [_path(data.draw(positional, label='RUN'), paths, i)]
        for k in keys:
            v = data.draw(flags[k], label=k)
            argv += [k, _path(v, paths, i) if k in ('--out', '--json') else v]
        _check_case(argv + switches, OTHER_CASES[prog], script, prog)
    case()
