"""The full fuzz of every console script and of `--hparams`, with its counts written to nbs/reports/fuzz/README.md.

    python tools/fuzz_report.py [CASES]    # CASES per console script (default 1000; the test suite runs fewer)

It runs `tests/test_cli_fuzz.py` (random flags of all seven console scripts: each case must end in a one-line error
with exit code 2, or reach the work, which is stubbed) and the `--hparams` fuzz of `tests/test_hostile4.py` (each
model's random hyper-parameters are refused in one line, or the model trains a step) with CASES cases, and records
the outcome counts pytest prints."""
import os, re, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def main(cases:int=1000):
    env = dict(os.environ, MEDVAE_FUZZ_CASES=str(cases), MEDVAE_FUZZ_CASES_OTHER=str(cases), MEDVAE_FUZZ_HPARAMS=str(cases // 5))
    t0 = time.time()
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-s', '-p', 'no:cacheprovider', 'tests/test_cli_fuzz.py',
                        'tests/test_hostile4.py', '-k', 'fuzz or never_traceback'], cwd=ROOT, env=env, capture_output=True, text=True)
    minutes = (time.time() - t0) / 60
    counts = [l.strip() for l in r.stdout.splitlines() if l.strip().startswith(('CLI fuzz cases', '--hparams fuzz'))]
    summary = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-500:]
    dest = ROOT/'nbs'/'reports'/'fuzz'; dest.mkdir(parents=True, exist_ok=True)
    (dest/'README.md').write_text(
        f"# The fuzz of every console script\n\n`python tools/fuzz_report.py {cases}` on {time.strftime('%Y-%m-%d')}, "
        f"{minutes:.0f} minutes on {os.cpu_count()} cores. Each case is a random command line (valid values, boundaries, garbage, "
        "unicode, names longer than a file system allows, huge numbers); the contract is a one-line `error:` and exit code 2, or "
        "the work reached with arguments that passed every check (the work itself is stubbed: `tests/test_cli.py` runs it for "
        "real). Nothing may be written outside `--out`, the shipped models' files must stay as they are (checked by hash), and "
        "no prior may be lost (`tests/test_hostile4.py`).\n\nOutcome counts, as the tests print them:\n\n```\n" +
        '\n'.join(counts) + f"\n```\n\npytest: {summary}\n")
    print('\n'.join(counts)); print(summary)
    return r.returncode

if __name__ == '__main__': sys.exit(main(*map(int, sys.argv[1:2])))
