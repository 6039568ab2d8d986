"""The CPU benchmark runs end to end (``--smoke``: every part once, small inputs). Its
timings are not checked here: speed is measured by ``python -m benchmarks.cpu`` itself."""
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_cpu_benchmark_smoke_prints_every_row(torch):
    out = subprocess.run([sys.executable, "-m", "benchmarks.cpu", "--smoke"], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ")][1:]
    labels = [r.split("|")[1].strip() for r in rows]
    for want in ("mlp_784_256_10_adam_b128 (ms/step)", "cnn_28x28_sgd_b128 (ms/step)",
                 "4x4 mul with grad recorded (us)", "mlp b2048 (us/sample)",
                 "cnn_28x28_sgd_b128 peak step memory (MB)",
                 "cold start to 1st MLP step, warm cache (s)",
                 "MLP-1024 inference, int8 dynamic vs float32 (ms)"):
        assert want in labels, labels
    assert any(re.match(r"GEMM \d+\^3", lab) for lab in labels)
    for r in rows:
        value = float(r.split("|")[2])
        assert math.isfinite(value) and value >= 0, r
    assert len(rows) == 18


@pytest.mark.parametrize("bad", [["--quick", "--smoke"], ["--only", "nothing"]])
def test_cpu_benchmark_rejects_bad_arguments(bad):
    out = subprocess.run([sys.executable, "-m", "benchmarks.cpu", *bad], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0


def _have_mpi():
    import os
    import shutil

    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return os.path.exists(here) or shutil.which("mpiexec") is not None


@pytest.mark.skipif(not _have_mpi(), reason="needs mpi4py and mpiexec "
                    "(pip install numbagrad[distributed])")
def test_distributed_benchmark_smoke_prints_every_row():
    out = subprocess.run([sys.executable, "-m", "benchmarks.distributed", "--smoke"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "NUMBA_NUM_THREADS=1" in out.stdout and "OMP_NUM_THREADS=1" in out.stdout
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ")][1:]
    labels = [r.split("|")[1].strip() for r in rows]
    for want in ("1 rank, plain model (ms/step)",
                 "gain of default buckets over per-parameter all-reduce (x)",
                 "gain of default buckets over one all-reduce after backward (x)"):
        assert want in labels, labels
    for prefix in ("1 rank, DDP bucket_cap_mb=25,", "2 ranks, DDP bucket_cap_mb=25,",
                   "2 ranks, DDP bucket_cap_mb=1e-06,", "2 ranks, DDP bucket_cap_mb=1e+09,",
                   "2 ranks, standalone all_reduce of",
                   "2 ranks, bucket_cap_mb=25: end-of-backward wait"):
        assert any(lab.startswith(prefix) for lab in labels), (prefix, labels)
    for r in rows:
        value = float(r.split("|")[2])
        assert math.isfinite(value) and value >= 0, r
    assert len(rows) == 20
