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
    (['--model', 'nope'], '--model nope: unknown model; known models: '),
    (['--size', '100'], '--size 100: must be a power of two'),
    (['--data', '/no/such/dir'], '--data /no/such/dir: no such file or folder'),
    (['--out', '/proc/forbidden'], '--out /proc/forbidden: cannot write there'),
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
