"""Fuzz the command line: random `medvae-train` flag combinations end in a one-line `error:` with exit code 2, or reach
training with arguments that passed every check; never in a traceback.

The parser and every check run as in the console script, in this process (a subprocess per case would spend its time
importing torch). Training itself is replaced by a stub: the checks are what is fuzzed, and `test_cli.py` trains for real."""
import contextlib, inspect, io, json, os, time
from collections import Counter
from pathlib import Path
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from fastcore.script import anno_parser
import medvae_nb.train as train
from medvae_nb.cli import medvae_train

N_CASES = int(os.environ.get("MEDVAE_FUZZ_CASES", 1000))
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

PATHS = ['phantom', 'nope', 'file.txt', 'empty', 'pngs', 'one', 'done', 'half', 'badjson', '/proc/forbidden', '']
INTS = st.one_of(st.integers(-3, 70), st.sampled_from([0, 128, 1024, 4096, 2**31, 2**63, 2**70, -2**70]),
                 st.integers()).map(str) | st.sampled_from(['abc', '', '1.5', '1e3', '0x10', ' 7'])
SIZES = st.sampled_from(['32', '64', '48', '0', '-64', '1024', '2048', str(2**70), 'x'])
FLOATS = st.sampled_from(['0', '-1', 'nan', 'inf', '-inf', '1e-3', '0.3', '2', '1e308', 'abc', '']) | st.floats().map(repr)
HPARAMS = st.sampled_from(['sigma=0.03', 'sigma=abc', 'sigma=-1', 'beta=1e9', 'likelihood=nope', 'zdim=3', 'x', '=', 'k=', ',,',
                           'img_size=32', 'channels=0', 'K=0', 'beta=[1]', 'sigma=1e400']) | st.text(max_size=12)
WORDS = st.sampled_from(['auto', 'bf16', 'fp16', 'fp32', 'fp8', 'folder', 'hdf5', 'dicom', 'kaggle', 'npy', 'manifest', 'nifti', '']) | st.text(max_size=6)
FLAGS = {'--model': st.sampled_from(['vae', 'svae', 'vpga', 'vqvae', 'introvae', 'nope', 'VAE', '']),
         '--data': st.sampled_from(PATHS), '--size': SIZES, '--epochs': INTS, '--bs': INTS, '--n': INTS, '--seed': INTS,
         '--lr': FLOATS, '--kl-warmup': FLOATS, '--precision': WORDS, '--zdim': INTS, '--hparams': HPARAMS, '--format': WORDS,
         '--key': WORDS, '--axis': INTS, '--n-slices': INTS, '--cache-dir': st.sampled_from(PATHS), '--accum': INTS,
         '--resume': st.sampled_from(PATHS), '--out': st.sampled_from(['new', 'file.txt', 'pngs', 'done', '/proc/forbidden'])}
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

def _run(argv)->tuple:
    "Parse and run `argv` as the console script would: (outcome, stderr)."
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            parser = anno_parser(medvae_train.__wrapped__)
            parser.prog = 'medvae-train'
            args = vars(parser.parse_args(argv))
            medvae_train.__wrapped__(**{k: v for k, v in args.items() if k in PARAMS})
            return 'returned', err.getvalue()
        except Reached: return 'reached training', err.getvalue()
        except SystemExit as e: return f'exit {e.code}', err.getvalue()

@settings(max_examples=N_CASES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(spec=ARGV)
def test_train_flags_never_traceback(paths, monkeypatch_module, spec):
    keys, switches, data = spec
    argv = _argv(keys, switches, data, paths, sum(CASES.values()))
    t0 = time.time()
    outcome, err = _run(argv)
    CASES[outcome] += 1
    assert time.time() - t0 < 20, f"{argv}: the checks took {time.time() - t0:.0f} s"
    lines = [l for l in err.strip().splitlines() if not l.startswith('warning:')]
    if outcome == 'exit 2': # argparse's usage lines, or none; one error line; for bad files, their list indented below it
        errors = [i for i, l in enumerate(lines) if l.startswith('medvae-train: error: ')]
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
    print(f"\nCLI fuzz cases: {dict(CASES)}, {sum(CASES.values())} in all")
    assert sum(CASES.values()) >= N_CASES and CASES['reached training'] >= N_CASES // 50 and CASES['exit 2'] >= N_CASES // 2, dict(CASES)
