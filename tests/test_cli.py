"End-to-end: the console scripts run as a user runs them, in a subprocess."
import json
from pathlib import Path
import pytest, torch
from medvae_nb.core import load_model

from clirun import run

def test_train_writes_run_folder(tmp_path):
    out = tmp_path/'run'
    r = run('medvae-train', '--model', 'vae', '--size', '32', '--epochs', '1', '--n', '64', '--out', str(out))
    assert r.returncode == 0, r.stderr
    for f in ('config.json', 'model.safetensors', 'metrics.json', 'history.csv',
              'figures/recon.png', 'figures/samples.png', 'figures/loss.png'):
        assert (out/f).is_file(), f
    metrics = json.loads((out/'metrics.json').read_text())
    assert metrics['psnr'] > 5 and 0 < metrics['ssim'] <= 1
    model = load_model(out)
    x = torch.rand(4, 1, 32, 32)
    with torch.no_grad(): assert model.reconstruct(x).shape == x.shape
    # a second run into the same folder refuses, and leaves the first run's files alone
    before = (out/'model.safetensors').read_bytes()
    r = run('medvae-train', '--size', '32', '--epochs', '1', '--n', '64', '--out', str(out))
    assert r.returncode == 2 and 'already holds files' in r.stderr and '--force' in r.stderr
    assert (out/'model.safetensors').read_bytes() == before

@pytest.mark.parametrize('args,msg', [
    (['--model', 'nope'], "--model nope: unknown model 'nope'; known models: "),
    (['--size', '100'], '--size 100: must be a power of two'),
    (['--data', '/no/such/dir'], '--data /no/such/dir: no such file or folder'),
    (['--out', '/proc/forbidden'], '--out /proc/forbidden: cannot write there'),
    (['--precision', 'fp8'], '--precision fp8: choose one of auto, bf16, fp16, fp32'), # issue 18: checked before the run folder exists
    (['--seed', '-1'], '--seed -1: must be between 0 and'),
])
def test_train_bad_flags(args, msg, tmp_path):
    r = run('medvae-train', *args, cwd=tmp_path)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('medvae-train: error: ') and msg in lines[0], r.stderr
    assert not (tmp_path/'runs').exists() or not any((tmp_path/'runs').iterdir())

def test_train_empty_data(tmp_path):
    (tmp_path/'empty').mkdir()
    r = run('medvae-train', '--data', str(tmp_path/'empty'), '--out', str(tmp_path/'o'))
    assert r.returncode == 2 and 'folder is empty' in r.stderr

def test_phantom_is_deterministic(tmp_path):
    for d in ('a', 'b'):
        r = run('medvae-phantom', '--n', '4', '--size', '64', '--seed', '3', '--out', str(tmp_path/d))
        assert r.returncode == 0, r.stderr
    files = sorted(p.relative_to(tmp_path/'a') for p in (tmp_path/'a').rglob('*') if p.is_file())
    assert any(f.suffix == '.png' for f in files) and Path('factors.csv') in files
    for f in files: assert (tmp_path/'a'/f).read_bytes() == (tmp_path/'b'/f).read_bytes(), f
    r = run('medvae-phantom', '--n', '4', '--size', '64', '--out', str(tmp_path/'a'))
    assert r.returncode == 2 and 'already holds files' in r.stderr

