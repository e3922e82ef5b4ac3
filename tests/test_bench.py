"`medvae-bench` as a user runs it: a subprocess that prints the table and writes the JSON rows."
import json
from clirun import run

def test_bench_writes_rows(tmp_path):
    out = tmp_path/'bench.json'
    r = run('medvae-bench', '--model', 'vae', '--size', '32', '--steps', '2', '--block', '1', '--bs', '8', '--json', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert len(rows) == 1 and rows[0]['model'] == 'vae' and rows[0]['size'] == 32
    for k in ('learner_img_s', 'plain_img_s', 'naive_fp32_img_s', 'peak_rss_mb', 'loader_img_s'): assert rows[0][k] > 0, k
    assert '| vae | 32 |' in r.stdout # the printed table has the row

def test_bench_two_sizes_one_process_each(tmp_path):
    "Several rows: each is measured in a process of its own, so each peak memory is that row's."
    out = tmp_path/'bench.json'
    r = run('medvae-bench', '--model', 'vae', '--size', '32', '64', '--steps', '1', '--block', '1', '--bs', '4', '--json', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert [row['size'] for row in rows] == [32, 64]

def test_bench_unknown_model():
    r = run('medvae-bench', '--model', 'nope')
    assert r.returncode == 2 and 'known models: ' in r.stderr

def test_hires_writes_rows(tmp_path):
    "`medvae-hires`: one configuration, in a process of its own, printed and written as JSON."
    out = tmp_path/'hires.json'
    r = run('medvae-hires', '--model', 'vae', '--size', '32', '--bs', '2', '--steps', '1', '--checkpointing', 'on', '--json', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert [(x['model'], x['size'], x['checkpointing']) for x in rows] == [('vae', 32, True)]
    assert rows[0]['peak_rss_mb'] > 0 and rows[0]['gflop_per_img'] > 0
    assert '| vae | 32 |' in r.stdout

def test_hires_bad_flags(tmp_path):
    for flags, msg in ((('--accum', '3', '--bs', '4'), '--accum 3: must divide --bs 4'), (('--size', '100',), '--size 100: must be a power of two'),
                       (('--checkpointing', 'maybe'), '--checkpointing maybe: choose both, on or off'),
                       (('--steps', '0'), '--steps 0: must be from 1 to'), (('--json', str(tmp_path)), 'is a folder')):
        r = run('medvae-hires', *flags)
        assert r.returncode == 2 and msg in r.stderr, (flags, r.stderr[-500:])
