"""Pipeline model parallelism (``numbagrad.nn.pipeline``) under ``mpiexec -n 2`` and
``-n 4``: the checks in tests/distributed_scripts/pipeline_checks.py compare the split
model with the unsplit one (loss, gradients, SGD steps, inference) and check argument
errors. Skipped when mpi4py or an ``mpiexec`` is missing. Each rank gets one BLAS and one
Numba thread."""
from pathlib import Path

import pytest
from mpi_launch import mpirun, needs_mpi

import numbagrad as ng

SCRIPT = Path(__file__).parent / "distributed_scripts" / "pipeline_checks.py"


def _mpirun(n, timeout=120):
    return mpirun(n, [SCRIPT], timeout)


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