def test_train_on_image_folder(tmp_path):
    "A user's own folder of PNGs (here written by medvae-phantom) trains like the phantom."
    r = run('medvae-phantom', '--n', '24', '--size', '64', '--out', str(tmp_path/'knees'))
    assert r.returncode == 0, r.stderr
    out = tmp_path/'run'
    r = run('medvae-train', '--data', str(tmp_path/'knees'/'images'), '--size', '32', '--epochs', '1', '--bs', '8', '--out', str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads((out/'train.json').read_text())['data'] == str(tmp_path/'knees'/'images')
    assert load_model(out).img_size == 32

def _one_error_line(r, prog):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith(f'{prog}: error: '), (r.returncode, r.stderr)
    return lines[0]

def test_force_keeps_user_files(tmp_path):
    "Issue 18, defect 1: --force removes what a run wrote, never the user's files (named in a warning)."
    u = tmp_path/'u'
    for f in ('figures/thesis_fig1.png', 'checkpoint/my_other.ckpt'): (u/f).parent.mkdir(parents=True, exist_ok=True); (u/f).write_text('x')
    r = run('medvae-train', '--size', '32', '--epochs', '1', '--n', '32', '--bs', '8', '--out', str(u), '--force')
    assert r.returncode == 0, r.stderr
    for f in ('figures/thesis_fig1.png', 'checkpoint/my_other.ckpt'): assert (u/f).read_text() == 'x', f
    assert 'keeps 2 file(s) that no run wrote: checkpoint/my_other.ckpt, figures/thesis_fig1.png' in r.stderr
    r = run('medvae-train', '--size', '32', '--epochs', '1', '--n', '32', '--bs', '8', '--out', str(u), '--force') # a run over a run
    assert r.returncode == 0 and (u/'figures'/'thesis_fig1.png').exists(), r.stderr

def test_train_single_file_and_retry(tmp_path):
    "Issue 18, defect 4: one image leaves no validation set: an error before training, and nothing left behind to --force."
    from PIL import Image
    import numpy as np
    (tmp_path/'one').mkdir(); Image.fromarray(np.full((40, 40), 99, np.uint8)).save(tmp_path/'one'/'a.png')
    line = _one_error_line(run('medvae-train', '--data', str(tmp_path/'one'), '--size', '32', '--out', str(tmp_path/'o')), 'medvae-train')
    assert 'leave none to validate on' in line and not (tmp_path/'o').exists()

def test_eval_unfinished_run_stays_resumable(tmp_path):
    "Issue 18, defect 3: medvae-eval refuses an unfinished run and leaves it resumable."
    out = tmp_path/'run'
    r = run('medvae-train', '--size', '32', '--epochs', '1', '--n', '32', '--bs', '8', '--out', str(out))
    assert r.returncode == 0, r.stderr
    (out/'metrics.json').unlink() # as if killed after its last epoch
    line = _one_error_line(run('medvae-eval', str(out), '--n', '8'), 'medvae-eval')
    assert 'the run is not finished' in line and not (out/'metrics.json').exists()
    r = run('medvae-train', '--resume', str(out))
    assert r.returncode == 0 and 'resumed at epoch 1' in r.stdout, r.stdout + r.stderr
    r = run('medvae-eval', str(out), '--n', '8') # defect 7: the documented minimum
    assert r.returncode == 0, r.stderr

def test_compare_checks_n_eval_first(tmp_path):
    line = _one_error_line(run('medvae-compare', '--models', 'vae', '--n-eval', '4', '--out', str(tmp_path/'c')), 'medvae-compare')
    assert '--n-eval 4: must be at least 8' in line and not (tmp_path/'c').exists()

@pytest.mark.parametrize('args,msg', [(['--size', '48'], '--size 48: must be a power of two'),
                                      (['--json', '/proc/x.json'], '--json /proc/x.json: cannot write there'),
                                      (['--threads', '0'], '--threads 0: must be from 1 to 1024')])
def test_bench_flags_checked_first(args, msg):
    assert msg in _one_error_line(run('medvae-bench', *args), 'medvae-bench')

def test_bench_json_keeps_other_files(tmp_path):
    "Issue 33: --json replaces an earlier benchmark's rows, never a file of another kind."
    (tmp_path/'notes.json').write_text('{"mine": 1}')
    line = _one_error_line(run('medvae-bench', '--json', str(tmp_path/'notes.json')), 'medvae-bench')
    assert 'exists and holds something other than benchmark rows' in line and (tmp_path/'notes.json').read_text() == '{"mine": 1}'

def test_shipped_model_folder_is_never_written(tmp_path):
    "Issue 33, defects 1, 2 and 9: following the project's own advice on a shipped model's folder changes nothing in the package."
    from medvae_nb.core import sha256_file
    from medvae_nb.shipped import pretrained_dir
    shipped = pretrained_dir()/'vae-64px'
    before = {f: sha256_file(f) for f in pretrained_dir().rglob('*') if f.is_file()}
    r = run('medvae-eval', str(shipped), '--n', '8', cwd=tmp_path) # evaluated like its name, into eval-vae-64px
    assert r.returncode == 0 and (tmp_path/'eval-vae-64px'/'metrics.json').is_file(), r.stderr
    assert 'inside the installed medvae_nb package' in _one_error_line(run('medvae-train', '--resume', str(shipped)), 'medvae-train')
    assert 'inside the installed medvae_nb package' in _one_error_line(
        run('medvae-compare', '--pretrained', '--models', 'vae', '--out', str(pretrained_dir()/'report')), 'medvae-compare')
    victim = tmp_path/'victim' # another run's folder: its scores and figures stay its own
    assert run('medvae-train', '--size', '32', '--epochs', '1', '--n', '32', '--bs', '8', '--out', str(victim)).returncode == 0
    mets = (victim/'metrics.json').read_text()
    assert "is another run's folder" in _one_error_line(run('medvae-eval', 'vae-64px', '--n', '8', '--out', str(victim)), 'medvae-eval')
    assert (victim/'metrics.json').read_text() == mets
    assert {f: sha256_file(f) for f in pretrained_dir().rglob('*') if f.is_file()} == before

def test_phantom_and_eval_bounds(tmp_path):
    "Issue 33, defects 6 and 7: counts and seeds are bounded before any work, in one line, leaving nothing behind."
    for args, msg in ((['--n', '2000000'], '--n 2000000: must be between 1 and 100000'), (['--seed', '-1'], '--seed -1: must be between 0')):
        assert msg in _one_error_line(run('medvae-phantom', *args, '--out', str(tmp_path/'p')), 'medvae-phantom')
        assert not (tmp_path/'p').exists()
    for args, msg in ((['--n', '8000'], '--n 8000: must be between 8 and 4096'), (['--seed', '-1'], '--seed -1: must be between 0')):
        assert msg in _one_error_line(run('medvae-eval', 'vae-64px', *args, '--out', str(tmp_path/'e')), 'medvae-eval')
        assert not (tmp_path/'e').exists()

def test_ctrl_c_is_one_line_and_resumable(tmp_path):
    "Ctrl-C during training: one line that says where and how to resume, exit code 130, and the run resumes."
    import signal, subprocess, time
    from clirun import BIN
    out = tmp_path/'run'
    # enough epochs that training is still running when the first checkpoint appears (a run keeps only its last two)
    p = subprocess.Popen([str(BIN/'medvae-train'), '--size', '32', '--epochs', '20', '--n', '64', '--bs', '8', '--out', str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) # as from a terminal, even under nohup
    t0 = time.time()
    while not any((out/'checkpoint').glob('epoch-*')) and time.time() - t0 < 300 and p.poll() is None: time.sleep(0.1)
    assert p.poll() is None, 'training ended before the first checkpoint was seen'
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    lines = err.strip().splitlines()
    assert p.returncode == 130 and len(lines) == 1, (p.returncode, err)
    assert lines[0].startswith('medvae-train: interrupted at epoch ') and f'resume with medvae-train --resume {out}' in lines[0], err
    r = run('medvae-train', '--resume', str(out))
    assert r.returncode == 0 and 'resumed at epoch' in r.stdout, r.stdout + r.stderr

def test_fit_prior(tmp_path):
    "Issue 30: medvae-train fits a prior on the run's codes; medvae-fit-prior fits it again; a shipped model's stays."
    from medvae_nb.core import load_model
    from medvae_nb.shipped import pretrained_dir
    out = tmp_path/'run'
    assert run('medvae-train', '--size', '32', '--epochs', '1', '--n', '40', '--bs', '8', '--out', str(out)).returncode == 0
    first = (out/'prior.json').read_text()
    r = run('medvae-fit-prior', str(out), '--components', '1,2')
    assert r.returncode == 0 and 'chose' in r.stdout, r.stderr
    assert (out/'prior.json').read_text() != first and load_model(out).sample(3, prior='fitted').shape == (3, 1, 32, 32)
    assert '--components' in _one_error_line(run('medvae-fit-prior', str(out), '--components', 'x'), 'medvae-fit-prior')
    assert "--epochs 2: only a VQ-VAE's prior" in _one_error_line(run('medvae-fit-prior', str(out), '--epochs', '2'), 'medvae-fit-prior')
    assert 'inside the installed medvae_nb package' in _one_error_line(run('medvae-fit-prior', str(pretrained_dir()/'vae-64px')), 'medvae-fit-prior')
    (out/'prior.json').write_text(first.replace('"vae"', '"svae"')) # another model's prior: refused before sampling
    r = run('medvae-eval', str(out), '--n', '8')
    assert r.returncode == 2 and 'prior.json: was fitted for a svae model' in r.stderr, r.stderr

def test_fit_prior_vqvae(tmp_path):
    "Issue 30: medvae-fit-prior trains a VQ-VAE's transformer prior again from fresh weights, on more phantom knees if asked."
    from medvae_nb.core import load_model
    out = tmp_path/'vq'
    assert run('medvae-train', '--model', 'vqvae', '--size', '32', '--epochs', '1', '--n', '32', '--bs', '8', '--out', str(out)).returncode == 0
    before = (out/'model.safetensors').read_bytes()
    r = run('medvae-fit-prior', str(out), '--epochs', '1', '--n', '48')
    assert r.returncode == 0 and 'trained the prior for 1 epoch on the code maps of 38 images' in r.stdout, r.stdout + r.stderr
    assert (out/'model.safetensors').read_bytes() != before and bool(load_model(out).prior_fitted)
    assert '--epochs 0: must be from 1' in _one_error_line(run('medvae-fit-prior', str(out), '--epochs', '0'), 'medvae-fit-prior')
    assert '--n 0' in _one_error_line(run('medvae-fit-prior', str(out), '--n', '0'), 'medvae-fit-prior')

def test_divergence_is_said_once_on_stderr(tmp_path):
    "A learning rate of 10 finishes, and says on stderr, once per finding and on one line each, that the run diverged."
    r = run('medvae-train', '--model', 'vae', '--size', '32', '--epochs', '2', '--n', '64', '--lr', '10', '--out', str(tmp_path/'r'))
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert any(l.startswith('medvae-train: warning: the r') and 'diverged' in l for l in lines), r.stderr
    assert len(lines) == len(set(lines)) and all(l.startswith('medvae-train: warning: ') for l in lines), r.stderr
    assert json.loads((tmp_path/'r'/'metrics.json').read_text())['divergence']
