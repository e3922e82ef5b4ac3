"The shipped models: each is intact, reconstructs as its card says, says in its card what its metrics.json says, and reaches a user by name."
import json, subprocess, sys, zipfile
from pathlib import Path
import pytest, torch
from medvae_nb.shipped import pretrained_models, pretrained_dir, load_pretrained, verify_checksums, CHECKED_FILES
from medvae_nb.release import model_card
from medvae_nb.phantom import KneePhantom
from medvae_nb.metrics import image_scores
from safetensors import safe_open

from clirun import run

SHIPPED = pretrained_models()

def test_models_ship():
    assert SHIPPED, f"no shipped models in {pretrained_dir()}"

@pytest.mark.parametrize('key', SHIPPED)
def test_intact_and_small(key):
    folder = verify_checksums(pretrained_dir()/key)
    for f in (*CHECKED_FILES, 'metrics.json', 'train.json', 'history.csv', 'README.md'): assert (folder/f).is_file(), f
    assert (folder/'model.safetensors').stat().st_size <= 10e6
    with safe_open(str(folder/'model.safetensors'), 'pt') as st:
        dtypes = {st.get_slice(k).get_dtype() for k in st.keys()}
    assert 'F16' in dtypes and 'F64' not in dtypes, dtypes

@pytest.mark.parametrize('key', SHIPPED)
def test_reconstructs_as_its_card_says(key):
    "Catches code changes that silently break old weights (renamed keys load with strict checks; changed maths shows here)."
    m = load_pretrained(key)
    ev = json.loads((pretrained_dir()/key/'metrics.json').read_text())['eval']
    x = torch.as_tensor(KneePhantom(m.img_size).generate(32, seed=ev['seed']).images)
    with torch.no_grad(): psnr = image_scores(m.reconstruct(x), x)['psnr'].mean().item()
    assert abs(psnr - ev['psnr_check']) < 0.5, (key, psnr, ev['psnr_check'])

@pytest.mark.parametrize('key', SHIPPED)
def test_card_says_what_metrics_say(key):
    folder = pretrained_dir()/key
    assert (folder/'README.md').read_text(encoding='utf-8') == model_card(folder), \
        f"{folder/'README.md'} differs from model_card({folder}): regenerate it from metrics.json"
    card = (folder/'README.md').read_text(encoding='utf-8')
    assert 'Synthetic phantom only, not for diagnosis' in card
    bullets = [l for l in card.splitlines() if l.startswith('- ')]
    assert len(bullets) == len(set(bullets)), f"{folder/'README.md'} repeats a line: {[l for l in bullets if bullets.count(l) > 1]}"

def test_unknown_name_lists_what_ships():
    with pytest.raises(ValueError, match='shipped: ' + SHIPPED[0]): load_pretrained('nope', size=64)

def test_eval_and_compare_take_shipped_names(tmp_path):
    key = SHIPPED[0]
    r = run('medvae-eval', key, '--n', '16', '--out', str(tmp_path/'ev'))
    assert r.returncode == 0, r.stderr
    assert 'psnr' in json.loads((tmp_path/'ev'/'metrics.json').read_text())
    assert not (pretrained_dir()/key/'figures').exists() # the package's own folder is never written to
    r = run('medvae-eval', 'no-such-model-64px')
    assert r.returncode == 2 and 'neither a model folder nor a shipped model' in r.stderr

def test_wheel_carries_the_models(tmp_path):
    "A non-editable install gets the models too: they are package data of the wheel."
    root = Path(__file__).parents[1]
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q', '-w', str(tmp_path), str(root)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    names = set(zipfile.ZipFile(next(tmp_path.glob('*.whl'))).namelist())
    for key in SHIPPED:
        for f in (*CHECKED_FILES, 'metrics.json', 'README.md', 'history.csv'): assert f'medvae_nb/pretrained/{key}/{f}' in names, f
