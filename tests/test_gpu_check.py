"The GPU check script in its dry mode: every step runs on this machine's device at toy sizes and lands in one JSON file."
import json, subprocess, sys, os
from pathlib import Path

ROOT = Path(__file__).parents[1]

def test_gpu_check_dry(tmp_path):
    out = tmp_path/'check.json'
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}") # this venv's python3 and console scripts
    r = subprocess.run(['bash', str(ROOT/'tools'/'gpu_check.sh'), '--dry', '--out', str(out)], capture_output=True, text=True,
                       timeout=600, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res['dry'] and res['torch']
    assert {k: v['exit_code'] for k, v in res['steps'].items()} == {'bench-32': 0, 'hires-stem4': 0, 'train': 0}, res['steps']
    assert sorted((row['model'], row['size']) for row in res['bench']) == [('introvae', 32), ('vae', 32)]
    assert all(row['learner_img_s'] > 0 for row in res['bench'])
    assert sorted((row['model'], row['size'], row['stem']) for row in res['hires']) == [('introvae', 32, 4), ('vae', 32, 4)]
    assert all(row['img_s'] > 0 for row in res['hires'])
    assert res['train']['finished'] and len(res['train']['history']) == 1

def test_gpu_check_bad_flag(tmp_path):
    r = subprocess.run(['bash', str(ROOT/'tools'/'gpu_check.sh'), '--wheels', str(tmp_path/'nowhere')], capture_output=True, text=True)
    assert r.returncode == 2 and '--wheels' in r.stderr and 'no such folder' in r.stderr
