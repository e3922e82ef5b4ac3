"The evaluation and comparison console scripts end to end, at a tiny size."
import json, math
import pandas as pd
from clirun import run

EVAL_KEYS = ('psnr', 'ssim', 'swd', 'mig', 'dci_disentanglement', 'anomaly_pixel_auroc', 'anomaly_image_auroc')

def test_compare_all_models(tmp_path):
    "`medvae-compare` with no --models trains every variant: five rows in report.md, every figure written."
    out = tmp_path/'cmp'
    r = run('medvae-compare', '--size', '32', '--epochs', '1', '--n', '64', '--n-eval', '32', '--out', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    report = (out/'report.md').read_text()
    rows = [l for l in report.splitlines() if l.startswith('| ') and not l.startswith(('| model', '| ---'))]
    assert [l.split('|')[1].strip() for l in rows] == ['vae', 'svae', 'vpga', 'vqvae', 'introvae'], report
    header = [c.strip() for c in report.splitlines()[[l.startswith('| model') for l in report.splitlines()].index(True)].split('|')[1:-1]]
    cells = [[c.strip() for c in l.split('|')[1:-1]] for l in rows]
    for j, col in enumerate(header):
        if col in ('model', 'train_time_s'): continue
        if all(r[j] == '–' for r in cells): continue # a metric no model has (e.g. NLL without a likelihood model)
        assert any(r[j].startswith('**') for r in cells), f"no best value in bold in column {col}"
    df = pd.read_csv(out/'comparison.csv', index_col=0)
    assert len(df) == 5 and all(math.isfinite(v) for v in df['psnr'])
    for f in ('figures/recon.png', 'figures/samples.png'): assert (out/f).is_file(), f
    for m in df.index:
        for f in ('recon', 'samples', 'loss', 'traversals', 'interpolation', 'residuals'):
            assert (out/m/'figures'/f'{f}.png').is_file(), (m, f)
    # a second comparison into the same folder is refused and the report stays
    r = run('medvae-compare', '--models', 'vae', '--size', '32', '--epochs', '1', '--n', '64', '--out', str(out))
    assert r.returncode == 2 and 'already holds files' in r.stderr
    assert (out/'report.md').read_text() == report

def test_eval_run_folder(tmp_path):
    "`medvae-eval RUN` adds the evaluation keys to the run's metrics.json and keeps the training ones."
    out = tmp_path/'run'
    r = run('medvae-train', '--size', '32', '--epochs', '1', '--n', '64', '--out', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    before = json.loads((out/'metrics.json').read_text())
    r = run('medvae-eval', str(out), '--n', '32')
    assert r.returncode == 0, r.stderr[-3000:]
    metrics = json.loads((out/'metrics.json').read_text())
    for k in EVAL_KEYS: assert isinstance(metrics[k], float) and math.isfinite(metrics[k]), k
    assert metrics['train_time_s'] == before['train_time_s']
    r = run('medvae-eval', str(tmp_path/'nope'))
    assert r.returncode == 2 and 'nope' in r.stderr
