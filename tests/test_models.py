"Every registered variant through the console script: a tiny run writes a run folder that load_model restores."
import json
import pytest, torch
from medvae_nb.core import load_model
from clirun import run

from medvae_nb.core import MODELS as REGISTRY, VARIANTS, import_variants
import_variants()
# every variant whose notebook has landed (the registry fills itself from the modules named in VARIANTS)
MODELS = [m for m in VARIANTS if m in REGISTRY]

@pytest.mark.parametrize('name', MODELS)
def test_train_every_model(name, tmp_path):
    out = tmp_path/name
    r = run('medvae-train', '--model', name, '--size', '32', '--epochs', '1', '--n', '32', '--out', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    metrics = json.loads((out/'metrics.json').read_text())
    assert metrics['nonfinite'] is None and metrics['psnr'] > 0
    model = load_model(out)
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        assert model.reconstruct(x).shape == x.shape
        assert model.sample(2).shape == x.shape
    for f in ('recon', 'samples', 'loss'): assert (out/'figures'/f'{f}.png').is_file()
