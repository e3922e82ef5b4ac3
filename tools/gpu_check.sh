#!/usr/bin/env bash
# The GPU check: everything a short loan of a CUDA machine should measure, in one run that writes one JSON file.
#
#   1. installs the project (its missing dependencies from --wheels: a GPU machine may have no package index);
#   2. runs the tests that drive the device code (every model through medvae-train, the protocol at 64 px);
#   3. benches all five models at 256 px (batch 32) and 1024 px (batch 4), bf16 and channels-last as the learner
#      picks them, with torch.compile off and (256 px) on;
#   4. measures the 256 px models as they ship, with the backbone's stem of 4 (`03_backbone`): images per second,
#      GFLOP per image and peak memory of every model's training step (medvae-hires, batch 32);
#   5. trains the IntroVAE at 256 px with the stem of 4 for two minutes and keeps its per-epoch history.
#
# Each step has its own time limit, so the whole check ends within 9 minutes; a step that fails or runs out of
# time is recorded as such (the bench keeps the rows it finished), and the JSON is written all the same.
#
# Usage: tools/gpu_check.sh [--dry] [--out FILE] [--wheels DIR]
#   --dry        the same steps on whatever device there is, at toy sizes (32 px, 2 steps, one short epoch) and
#                without the tests and torch.compile: what CI runs (tests/test_gpu_check.py), in about a minute
#   --out FILE   the JSON file to write (default: gpu_check.json)
#   --wheels DIR install the dependencies the machine lacks from this folder of wheels, with no network
set -uo pipefail
cd "$(dirname "$0")/.."
dry=0; out=gpu_check.json; wheels=
while [ $# -gt 0 ]; do
  case "$1" in
    --dry) dry=1; shift;;
    --out) out=${2:?--out needs a file name}; shift 2;;
    --wheels) wheels=${2:?--wheels needs a folder}; shift 2;;
    *) echo "gpu_check.sh: error: unknown argument $1 (known: --dry, --out FILE, --wheels DIR)" >&2; exit 2;;
  esac
done
if [ -n "$wheels" ] && [ ! -d "$wheels" ]; then echo "gpu_check.sh: error: --wheels $wheels: no such folder" >&2; exit 2; fi
if [ -e "$out" ] && [ -d "$out" ]; then echo "gpu_check.sh: error: --out $out: is a folder" >&2; exit 2; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export PYTHONUNBUFFERED=1
log() { echo "[gpu_check $(date +%T)] $*" >&2; }
step() { # step NAME SECONDS COMMAND...: run with a time limit; its exit code lands in $work/NAME.rc
  local name=$1 secs=$2; shift 2
  log "$name (at most $secs s): $*"
  timeout -s INT -k 10 "$secs" "$@" >"$work/$name.log" 2>&1; echo $? >"$work/$name.rc"
  log "$name: exit $(cat "$work/$name.rc")"
}

if [ "$dry" = 1 ]; then # the environment is the caller's (CI's): nothing to install, the tests run elsewhere
  sizes=(32); bs_of=(8); steps=2; compile_sizes=(); models=vae,introvae; bench_secs=240
  hires_args=(--model vae,introvae --size 32 --bs 8 --steps 1); hires_secs=240
  train_size=32; train_secs=240; train_args=(--n 64 --bs 8 --epochs 1)
else
  # 1. install
  if [ -n "$wheels" ]; then step wheels 60 python3 -m pip install -q --no-index --no-deps --no-compile "$wheels"/*.whl; fi
  step install 60 python3 -m pip install -q --no-deps --no-build-isolation -e .
  # 2. the tests that drive the device code
  step tests 80 python3 -m pytest -q -x -p no:cacheprovider tests/test_models.py tests/test_protocol.py
  sizes=(256 1024); bs_of=(32 4); steps=10; compile_sizes=(256); models=all; bench_secs=90
  hires_args=(--model all --size 256 --bs 32 --steps 5); hires_secs=60
  train_size=256; train_secs=100; train_args=(--n 2048 --bs 32 --epochs 100)
fi

# 3. the bench
for i in "${!sizes[@]}"; do
  s=${sizes[$i]}
  step "bench-$s" "$bench_secs" medvae-bench --model "$models" --size "$s" --bs "${bs_of[$i]}" --steps "$steps" --json "$work/bench-$s.json"
done
for s in "${compile_sizes[@]}"; do
  step "bench-$s-compile" "$bench_secs" medvae-bench --model "$models" --size "$s" --bs 32 --steps "$steps" --compile --json "$work/bench-$s-compile.json"
done

# 4. the shipped 256 px backbone: the stem of 4, each model in its own process
step hires-stem4 "$hires_secs" medvae-hires "${hires_args[@]}" --stem 4 --checkpointing off --json "$work/hires-stem4.json"

# 5. the IntroVAE for a fixed time: SIGINT at the limit stops it as Ctrl-C would, with its history kept
step train "$train_secs" medvae-train --model introvae --size "$train_size" --hparams stem=4 "${train_args[@]}" --out "$work/introvae-run"

# 6. one JSON file
DRY=$dry WORK=$work OUT=$out TRAIN_SECS=$train_secs python3 - <<'EOF'
import csv, json, os, platform, re
from pathlib import Path
import torch
work, dry = Path(os.environ['WORK']), os.environ['DRY'] == '1'
def tail(name, n=2000):
    p = work/f'{name}.log'
    return p.read_text(errors='replace')[-n:] if p.exists() else None
def rc(name):
    p = work/f'{name}.rc'
    return int(p.read_text()) if p.exists() else None
cuda = torch.cuda.is_available()
res = dict(dry=dry, python=platform.python_version(), torch=torch.__version__, cuda=torch.version.cuda,
           device=torch.cuda.get_device_name(0) if cuda else platform.processor() or platform.machine(),
           steps={n: dict(exit_code=rc(n), log_tail=tail(n)) for n in
                  sorted(p.stem for p in work.glob('*.rc'))})
if rc('tests') is not None:
    last = [l for l in (tail('tests') or '').splitlines() if re.search(r'\d+ (passed|failed)', l)]
    res['tests'] = last[-1].strip('= ') if last else None
res['bench'] = [dict(r, compile='compile' in p.name) for p in sorted(work.glob('bench-*.json')) for r in json.loads(p.read_text())]
res['hires'] = json.loads((work/'hires-stem4.json').read_text()) if (work/'hires-stem4.json').exists() else []
run = work/'introvae-run'
hist = run/'history.csv'
res['train'] = dict(model='introvae', seconds_allowed=int(os.environ['TRAIN_SECS']), exit_code=rc('train'),
                    history=list(csv.DictReader(hist.open())) if hist.exists() else [],
                    finished=(run/'metrics.json').exists())
Path(os.environ['OUT']).write_text(json.dumps(res, indent=2))
print(f"wrote {os.environ['OUT']}: {len(res['bench'])} bench rows, {len(res['hires'])} stem-4 rows, {len(res['train']['history'])} training epochs, "
      "steps " + ', '.join(f"{k}={v['exit_code']}" for k, v in res['steps'].items()))
EOF
