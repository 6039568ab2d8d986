"""Data-parallel training: collectives, DistributedDataParallel and the training job under
``mpiexec -n 2`` / ``-n 4`` (scripts in tests/distributed_scripts/), and DistributedSampler
in-process.

The MPI tests are skipped when mpi4py or an ``mpiexec`` is missing; the sampler tests need
neither. Each rank gets one BLAS and one Numba thread."""
import time
from pathlib import Path

import pytest
from mpi_launch import mpirun, needs_mpi

import numbagrad as ng
from numbagrad.utils.data import DataLoader, DistributedSampler, TensorDataset

SCRIPTS = Path(__file__).parent / "distributed_scripts"


def _mpirun(n, args, timeout=120, env_extra=None):
    """``(exit status, output, seconds)`` of an ``mpiexec -n n`` run."""
    t0 = time.perf_counter()
    rc, out = mpirun(n, args, timeout, env_extra)
    return rc, out, time.perf_counter() - t0


# ------------------------------------------------------------------ under mpiexec


@needs_mpi
def test_collectives_ddp_and_no_sync_on_two_ranks():
    """Collectives (float32/float64/int64, non-contiguous, GPU tensors on the CUDA
    simulator), DDP for 20 steps equal to one process on the global batch (one bucket and
    several), no_sync accumulation, unused parameters."""
    rc, out, _ = _mpirun(2, [str(SCRIPTS / "ddp_checks.py")],
                         env_extra={"NUMBA_ENABLE_CUDASIM": "1"})
    assert rc == 0, out
    assert "rank 0: ok" in out and "rank 1: ok" in out, out


@needs_mpi
def test_collectives_and_ddp_on_four_ranks():
    rc, out, _ = _mpirun(4, [str(SCRIPTS / "ddp_checks.py")])
    assert rc == 0, out
    assert all(f"rank {r}: ok" in out for r in range(4)), out


@needs_mpi
def test_mismatched_model_and_a_failing_rank_end_the_job():
    """A model that differs across ranks raises the same clear error on every rank; an
    uncaught exception on one rank ends every rank (non-zero exit, traceback shown) instead
    of leaving the others waiting in a barrier."""
    rc, out, secs = _mpirun(2, [str(SCRIPTS / "failures.py")], timeout=60)
    assert rc != 0, out
    for r in (0, 1):
        assert f"rank {r} caught: DistributedDataParallel: the model differs across ranks" \
            in out, out
    assert "parameter '0.weight': rank 0 has shape [3, 4]" in out
    assert "rank 1 has shape [5, 4]" in out
    assert "ValueError: rank 1 fails on purpose" in out, out
    assert "passed the barrier" not in out, out
    assert secs < 30, secs


@needs_mpi
def test_training_job_distributed(tmp_path):
    ckpt = tmp_path / "d.ckpt"
    rc, out, _ = _mpirun(2, ["-m", "numbagrad.train", "--distributed", "--epochs", "2",
                             "--no-progress", "--checkpoint", str(ckpt)])
    assert rc == 0, out
    assert out.count("epoch   2") == 1 and "2 ranks" in out, out  # rank 0 prints alone
    assert ng.load(str(ckpt))["epoch"] == 2
    assert "0.weight" in ng.load(str(ckpt))["model"] or "1.weight" in ng.load(str(ckpt))["model"]


def test_distributed_module_without_init_is_a_clear_error():
    import numbagrad.distributed as dist

    assert not dist.is_initialized()
    if dist.is_available():
        with pytest.raises(RuntimeError, match="init"):
            dist.get_rank()
    else:
        with pytest.raises(ImportError, match=r"numbagrad\[distributed\]"):
            dist.init()


# ------------------------------------------------------------------ DistributedSampler


def _shards(n, world, **kw):
    ds = TensorDataset(ng.arange(n))
    return [list(DistributedSampler(ds, num_replicas=world, rank=r, **kw)) for r in range(world)]


def test_sampler_without_shuffle_pads_and_interleaves():
    shards = _shards(10, 4, shuffle=False)
    assert shards == [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    assert all(len(s) == 3 for s in shards)
    assert _shards(10, 4, shuffle=False, drop_last=True) == [[0, 4], [1, 5], [2, 6], [3, 7]]
    assert _shards(8, 4, shuffle=False, drop_last=True) == [[0, 4], [1, 5], [2, 6], [3, 7]]
    # more ranks than samples: the order repeats to fill every shard
    assert _shards(2, 5, shuffle=False) == [[0], [1], [0], [1], [0]]


def test_sampler_shuffle_is_a_partition_that_changes_with_the_epoch():
    n, world = 23, 3
    shards = _shards(n, world, seed=5)
    flat = sum(shards, [])
    assert len(flat) == 24 and set(flat) == set(range(n))  # one sample padded
    assert shards == _shards(n, world, seed=5)              # same seed, same order
    ds = TensorDataset(ng.arange(n))
    s = DistributedSampler(ds, num_replicas=world, rank=1, seed=5)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first and len(s) == 8
    # the order is the seeded permutation of seed + epoch, as in PyTorch
    perm = list(ng.utils.data.RandomSampler(ds, generator=ng.Generator().manual_seed(6)))
    assert list(s) == (perm + perm[:1])[1:24:3]
    dropped = _shards(n, world, seed=5, drop_last=True)
    assert all(len(x) == 7 for x in dropped) and len(set(sum(dropped, []))) == 21


def test_sampler_with_dataloader_and_bad_arguments():
    ds = TensorDataset(ng.arange(10))
    dl = DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, 2, 1, shuffle=False))
    assert [b[0].tolist() for b in dl] == [[1, 3], [5, 7], [9]]
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(ds, num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="num_replicas and rank"):
        DistributedSampler(ds)


# ------------------------------------------------------------------ hooks in autograd


def test_post_accumulate_grad_hook_and_queued_callback():
    from numbagrad.autograd import engine

    w = ng.tensor([0.5, -1.0, 2.0], dtype="float64", requires_grad=True)
    seen, done = [], []

    def hook(p):
        seen.append(p.grad.tolist())
        if not done:
            engine.queue_callback(lambda: done.append(len(seen)))

    h = w.register_post_accumulate_grad_hook(hook)
    (w * w + w).sum().backward()   # two uses, one final gradient: one call
    assert len(seen) == 1 and seen[0] == [2.0, -1.0, 5.0] and done == [1]
    h.remove()
    (w * 2).sum().backward()
    assert len(seen) == 1
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(hook)
