"The evaluation and comparison console scripts end to end, at a tiny size."
import json, math, re
import pandas as pd
from clirun import run

EVAL_KEYS = ('psnr', 'ssim', 'swd', 'mig', 'dci_disentanglement', 'anomaly_pixel_auroc', 'anomaly_image_auroc')

def test_compare_all_models(tmp_path):
    "`medvae-compare` with no --models trains every variant: a row each (and one per fitted prior) in report.md, every figure written."
    out = tmp_path/'cmp'
    r = run('medvae-compare', '--size', '32', '--epochs', '1', '--n', '64', '--n-eval', '32', '--out', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    report = (out/'report.md').read_text()
    lines = report.splitlines()
    start = [l.startswith('| model') for l in lines].index(True)
    table = lines[start:start + [not l.startswith('|') for l in lines[start:]].index(True)] # the first table: reconstruction and samples
    header, rows = [c.strip() for c in table[0].split('|')[1:-1]], table[2:]
    fitted = lambda m: [m, f'{m} (fitted prior)'] # every run fits a prior on its codes; the VQ-VAE's own is already fitted
    assert [l.split('|')[1].strip() for l in rows] == [*fitted('vae'), *fitted('svae'), *fitted('vpga'), 'vqvae', *fitted('introvae'), *fitted('softintrovae')], report
    cells = [[c.strip() for c in l.split('|')[1:-1]] for l in rows]
    for j, col in enumerate(header):
        if col in ('model', 'train_time_s'): continue
        assert any(r[j].startswith('**') or r[j].endswith(' =') for r in cells), f"no best value (bold) or tie (=) in column {col}"
        assert all(re.fullmatch(r'\**-?[\d.e+-]+ \[-?[\d.e+-]+, -?[\d.e+-]+\]\**( =)?', r[j]) or (r[j] == '–' and 'fitted' in r[0] and col in ('psnr', 'psnr_clean', 'ssim'))
                   for r in cells), f"a value without its interval in {col}"
    for section in ('## Grading from few labels', '## Anomaly detection', '## Disentanglement', 'true factors + noise (ceiling)',
                    '| mean healthy knee |', '| pixels: PCA |'): assert section in report, section
    df = pd.read_csv(out/'comparison.csv', index_col=0)
    assert len(df) == 6 and all(math.isfinite(v) for v in df['psnr_mean'])
    for f in ('recon', 'samples', 'intervals', 'grading', 'anomaly_pr', 'anomaly_maps'): assert (out/'figures'/f'{f}.png').is_file(), f
    for m in df.index:
        for f in ('recon', 'samples', 'loss', 'traversals', 'interpolation', 'residuals'):
            assert (out/m/'figures'/f'{f}.png').is_file(), (m, f)
    # a second comparison into the same folder is refused and the report stays
    r = run('medvae-compare', '--models', 'vae', '--size', '32', '--epochs', '1', '--n', '64', '--out', str(out))
    assert r.returncode == 2 and 'already holds files' in r.stderr
    assert (out/'report.md').read_text() == report
    # --resume with the same flags keeps every finished run (nothing trains again) and writes the report again
    mtimes = {m: (out/m/'model.safetensors').stat().st_mtime_ns for m in df.index}
    r = run('medvae-compare', '--size', '32', '--epochs', '1', '--n', '64', '--n-eval', '32', '--out', str(out), '--resume')
    assert r.returncode == 0, r.stderr[-3000:]
    assert {m: (out/m/'model.safetensors').stat().st_mtime_ns for m in df.index} == mtimes
    assert '## Anomaly detection' in (out/'report.md').read_text()

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
