"Data-parallel training with two CPU processes on loopback (gloo), started by torchrun as a user starts them."
import json, os, subprocess, sys
from pathlib import Path
import pytest, torch
from safetensors.torch import load_file

from clirun import BIN

WORKER = '''
import json, os, sys, torch
from pathlib import Path
from fastai.callback.core import Callback
from safetensors.torch import save_file
from medvae_nb.core import create_model
from medvae_nb.data import ArrayDataset, make_dls
from medvae_nb.learner import vae_learner
from medvae_nb.distributed import data_parallel

out, name, rank = Path(sys.argv[1]), sys.argv[2], int(os.environ['RANK'])
n, size = 64, 32
images = (torch.arange(n).float() / n).view(n, 1, 1, 1).expand(n, 1, size, size).contiguous() # image i is the constant i/n
torch.manual_seed(100 + rank) # different initial weights on purpose: training must start from rank 0's

class Seen(Callback):
    "Record the indices of the training images of every batch."
    def before_fit(self): self.seen = []
    def before_batch(self):
        if self.training: self.seen.append([self.epoch, (self.xb[0][:, 0, 0, 0].float() * n).round().long().tolist()])

seen = Seen()
learn = vae_learner(make_dls(ArrayDataset(images[:48]), ArrayDataset(images[48:]), bs=8), create_model(name, size), cbs=[seen])
with data_parallel(learn), learn.no_bar(), learn.no_logging(): learn.fit(2, 1e-3)
model = learn.model.float().to(memory_format=torch.contiguous_format)
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out/f'rank{rank}.safetensors'))
(out/f'seen{rank}.json').write_text(json.dumps(seen.seen))
(out/f'values{rank}.json').write_text(json.dumps([[float(v) for v in row] for row in learn.recorder.values]))
'''

def torchrun(*args, **kw):
    "Run `args` as two processes on this machine under torchrun (gloo on loopback)."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.run([str(BIN/'torchrun'), '--standalone', '--nproc-per-node', '2', '--no-python', '--', *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env, **kw)

@pytest.mark.parametrize('name', ['vae', 'vpga']) # one phase; two phases, each with its own backward pass
def test_two_processes_identical_weights_disjoint_halves(tmp_path, name):
    (tmp_path/'worker.py').write_text(WORKER)
    r = torchrun(sys.executable, tmp_path/'worker.py', tmp_path, name)
    assert r.returncode == 0, r.stderr[-3000:]
    w0, w1 = (load_file(str(tmp_path/f'rank{i}.safetensors')) for i in (0, 1))
    assert w0.keys() == w1.keys()
    for k in w0: assert torch.equal(w0[k], w1[k]), f"{k} differs between the ranks"
    seen = [json.loads((tmp_path/f'seen{i}.json').read_text()) for i in (0, 1)]
    for epoch in (0, 1):
        halves = [sorted(i for e, b in s for i in b if e == epoch) for s in seen]
        assert len(halves[0]) == len(halves[1]) == 24, halves # 48 training images, 3 batches of 8 on each rank
        assert not set(halves[0]) & set(halves[1]), "the ranks saw the same images"
        assert sorted(halves[0] + halves[1]) == list(range(48)), "together the ranks saw the whole epoch"
    # validation: each rank computed its half; after the all-reduce both log the mean over all 16 images
    v0, v1 = (json.loads((tmp_path/f'values{i}.json').read_text()) for i in (0, 1))
    assert [r[1:] for r in v0] == [r[1:] for r in v1], (v0, v1)

def accelerate_launch(*args, **kw):
    "Run the script `args` as two processes under `accelerate launch` (its multi-process launcher, which also serves CPUs)."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.run([str(BIN/'accelerate'), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1',
                           '--mixed_precision', 'no', '--dynamo_backend', 'no', *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env, **kw)

@pytest.mark.parametrize('launch', [torchrun, accelerate_launch])
def test_medvae_train_under_a_launcher(tmp_path, launch):
    "The documented launches: two processes train; only rank 0 writes the run folder, and it is complete."
    out = tmp_path/'run'
    r = launch(BIN/'medvae-train', '--size', '32', '--epochs', '1', '--n', '64', '--bs', '8', '--out', out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    for f in ('config.json', 'model.safetensors', 'metrics.json', 'history.csv', 'train.json', 'figures/recon.png'):
        assert (out/f).is_file(), f
    assert json.loads((out/'metrics.json').read_text())['processes'] == 2
    assert r.stdout.count('run folder:') == 1, r.stdout # rank 0 reports, rank 1 is quiet
    assert sorted(p.name for p in tmp_path.iterdir()) == ['run'], "rank 1 wrote nothing anywhere"
