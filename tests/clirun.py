"Run the project's console scripts as a user does: a subprocess, the script from this environment."
import shutil, subprocess, sys
from pathlib import Path

BIN = Path(sys.executable).parent

def run(*args, **kw):
    "Run console script `args[0]` with arguments `args[1:]`; returns the CompletedProcess (text output captured)."
    exe = shutil.which(args[0], path=str(BIN)) or shutil.which(args[0])
    assert exe, f"{args[0]} is not installed (pip install -e .)"
    return subprocess.run([exe, *args[1:]], capture_output=True, text=True, timeout=600, **kw)
