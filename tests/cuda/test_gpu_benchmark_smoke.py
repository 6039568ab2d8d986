"""``python -m benchmarks.gpu --smoke`` runs to the end: its correctness checks pass and
it prints the table (on the GPU, or under the simulator, where it says its numbers are
meaningless). Tiny sizes; the real benchmark is for a GPU machine."""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_gpu_benchmark_smoke():
    r = subprocess.run([sys.executable, "-m", "benchmarks.gpu", "--smoke"], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-8000:]
    header = [line for line in r.stdout.splitlines() if line.startswith("| benchmark")]
    assert header and "numbagrad" in header[0] and "reference" in header[0], out[-8000:]
    assert "correct." in r.stdout
    assert "(ms/step)" in r.stdout and "(TFLOP/s)" in r.stdout and "(GB/s)" in r.stdout
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        assert "SIMULATOR" in r.stdout.splitlines()[0]
