"""Data-parallel benchmark: DistributedDataParallel on 1 rank against 2 ranks.

    python -m benchmarks.distributed [--smoke]

The module starts itself under ``mpiexec -n 1`` and ``mpiexec -n 2`` (the worker entry
point is ``python -m benchmarks.distributed --worker``) and prints one table for the MLP
784-1024-1024-10 trained with plain SGD on a global batch of 512 (each of 2 ranks takes
256 rows):

* step time (forward, backward with gradient averaging, ``optimizer.step()``) on 1 rank
  (the plain model, and the model wrapped in DDP with a world of 1) and on 2 ranks with
  DDP at several ``bucket_cap_mb`` settings: the default 25 MB, 4 MB (three buckets for
  this model), 1e-6 (every parameter is its own bucket: one all-reduce per parameter) and
  1e9 (one all-reduce of every gradient once backward is done). Each time is the median
  over timed blocks after warm-up; the variants are timed in alternating blocks, every
  block starting after a barrier, on rank 0's clock;
* the speed-up of each 2-rank variant over the plain 1-rank step. Because the 1-rank and
  2-rank jobs run one after the other, a change in the machine's load between them skews
  that ratio; the 2-rank job therefore also times rank 0 alone on the full batch (rank 1
  idle in a barrier), interleaved with the DDP blocks, and reports the speed-up over that
  baseline too. Neither baseline is exact: the idle rank 1 busy-polls in MPICH's barrier
  and so takes CPU from rank 0 whenever anything else also runs on the machine (then the
  in-job baseline is slow and that speed-up optimistic), while the separate 1-rank job
  may meet a different load;
* the cost of communication: a standalone ``all_reduce`` of one float32 buffer the size of
  all gradients, and for every DDP variant the time per step spent in its hooks (packing a
  bucket and starting its ``Iallreduce``) and waiting in its end-of-backward callback
  (waiting for the all-reduces, averaging and copying back into ``.grad``);
* the gain of the default bucketing over one all-reduce per parameter and over one single
  all-reduce after backward (ratio of step times; above 1 means the default is faster).

**Threads and cores.** Every process runs with ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1`` (and ``numbagrad.distributed.init()`` sets Numba to
one thread), in both the 1-rank and the 2-rank runs, so the comparison is one core against
two cores. On a machine with 2 cores, 2 ranks use every core: the ideal speed-up is 2, and
anything else running on the machine (including the MPI progress of the other rank, which
polls while it waits) takes directly from it. The 1-rank run is not the best a single
process can do on this machine (it could use 2 threads); it is the baseline for scaling.

**Overlap.** MPICH makes progress on a non-blocking collective only while the process
is inside an MPI call (there is no progress thread unless ``MPICH_ASYNC_PROGRESS=1``, which
would need a spare core), so on a single machine an ``Iallreduce`` started by a bucket
during backward mostly runs when the end-of-backward callback waits for it: bucketing can
save little here. Also note that the whole model's gradients (7.4 MB) fit in one default
25 MB bucket, so ``bucket_cap_mb=25`` and ``1e9`` behave the same for this model.

``--smoke`` runs every part once on a tiny model (its numbers mean nothing).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMBA_NUM_THREADS": "1"}
# like benchmarks.cpu: keep malloc from returning large blocks to the OS after every step
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "2147483648"}

FULL = dict(sizes=(784, 1024, 1024, 10), batch=512, warmup=3, blocks=9, per_block=3,
            ar_reps=20)
SMOKE = dict(sizes=(32, 64, 64, 10), batch=64, warmup=1, blocks=2, per_block=1, ar_reps=2)

# label, bucket_cap_mb
VARIANTS = [("default", 25.0), ("4 MB", 4.0), ("per parameter", 1e-6), ("single", 1e9)]


# ---------------------------------------------------------------- worker (under mpiexec)


def _build(spec, seed=0):
    import numpy as np

    import numbagrad as ng
    from numbagrad import nn

    rng = np.random.default_rng(seed)
    sizes = spec["sizes"]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    for p in model.parameters():
        w = rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.05
        with ng.no_grad():
            p.copy_(ng.tensor(w))
    return model


def _data(spec, rank, world):
    import numpy as np

    import numbagrad as ng

    rng = np.random.default_rng(1)
    x = rng.standard_normal((spec["batch"], spec["sizes"][0])).astype(np.float32)
    y = rng.integers(0, spec["sizes"][-1], spec["batch"])
    n = spec["batch"] // world
    return ng.tensor(x[rank * n:(rank + 1) * n]), ng.tensor(y[rank * n:(rank + 1) * n])


class _Timed:
    """A DDP model whose hook work (``_start``) and end-of-backward wait (``_finish``) are
    timed, by wrapping the bound methods on the instance."""

    def __init__(self, ddp):
        self.start_s = 0.0
        self.finish_s = 0.0
        start, finish = ddp._start, ddp._finish

        def timed_start(b):
            t0 = time.perf_counter()
            start(b)
            self.start_s += time.perf_counter() - t0

        def timed_finish():
            t0 = time.perf_counter()
            finish()
            self.finish_s += time.perf_counter() - t0

        ddp._start = timed_start
        ddp._finish = timed_finish

    def reset(self):
        self.start_s = self.finish_s = 0.0


def _step_fn(model, x, y):
    import numbagrad as ng
    from numbagrad import nn

    opt = ng.optim.SGD(model.parameters(), lr=1e-3)
    ce = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = ce(model(x), y)
        loss.backward()
        opt.step()
    return step


def worker(spec):
    import numpy as np

    import numbagrad as ng
    from numbagrad import distributed as dist
    from numbagrad.nn.parallel import DistributedDataParallel as DDP

    dist.init()
    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = _data(spec, rank, world)
    runs = {}  # name -> (step, _Timed or None, number of buckets)
    if world == 1:
        runs["plain"] = (_step_fn(_build(spec), x, y), None, 0)
        variants = VARIANTS[:1]
    else:
        variants = VARIANTS
        # rank 0 alone on the full batch, timed in the same job and interleaved with the DDP
        # blocks, so load drifting on the machine affects it like the 2-rank steps; rank 1
        # waits, busy-polling, in the next barrier (which costs rank 0 CPU on a busy machine)
        xa, ya = _data(spec, 0, 1)
        alone = _step_fn(_build(spec), xa, ya)
        runs["alone"] = ((alone if rank == 0 else (lambda: None)), None, 0)
    for label, cap in variants:
        ddp = DDP(_build(spec), bucket_cap_mb=cap)
        runs[label] = (_step_fn(ddp, x, y), _Timed(ddp), len(ddp._buckets))
    for step, _, _ in runs.values():
        for _ in range(spec["warmup"]):
            step()
    times = {name: [] for name in runs}
    start_s = {name: [] for name in runs}
    finish_s = {name: [] for name in runs}
    for _ in range(spec["blocks"]):
        for name, (step, timer, _) in runs.items():
            if timer is not None:
                timer.reset()
            dist.barrier()
            t0 = time.perf_counter()
            for _ in range(spec["per_block"]):
                step()
            times[name].append((time.perf_counter() - t0) / spec["per_block"])
            if timer is not None:
                start_s[name].append(timer.start_s / spec["per_block"])
                finish_s[name].append(timer.finish_s / spec["per_block"])
    n_params = sum(p.numel() for p in _build(spec).parameters())
    ar = []
    if world > 1:
        buf = ng.tensor(np.ones(n_params, np.float32))
        for i in range(spec["ar_reps"] + 2):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(buf)
            if i >= 2:
                ar.append(time.perf_counter() - t0)
    med = statistics.median
    result = dict(world=world, n_params=int(n_params),
                  step={k: med(v) for k, v in times.items()},
                  start={k: med(v) for k, v in start_s.items() if v},
                  finish={k: med(v) for k, v in finish_s.items() if v},
                  buckets={k: r[2] for k, r in runs.items() if r[1] is not None},
                  all_reduce=med(ar) if ar else None)
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()


# ---------------------------------------------------------------- driver


def _mpiexec():
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.path.exists(here) else shutil.which("mpiexec")


def _root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def launch(n, smoke, timeout=900):
    """Run the worker on ``n`` ranks; rank 0's result dict."""
    mpiexec = _mpiexec()
    if mpiexec is None:
        raise SystemExit("benchmarks.distributed needs mpiexec (pip install "
                         "\"numbagrad[distributed]\")")
    env = {**os.environ, **THREAD_ENV, **MALLOC_ENV}
    env["PYTHONPATH"] = _root() + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [mpiexec, "-n", str(n), sys.executable, "-m", "benchmarks.distributed", "--worker"]
    if smoke:
        cmd.append("--smoke")
    proc = subprocess.run(cmd, env=env, cwd=_root(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout[-5000:])
        raise SystemExit(f"mpiexec -n {n} failed (exit status {proc.returncode})")
    return json.loads(lines[-1][len("RESULT "):])


def table(one, two, spec):
    """The rows (label, milliseconds or ratio, speed-up or share or '') and print them."""
    ms = 1e3
    base = one["step"]["plain"]
    rows = [("1 rank, plain model (ms/step)", base * ms, "1.00"),
            (f"1 rank, DDP bucket_cap_mb=25, {one['buckets']['default']} bucket(s) (ms/step)",
             one["step"]["default"] * ms, f"{base / one['step']['default']:.2f}")]
    for label, cap in VARIANTS:
        t = two["step"][label]
        rows.append((f"2 ranks, DDP bucket_cap_mb={cap:g}, {two['buckets'][label]} "
                     f"bucket(s) (ms/step)", t * ms, f"{base / t:.2f}"))
    nbytes = two["n_params"] * 4
    rows.append((f"2 ranks, standalone all_reduce of {nbytes / 1e6:.2f} MB (ms)",
                 two["all_reduce"] * ms, f"{two['all_reduce'] / two['step']['default']:.0%}"))
    for label, cap in VARIANTS:
        rows.append((f"2 ranks, bucket_cap_mb={cap:g}: in hooks, pack+start (ms/step)",
                     two["start"][label] * ms,
                     f"{two['start'][label] / two['step'][label]:.0%}"))
        rows.append((f"2 ranks, bucket_cap_mb={cap:g}: end-of-backward wait (ms/step)",
                     two["finish"][label] * ms,
                     f"{two['finish'][label] / two['step'][label]:.0%}"))
    d = two["step"]["default"]
    alone = two["step"]["alone"]
    rows.append((f"2-rank job, rank 0 alone on batch {spec['batch']}, rank 1 idle (ms/step)",
                 alone * ms, f"{base / alone:.2f}"))
    rows.append(("speed-up of 2 ranks (default DDP) over rank 0 alone, same job (x)",
                 alone / two["step"]["default"], ""))
    rows.append(("gain of default buckets over per-parameter all-reduce (x)",
                 two["step"]["per parameter"] / d, ""))
    rows.append(("gain of default buckets over one all-reduce after backward (x)",
                 two["step"]["single"] / d, ""))
    rows.append(("gain of 4 MB buckets over one all-reduce after backward (x)",
                 two["step"]["single"] / two["step"]["4 MB"], ""))
    sizes = "-".join(map(str, spec["sizes"]))
    print(f"MLP {sizes}, SGD, global batch {spec['batch']} ({spec['batch'] // 2} per rank on "
          f"2 ranks), {two['n_params']} parameters; median over {spec['blocks']} blocks of "
          f"{spec['per_block']} steps after {spec['warmup']} warm-up steps")
    print(f"threads: every rank {' '.join(f'{k}={v}' for k, v in THREAD_ENV.items())}; "
          f"{os.cpu_count()} logical cores on this machine, so 2 ranks = "
          f"{'every core' if (os.cpu_count() or 1) <= 2 else '2 cores'} and the ideal "
          "speed-up is 2 (the 1-rank baseline also uses one thread)")
    print("last column: speed-up over the plain 1-rank step for step rows; share of the "
          "2-rank step for all_reduce and DDP rows")
    print(f"| {'measurement':66s} | {'value':>9s} | {'speed-up/share':>14s} |")
    print(f"|{'-' * 68}|{'-' * 11}|{'-' * 16}|")
    for label, v, extra in rows:
        print(f"| {label:66s} | {v:9.3f} | {extra:>14s} |")
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true",
                   help="every part once on a tiny model: checks the benchmark runs")
    p.add_argument("--worker", action="store_true",
                   help="(internal) the per-rank entry point, run under mpiexec")
    args = p.parse_args(argv)
    spec = SMOKE if args.smoke else FULL
    if args.worker:
        worker(spec)
        return None
    one = launch(1, args.smoke)
    two = launch(2, args.smoke)
    if args.smoke:
        print("smoke run: a tiny model, one repetition of each part; the numbers below only "
              "show that every part ran")
    return table(one, two, spec)


if __name__ == "__main__":
    main()
