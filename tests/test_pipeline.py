"""Pipeline model parallelism (``numbagrad.nn.pipeline``) under ``mpiexec -n 2`` and
``-n 4``: the checks in tests/distributed_scripts/pipeline_checks.py compare the split
model with the unsplit one (loss, gradients, SGD steps, inference) and check argument
errors. Skipped when mpi4py or an ``mpiexec`` is missing. Each rank gets one BLAS and one
Numba thread."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import numbagrad as ng

SCRIPT = Path(__file__).parent / "distributed_scripts" / "pipeline_checks.py"
ROOT = Path(__file__).parent.parent


def _mpiexec():
    here = Path(sys.executable).parent / "mpiexec"  # the mpich wheel's, beside python
    return str(here) if here.exists() else shutil.which("mpiexec")


def _have_mpi4py() -> bool:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


needs_mpi = pytest.mark.skipif(
    not (_have_mpi4py() and _mpiexec()),
    reason="needs mpi4py and mpiexec (pip install numbagrad[distributed])")


def _mpirun(n, timeout=120):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([_mpiexec(), "-n", str(n), sys.executable, str(SCRIPT)], env=env,
                          cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    return proc.returncode, proc.stdout


@needs_mpi
@pytest.mark.parametrize("n", [2, 4])
def test_pipeline_matches_the_unsplit_model(n):
    rc, out = _mpirun(n)
    assert rc == 0, out
    assert all(f"rank {r}: ok" in out for r in range(n)), out


def test_pipeline_exports_and_needs_init():
    from numbagrad.nn import parallel, pipeline

    assert parallel.Pipeline is pipeline.Pipeline
    assert parallel.pipeline_from_sequential is pipeline.pipeline_from_sequential
    assert pipeline._split_sizes(10, 4) == [3, 3, 2, 2]
    with pytest.raises(ValueError, match="fewer than num_microbatches=4"):
        pipeline._split_sizes(3, 4)
    import numbagrad.distributed as dist

    if dist.is_available() and not dist.is_initialized():
        with pytest.raises(RuntimeError, match="init"):
            pipeline.Pipeline(ng.nn.Linear(2, 2), num_microbatches=2)
