#!/usr/bin/env bash
# The first check on a GPU machine: a few training steps of each model at 256 px with the pixel-unshuffle stem
# (`03_backbone`), through the learner `medvae-train` builds, printing images/s, GFLOP per image and peak memory.
# Usage: tools/gpu_check.sh [MODELS] [BS]   (default: vae,vqvae,introvae and a batch of 32); runs on the CPU without a GPU.
set -euo pipefail
models=${1:-vae,vqvae,introvae}
bs=${2:-32}
python - "$models" "$bs" <<'PY'
import sys, torch
from medvae_nb.hires import hires_row, HIRES_COLS
from medvae_nb.bench import bench_table
print('device:', torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu (no GPU found)', file=sys.stderr)
rows = [hires_row(m, 256, bs=int(sys.argv[2]), steps=5, model_kw=dict(stem=4)) for m in sys.argv[1].split(',')]
print(bench_table(rows, cols=list(HIRES_COLS) + (['peak_gpu_mb'] if torch.cuda.is_available() else [])))
PY
