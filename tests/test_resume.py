"Reliability end to end: a run killed with SIGKILL resumes exactly; a live run's folder is refused; pickles are refused."
import json, os, pickle, signal, subprocess, time
from pathlib import Path
import pandas as pd
import pytest
from safetensors.torch import load_file

from clirun import run, BIN

# 32 px, 256 knees, batch 8: 25 training batches an epoch, long enough to kill mid-epoch
ARGS = ['--model', 'vae', '--size', '32', '--epochs', '4', '--n', '256', '--bs', '8', '--seed', '3']

def _start(out):
    return subprocess.Popen([str(BIN/'medvae-train'), *ARGS, '--out', str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def _wait_for(cond, proc, timeout=300):
    t0 = time.time()
    while not cond():
        assert proc.poll() is None, f"the run ended early: {proc.communicate()}"
        assert time.time() - t0 < timeout, 'timed out'
        time.sleep(0.05)

def _epoch_rows(out): return list(pd.read_csv(out/'history.csv').epoch) if (out/'history.csv').exists() else []

def test_kill9_then_resume_matches_uninterrupted(tmp_path):
    killed, full = tmp_path/'killed', tmp_path/'full'
    p = _start(killed)
    _wait_for(lambda: (killed/'checkpoint'/'epoch-0001').is_dir(), p) # two epochs done: now in the middle of the third
    time.sleep(0.5)
    p.send_signal(signal.SIGKILL); p.communicate()
    assert p.returncode == -signal.SIGKILL
    done = _epoch_rows(killed)
    assert done in ([0, 1], [0, 1, 2]), done # the kill came mid-epoch: at most the running epoch is lost
    assert not (killed/'metrics.json').exists()
    assert (killed/'run.lock').exists() # the dead process's lock file stays; its flock is gone

    r = run('medvae-train', '--resume', str(killed))
    assert r.returncode == 0, r.stderr
    assert f'resumed at epoch {done[-1] + 1}' in r.stdout, r.stdout
    assert _epoch_rows(killed) == [0, 1, 2, 3] # every epoch once
    assert json.loads((killed/'metrics.json').read_text())['epochs_done'] == 4

    r = run('medvae-train', *ARGS, '--out', str(full))
    assert r.returncode == 0, r.stderr
    a, b = load_file(str(killed/'model.safetensors')), load_file(str(full/'model.safetensors'))
    diff = max((a[k] - b[k]).abs().max().item() for k in a)
    print(f"largest weight difference, resumed vs uninterrupted: {diff:.3g}")
    assert diff <= 1e-5, diff # bit-identical on one machine; the tolerance allows another BLAS thread schedule

    # resuming a finished run says so, exits 0 and changes nothing
    before = (killed/'metrics.json').read_bytes()
    r = run('medvae-train', '--resume', str(killed))
    assert r.returncode == 0 and 'already finished (4 epochs)' in r.stdout, (r.stdout, r.stderr)
    assert (killed/'metrics.json').read_bytes() == before

def test_live_run_folder_is_refused(tmp_path):
    busy = tmp_path/'busy'
    p = _start(busy)
    try:
        _wait_for(lambda: (busy/'train.json').exists(), p)
        for args in (['--out', str(busy), '--force'], ['--resume', str(busy)]):
            r = run('medvae-train', '--size', '32', '--epochs', '1', '--n', '32', *args)
            assert r.returncode == 2, (r.stdout, r.stderr)
            assert f'in use by a live run (pid {p.pid} on ' in r.stderr, r.stderr
        assert p.poll() is None # the live run goes on
    finally:
        p.kill(); p.communicate()
    # its process gone, the folder can be taken over
    r = run('medvae-train', '--size', '32', '--epochs', '1', '--n', '32', '--out', str(busy), '--force')
    assert r.returncode == 0, r.stderr
    assert _epoch_rows(busy) == [0]

class _Payload:
    def __reduce__(self): return (os.system, ('touch pwned',))

def test_pickle_model_is_refused(tmp_path):
    out = tmp_path/'run' # a run folder as someone might share it, with a pickle where the weights belong
    out.mkdir()
    (out/'config.json').write_text(json.dumps({'name': 'vae', 'img_size': 32}))
    (out/'model.safetensors').write_bytes(pickle.dumps(_Payload()))
    r = run('medvae-eval', str(out), '--n', '16', cwd=tmp_path)
    assert r.returncode == 2, r
    assert 'is a pickle (torch.save) file' in r.stderr and 'model.safetensors' in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr # one clear line, no traceback
    assert not (tmp_path/'pwned').exists() # nothing was unpickled
