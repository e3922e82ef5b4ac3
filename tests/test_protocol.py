"The variants' shared contract at 64 px, for every registered model: forward, finite loss, backward, shapes, save/load."
import pytest, torch
from medvae_nb.core import MODELS, VARIANTS, import_variants, create_model, check_model, save_model, load_model

import_variants()
NAMES = [m for m in VARIANTS if m in MODELS]

def test_every_variant_registered():
    assert NAMES == ['vae', 'svae', 'vpga', 'vqvae', 'introvae', 'softintrovae']

@pytest.mark.parametrize('name', NAMES)
def test_protocol_64px(name, tmp_path):
    torch.manual_seed(0)
    model, x = create_model(name, 64), torch.rand(2, 1, 64, 64)
    losses = check_model(model.train(), x) # forward, finite scalar loss terms, encode/decode/sample shapes and ranges
    for ph in model.phases: # backward: each phase's term reaches its own parameters with finite gradients
        params = [p for p in ph.params(model) if p.requires_grad]
        grads = torch.autograd.grad(losses[ph.loss], params, retain_graph=True, allow_unused=True)
        got = [g for g in grads if g is not None]
        assert got and all(torch.isfinite(g).all() for g in got), (name, ph.name)
    model.eval()
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    assert type(loaded) is type(model)
    with torch.no_grad(): assert torch.equal(loaded.encode(x), model.encode(x))
    if name in ("vpga", "introvae", "softintrovae"): assert len(model.phases) >= 2
