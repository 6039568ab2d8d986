"""GPU benchmark: numbagrad on CUDA against PyTorch eager and cuBLAS on the same GPU.

    python -m benchmarks.gpu [--quick] [--smoke]

1. **Correctness first.** A few ops, a matmul, gradients through a small graph, training
   steps of an MLP (SGD with momentum) and one of the CNN: numbagrad on ``"cuda"`` against
   numbagrad on ``"cpu"`` from the same inputs and weights. Any mismatch prints what
   differs and exits with status 1 before anything is timed.
2. **The table**, numbagrad against a reference on the same GPU:

   * elementwise ``add`` of 64M float32 in GB/s (3 x 4 bytes per element) against a
     device-to-device copy (numba ``copy_to_device``, 2 x 4 bytes per element: the ceiling)
     and against torch's ``add`` when torch has CUDA;
   * float32 matmul in TFLOP/s at 4096^3 and 1024^3 against cuBLAS (torch with TF32 off, or
     CuPy); "n/a" when neither is installed;
   * launch overhead in microseconds: ``a * b`` on 1-element tensors with and without the
     graph recorded (against torch), and one raw ``CudaKernel.launch``;
   * training-step time of the workloads of ``benchmarks/cpu.py`` (MLP 784-256-10 b128 Adam,
     MLP 784-1024-1024-10 b512 SGD momentum, the small CNN b128 SGD) against torch eager,
     and the driver allocations of numbagrad's memory pool during the timed steps
     (``memory_stats()["num_device_alloc"]``; must be 0 after the warm-up).

Timing: warm-up first (which also compiles every kernel); every block of calls starts and
ends with a device synchronize, so the clock sees finished work; the median over blocks
is reported, numbagrad and torch blocks alternating. Sized for under 3 minutes on an H200,
kernel compilation (numba-cuda compiles every kernel at its first launch) included.

``--smoke`` runs everything at tiny sizes with 1-2 repetitions. Without a GPU it runs on
numba's CUDA simulator (re-executing itself with ``NUMBA_ENABLE_CUDASIM=1`` if needed):
then every number is meaningless and only shows that the script works.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

from benchmarks.cpu import WORKLOADS

TABLE_HEADER = (f"| {'benchmark':50s} | {'numbagrad':>10s} | {'reference':>10s} | "
                f"{'ratio':>6s} | reference is")

# ---------------------------------------------------------------- sizes

FULL = dict(add_n=1 << 26, matmul=(4096, 1024), warmup=5, blocks=9, per_block=10,
            launch_blocks=9, launch_per_block=500, bw_reps=20, bw_blocks=5, mm_blocks=5,
            check_steps=3, workloads=WORKLOADS)
QUICK = dict(FULL, add_n=1 << 24, blocks=5, per_block=5, launch_blocks=5,
             launch_per_block=200, bw_reps=10, bw_blocks=3, mm_blocks=3)
# Under the simulator a launch runs at most 16 Python threads (~70 us each) and every
# element is Python code: tiny models with the same layer structure.
SMOKE = dict(add_n=1024, matmul=(16, 8), warmup=3, blocks=2, per_block=1, launch_blocks=2,
             launch_per_block=2, bw_reps=1, bw_blocks=1, mm_blocks=1, check_steps=2,
             workloads={
                 "mlp_12_8_4_adam_b4": dict(kind="mlp", sizes=(12, 8, 4), batch=4, opt="adam"),
                 "mlp_12_8_8_4_sgdm_b4": dict(kind="mlp", sizes=(12, 8, 8, 4), batch=4,
                                              opt="sgdm"),
                 "cnn_12x12_c2_c4_sgd_b2": dict(kind="cnn", batch=2, opt="sgd", hw=12,
                                                channels=(2, 4)),
             })


# ---------------------------------------------------------------- models


def make_model(T, spec):
    """The architectures of ``benchmarks/cpu.py`` (built inline there, in ``build``, so
    restated here): ReLU MLPs, and the two-conv CNN (``hw`` and ``channels`` default to
    28x28 input and 16/32 channels, i.e. exactly cpu.py's model)."""
    nn = T.nn
    if spec["kind"] == "mlp":
        sizes = spec["sizes"]
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)
    c1, c2 = spec.get("channels", (16, 32))
    hw = spec.get("hw", 28)
    side = ((hw - 2) // 2 - 2) // 2  # two (3x3 conv, 2x2 pool) stages: 28 -> 5
    return nn.Sequential(
        nn.Conv2d(1, c1, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * side * side, 10))


def build(lib, spec, device, seed=0):
    """``(step, model)`` for ``lib`` in {'numbagrad', 'torch'} on ``device``: the same data
    and initial weights for every library and device (as in ``benchmarks/cpu.py``)."""
    if lib == "numbagrad":
        import numbagrad as T
    else:
        import torch as T
    rng = np.random.default_rng(seed)
    model = make_model(T, spec)
    if spec["kind"] == "mlp":
        x = rng.standard_normal((spec["batch"], spec["sizes"][0])).astype(np.float32)
    else:
        hw = spec.get("hw", 28)
        x = rng.standard_normal((spec["batch"], 1, hw, hw)).astype(np.float32)
    y = rng.integers(0, 10 if spec["kind"] == "cnn" else spec["sizes"][-1], spec["batch"])
    for p in model.parameters():
        w = rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.05
        with T.no_grad():
            p.copy_(T.tensor(w))
    model.to(device)
    xt, yt = T.tensor(x, device=device), T.tensor(y, device=device)
    if spec["opt"] == "adam":
        opt = T.optim.Adam(model.parameters(), lr=1e-3)
    elif spec["opt"] == "sgdm":
        opt = T.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    else:
        opt = T.optim.SGD(model.parameters(), lr=1e-2)
    ce = T.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = ce(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step, model


# ---------------------------------------------------------------- environment


class Env:
    """What this process runs on: numbagrad's device, torch with CUDA, CuPy."""

    def __init__(self):
        import numbagrad as ng

        self.ng = ng
        self.kernels = ng.device("cuda").kernels
        self.sim = bool(self.kernels.SIM)
        self.torch = None
        self.tdev = "cuda"  # where the torch reference runs
        self.torch_note = "torch not installed"
        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None:
            if self.sim:
                self.torch_note = "simulator run: torch not used"
            elif not torch.cuda.is_available():
                self.torch_note = f"torch {torch.__version__} has no CUDA"
            else:
                self.torch = torch
                self.torch_note = f"torch {torch.__version__}"
                torch.set_float32_matmul_precision("highest")  # real fp32, no TF32
                torch.backends.cudnn.allow_tf32 = False
                torch.backends.cudnn.benchmark = True
        self.cupy = None
        if self.torch is None and not self.sim:
            try:
                import cupy

                cupy.cuda.runtime.getDeviceCount()
                self.cupy = cupy
            except Exception:  # noqa: BLE001  (not installed, or no usable device)
                self.cupy = None

    def sync(self):
        self.ng.cuda.synchronize()

    def tsync(self):
        self.torch.cuda.synchronize()

    def describe(self) -> str:
        import numba

        ng = self.ng
        try:
            import numba_cuda

            ncv = numba_cuda.__version__
        except (ImportError, AttributeError):
            ncv = "?"
        return (f"{ng.cuda.get_device_name()}; Python {platform.python_version()}, numpy "
                f"{np.__version__}, numba {numba.__version__}, numba-cuda {ncv}; "
                f"reference: {self.torch_note}"
                + (f", CuPy {self.cupy.__version__}" if self.cupy is not None else ""))


# ---------------------------------------------------------------- timing


def median_time(fn, sync, blocks, per_block, warmup=1):
    """Median seconds per call of ``fn`` over ``blocks`` synchronized blocks."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(blocks):
        sync()
        t0 = time.perf_counter()
        for _ in range(per_block):
            fn()
        sync()
        times.append((time.perf_counter() - t0) / per_block)
    return statistics.median(times)


def time_pair(fa, sync_a, fb, sync_b, blocks, per_block):
    """Median seconds per call of ``fa`` and ``fb`` (None: not timed), in alternating
    synchronized blocks. Warm-up is the caller's job."""
    ta, tb = [], []
    pairs = [(fa, sync_a, ta)] + ([(fb, sync_b, tb)] if fb is not None else [])
    for _ in range(blocks):
        for f, sync, out in pairs:
            sync()
            t0 = time.perf_counter()
            for _ in range(per_block):
                f()
            sync()
            out.append((time.perf_counter() - t0) / per_block)
    return statistics.median(ta), (statistics.median(tb) if tb else None)


# ---------------------------------------------------------------- correctness


class Mismatch(AssertionError):
    pass


def _host(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def correctness(env, sz) -> list[str]:
    """numbagrad on cuda against numbagrad on cpu; returns the lines of a report and raises
    ``Mismatch`` listing every check that failed."""
    ng = env.ng
    F = ng.nn.functional
    rng = np.random.default_rng(1)
    small = env.sim
    r, c, k = (4, 6, 5) if small else (256, 384, 320)
    x = rng.standard_normal((r, c)).astype(np.float32)
    w = rng.standard_normal((c, k)).astype(np.float32) * 0.1
    b = rng.standard_normal(k).astype(np.float32)
    failures, lines = [], []

    def check(name, got, want, tol):
        got, want = _host(got), _host(want)
        if got.shape != want.shape:
            failures.append(f"{name}: shape {got.shape} on cuda, {want.shape} on cpu")
            return
        scale = max(float(np.abs(want).max(initial=0.0)), 1e-30)
        err = float(np.abs(got.astype(np.float64) - want).max(initial=0.0)) / scale
        ok = np.isfinite(got).all() == np.isfinite(want).all() and err <= tol
        lines.append(f"  {'ok ' if ok else 'BAD'} {name:44s} max error / max |value| "
                     f"= {err:.1e}  (tol {tol:.0e})")
        if not ok:
            failures.append(f"{name}: relative error {err:.2e} > {tol:.0e}")

    ops = {
        "add with broadcasting": lambda X, W, B: X[:, :k] + B,
        "mul": lambda X, W, B: X * X,
        "exp": lambda X, W, B: X.exp(),
        "tanh": lambda X, W, B: X.tanh(),
        "relu": lambda X, W, B: F.relu(X),
        "sum over dim 1": lambda X, W, B: X.sum(dim=1),
        "mean": lambda X, W, B: X.mean(),
        "max over dim 0": lambda X, W, B: X.max(dim=0)[0],
        "softmax over dim 1": lambda X, W, B: F.softmax(X, dim=1),
        "matmul": lambda X, W, B: X @ W,
        "matmul of a transposed view": lambda X, W, B: X.T @ X,
    }
    dev = {d: [ng.tensor(a, device=d) for a in (x, w, b)] for d in ("cpu", "cuda")}
    for name, fn in ops.items():
        try:
            check(name, fn(*dev["cuda"]), fn(*dev["cpu"]), 1e-5 if "matmul" not in name else 1e-4)
        except Exception as e:  # noqa: BLE001
            failures.append(f"{name}: {type(e).__name__}: {e}")

    # gradients through a small graph
    grads = {}
    for d in ("cpu", "cuda"):
        X, W, B = (ng.tensor(a, device=d, requires_grad=True) for a in (x, w, b))
        loss = (F.log_softmax((X @ W + B).tanh(), dim=1) ** 2).mean()
        loss.backward()
        grads[d] = [loss, X.grad, W.grad, B.grad]
    for name, gc, gg in zip(("loss", "dL/dx", "dL/dw", "dL/db"), grads["cuda"], grads["cpu"]):
        check(f"autograd: {name}", gc, gg, 1e-4)

    # training steps: the benchmark's MLP with SGD momentum, and the CNN
    for wl_name, spec in sz["workloads"].items():
        if spec["opt"] == "adam":
            lines.append(f"  --  {wl_name}: skipped (Adam's g / sqrt(v) turns rounding "
                         "differences of gradients near 0 into steps of up to lr)")
            continue
        runs = {}
        for d in ("cpu", "cuda"):
            step, model = build("numbagrad", spec, d)
            losses = [step().item() for _ in range(sz["check_steps"])]
            runs[d] = (losses, [p for p in model.parameters()])
        check(f"{wl_name}: {sz['check_steps']} losses",
              np.array(runs["cuda"][0]), np.array(runs["cpu"][0]), 1e-4)
        for i, (pg, pc) in enumerate(zip(runs["cuda"][1], runs["cpu"][1])):
            check(f"{wl_name}: param {i} after", pg, pc, 1e-4)
    if failures:
        raise Mismatch("\n".join(lines + ["", "FAILED:"] + failures))
    return lines


# ---------------------------------------------------------------- benchmarks


def bandwidth(env, sz):
    """Rows for elementwise add of float32 against a device-to-device copy and torch."""
    from numba import cuda

    ng = env.ng
    n = sz["add_n"]
    a = ng.rand(n, device="cuda")
    b = ng.rand(n, device="cuda")
    src = cuda.device_array(n, np.float32)
    dst = cuda.device_array(n, np.float32)
    reps, blocks = sz["bw_reps"], sz["bw_blocks"]
    t_add = median_time(lambda: a + b, env.sync, blocks, reps)
    t_copy = median_time(lambda: dst.copy_to_device(src), env.sync, blocks, reps)
    ng_gbs = 3 * 4 * n / t_add / 1e9
    copy_gbs = 2 * 4 * n / t_copy / 1e9
    label = f"add {_count(n)} f32 (GB/s)"
    rows = [(label, ng_gbs, copy_gbs, "D2D copy (numba copy_to_device)")]
    if env.torch is not None:
        torch = env.torch
        ta = torch.rand(n, device=env.tdev)
        tb = torch.rand(n, device=env.tdev)
        t_tadd = median_time(lambda: ta + tb, env.tsync, blocks, reps)
        t_clone = median_time(lambda: ta.clone(), env.tsync, blocks, reps)
        rows.append((label, ng_gbs, 3 * 4 * n / t_tadd / 1e9, "torch add"))
        rows.append((f"D2D copy {_count(n)} f32 (GB/s)", copy_gbs, 2 * 4 * n / t_clone / 1e9,
                     "torch clone"))
    else:
        rows.append((label, ng_gbs, None, "torch add: " + env.torch_note))
    return rows


def matmul(env, sz):
    return [_matmul_row(env, sz, m) for m in sz["matmul"]]


def _matmul_row(env, sz, m):
    ng = env.ng
    flop = 2.0 * m ** 3
    reps = 1 if env.sim else max(2, int(2e11 // flop))  # ~0.2 TFLOP per block
    blocks = sz["mm_blocks"]
    a = ng.randn(m, m, device="cuda")
    b = ng.randn(m, m, device="cuda")
    t_ng = median_time(lambda: a @ b, env.sync, blocks, reps, warmup=2)
    label = f"matmul {m}^3 f32 (TFLOP/s)"
    if env.torch is not None:
        torch = env.torch
        ta = torch.randn(m, m, device=env.tdev)
        tb = torch.randn(m, m, device=env.tdev)
        t_ref = median_time(lambda: ta @ tb, env.tsync, blocks, reps, warmup=2)
        return label, flop / t_ng / 1e12, flop / t_ref / 1e12, "cuBLAS via torch, TF32 off"
    if env.cupy is not None:
        cp = env.cupy
        ca = cp.random.standard_normal((m, m), dtype=cp.float32)
        cb = cp.random.standard_normal((m, m), dtype=cp.float32)
        t_ref = median_time(lambda: ca @ cb, cp.cuda.Device().synchronize, blocks, reps,
                            warmup=2)
        return label, flop / t_ng / 1e12, flop / t_ref / 1e12, "cuBLAS via CuPy"
    return (label, flop / t_ng / 1e12, None,
            "cuBLAS: no torch-CUDA or CuPy (" + env.torch_note + ")")


def launch_overhead(env, sz):
    ng = env.ng
    from numbagrad.kernels.cuda._jit import CudaKernel
    from numbagrad.kernels.cuda._runtime import grid

    blocks, per = sz["launch_blocks"], sz["launch_per_block"]
    ag = ng.ones(1, device="cuda", requires_grad=True)
    bg = ng.ones(1, device="cuda", requires_grad=True)
    a0 = ng.ones(1, device="cuda")
    b0 = ng.ones(1, device="cuda")
    t_grad = median_time(lambda: ag * bg, env.sync, blocks, per, warmup=20)
    t_nograd = median_time(lambda: a0 * b0, env.sync, blocks, per, warmup=20)
    ref_grad = ref_nograd = None
    note = env.torch_note
    if env.torch is not None:
        torch = env.torch
        tag = torch.ones(1, device=env.tdev, requires_grad=True)
        tbg = torch.ones(1, device=env.tdev, requires_grad=True)
        ta0 = torch.ones(1, device=env.tdev)
        tb0 = torch.ones(1, device=env.tdev)
        ref_grad = median_time(lambda: tag * tbg, env.tsync, blocks, per, warmup=20)
        ref_nograd = median_time(lambda: ta0 * tb0, env.tsync, blocks, per, warmup=20)
        note = "torch, same op"
    rows = [("1-element mul, graph recorded (us)", t_grad * 1e6, _us(ref_grad), note),
            ("1-element mul, no grad (us)", t_nograd * 1e6, _us(ref_nograd), note)]
    raw = [k for name, k in CudaKernel.registry.items() if name.endswith("._binary_flat_add")]
    if raw:
        k = raw[0]
        out = env.kernels.empty((1,), np.float32)
        fa, fb, fo = a0._data.flat(), b0._data.flat(), out.flat()
        g = grid(1)
        t_raw = median_time(lambda: k.launch(*g, fa, fb, fo), env.sync, blocks, per, warmup=20)
        rows.append(("raw CudaKernel.launch, 1 element (us)", t_raw * 1e6, None,
                     "n/a: numba-cuda's launch path itself"))
    else:
        print("note: no '_binary_flat_add' kernel in CudaKernel.registry; raw launch skipped")
    return rows


def training(env, sz):
    ng = env.ng
    rows, pool = [], []
    for name, spec in sz["workloads"].items():
        step_ng, _ = build("numbagrad", spec, "cuda")
        step_t = None
        if env.torch is not None:
            step_t, _ = build("torch", spec, env.tdev)
        for _ in range(sz["warmup"]):
            step_ng()
            if step_t is not None:
                step_t()
        env.sync()
        before = ng.cuda.memory_stats()["num_device_alloc"]
        t_ng, t_t = time_pair(step_ng, env.sync, step_t,
                              env.tsync if step_t is not None else None,
                              sz["blocks"], sz["per_block"])
        after = ng.cuda.memory_stats()["num_device_alloc"]
        rows.append((f"{name} (ms/step)", t_ng * 1e3, None if t_t is None else t_t * 1e3,
                     "torch eager" if t_t is not None else env.torch_note))
        pool.append((name, before, after))
        print(f"  {name}: numbagrad {t_ng * 1e3:.3f} ms/step"
              + ("" if t_t is None else f", torch {t_t * 1e3:.3f} ms/step")
              + f"; pool driver allocations {before} -> {after}", flush=True)
    return rows, pool


# ---------------------------------------------------------------- output


def _us(t):
    return None if t is None else t * 1e6


def _count(n):
    for unit, v in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= v and n % v == 0:
            return f"{n // v}{unit}"
    return str(n)


def _fmt(v):
    if v is None:
        return f"{'n/a':>10s}"
    if isinstance(v, int):
        return f"{v:10d}"
    return f"{v:10.3f}" if abs(v) >= 1 or v == 0 else f"{v:10.3g}"


def print_table(rows):
    print()
    print(TABLE_HEADER)
    print(f"|{'-' * 52}|{'-' * 12}|{'-' * 12}|{'-' * 8}|{'-' * 30}")
    for label, a, b, ref in rows:
        ratio = f"{a / b:6.2f}" if (a is not None and b) else f"{'n/a':>6s}"
        print(f"| {label:50s} | {_fmt(a)} | {_fmt(b)} | {ratio} | {ref}")


def _gpu_present() -> bool:
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    r = subprocess.run([sys.executable, "-c",
                        "from numba import cuda; print(cuda.is_available())"],
                       capture_output=True, text=True, env=env)
    return r.stdout.strip().endswith("True")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repetitions, 16M-element add")
    p.add_argument("--smoke", action="store_true",
                   help="tiny sizes, 1-2 repetitions (runs under the CUDA simulator)")
    args = p.parse_args(argv)
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1" and not _gpu_present():
        if args.smoke:  # no GPU: the smoke run goes to the simulator
            os.execve(sys.executable, [sys.executable, "-m", "benchmarks.gpu", *sys.argv[1:]],
                      {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"})
        sys.exit("benchmarks.gpu: no CUDA GPU found (numba.cuda.is_available() is False). "
                 "Run it on a GPU machine, or try it with --smoke on the CUDA simulator.")
    t_start = time.perf_counter()
    sz = SMOKE if args.smoke else QUICK if args.quick else FULL
    env = Env()
    if env.sim:
        print("*** numba CUDA SIMULATOR: every number below is meaningless; this run only "
              "checks that the benchmark works ***")
    elif args.smoke:
        print("*** smoke run: tiny sizes, 1-2 repetitions; the numbers mean little ***")
    print("numbagrad GPU benchmark on " + env.describe())

    print("\ncorrectness: numbagrad on cuda against numbagrad on cpu")
    try:
        for line in correctness(env, sz):
            print(line)
    except Mismatch as e:
        print(e)
        print("\nnumbagrad on cuda DISAGREES with numbagrad on cpu: not benchmarking.")
        sys.exit(1)
    print("correct.", flush=True)

    rows = []
    print("\ntiming: bandwidth, matmul, launch overhead", flush=True)
    rows += bandwidth(env, sz)
    rows += matmul(env, sz)
    rows += launch_overhead(env, sz)
    print("timing: training steps", flush=True)
    train_rows, pool = training(env, sz)
    rows += train_rows
    grew = [(n, b, a) for n, b, a in pool if a != b]
    for name, before, after in pool:
        rows.append((f"{name}: new pool allocs", after - before, None,
                     f"num_device_alloc {before} -> {after} (must not grow)"))
    print_table(rows)
    print(f"\ntotal {time.perf_counter() - t_start:.1f} s")
    if grew:
        print("\nFAILED: the memory pool went to the driver during the timed steps of "
              + ", ".join(n for n, _, _ in grew))
        sys.exit(2)
    return rows


if __name__ == "__main__":
    main()
