"""CPU benchmark: numbagrad against PyTorch eager, measured in one process.

    python -m benchmarks.cpu [--quick | --smoke] [--only NAME ...]

Each workload is built for both libraries from the same initial weights and data, warmed
up, then timed in alternating blocks of steps (numbagrad block, torch block, ...); the
table reports the median time per step of each library and the ratio numbagrad/torch.
Peak memory of a training step is measured in a fresh subprocess per library and
workload (resident-set high-water mark during the steps, minus the level before them,
with malloc set to return every large block at once).

glibc's default malloc returns large blocks to the OS after every step, which makes torch
take hundreds of page faults per step; like the design notes advise, the benchmark runs
with ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` raised so both libraries
run at their best (it re-executes itself with them set).

Each row carries numbagrad's target (``target``: the ratio it should stay at or below, or
at or above for throughputs) and whether this run met it. ``--smoke`` runs every part
once on small inputs to check that the benchmark itself works (its numbers mean nothing).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "2147483648"}


# ---------------------------------------------------------------- workloads



# (the rule, the bound) each row's ratio is held to
TARGETS = {
    "mlp_784_256_10_adam_b128": ("<=", 0.8),
    "mlp_784_1024_1024_10_sgdm_b512": ("<=", 1.0),
    "cnn_28x28_sgd_b128": ("<=", 1.5),
    "overhead": ("<=", 2.0),
    "bandwidth": (">=", 0.9),
    "memory": ("<=", 1.5),
    "cold": ("<=", 10.0),
    "warm": ("<=", 1.5),
}


WORKLOADS = {
    "mlp_784_256_10_adam_b128": dict(kind="mlp", sizes=(784, 256, 10), batch=128,
                                     opt="adam"),
    "mlp_784_1024_1024_10_sgdm_b512": dict(kind="mlp", sizes=(784, 1024, 1024, 10),
                                           batch=512, opt="sgdm"),
    "cnn_28x28_sgd_b128": dict(kind="cnn", batch=128, opt="sgd"),
}


def build(lib: str, spec: dict, seed: int = 0):
    """(step function, description) for ``lib`` in {'numbagrad', 'torch'}."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if lib == "numbagrad":
        import numbagrad as T
        from numbagrad import nn
    else:
        import torch as T
        from torch import nn
    if spec["kind"] == "mlp":
        layers = []
        sizes = spec["sizes"]
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        model = nn.Sequential(*layers)
        x = rng.standard_normal((spec["batch"], sizes[0])).astype(np.float32)
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 5 * 5, 10))
        x = rng.standard_normal((spec["batch"], 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, spec["batch"])
    # the same initial weights for both libraries
    for p in model.parameters():
        w = rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.05
        with T.no_grad():
            p.copy_(T.tensor(w))
    xt, yt = T.tensor(x), T.tensor(y)
    if spec["opt"] == "adam":
        opt = T.optim.Adam(model.parameters(), lr=1e-3)
    elif spec["opt"] == "sgdm":
        opt = T.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    else:
        opt = T.optim.SGD(model.parameters(), lr=1e-2)
    ce = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = ce(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


def time_pair(fa, fb, warmup=10, blocks=15, per_block=10):
    """Median seconds per call of ``fa`` and ``fb``, timed in alternating blocks."""
    for _ in range(warmup):
        fa()
        fb()
    ta, tb = [], []
    for _ in range(blocks):
        for f, out in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            for _ in range(per_block):
                f()
            out.append((time.perf_counter() - t0) / per_block)
    return statistics.median(ta), statistics.median(tb)


# ---------------------------------------------------------------- micro benchmarks


def small_op(lib):
    if lib == "numbagrad":
        import numbagrad as T
    else:
        import torch as T
    a = T.ones(4, 4, requires_grad=True)
    b = T.ones(4, 4, requires_grad=True)
    return lambda: a * b


def bandwidth(quick):
    """(name, numbagrad GB/s or GFLOP/s, numpy's) for add and sum of 16M float32 (4M with
    ``--quick``) and a float32 GEMM."""
    import numpy as np

    from numbagrad.kernels import cpu as K

    n = (1 << 16) if quick == "smoke" else (1 << 22) if quick else (1 << 24)
    x = np.random.rand(n).astype(np.float32)
    y = np.random.rand(n).astype(np.float32)
    out = np.empty_like(x)
    size = f"{n >> 20}M" if n >= 1 << 20 else f"{n >> 10}K"
    rows = []
    t_ng, t_np = time_pair(lambda: K.add(x, y, out=out), lambda: np.add(x, y, out=out),
                           warmup=3, blocks=7, per_block=5)
    rows.append((f"add {size} f32 (GB/s)", 3 * x.nbytes / t_ng / 1e9, 3 * x.nbytes / t_np / 1e9))
    t_ng, t_np = time_pair(lambda: K.sum(x), lambda: x.sum(), warmup=3, blocks=7, per_block=5)
    rows.append((f"sum {size} f32 (GB/s)", x.nbytes / t_ng / 1e9, x.nbytes / t_np / 1e9))
    m = 64 if quick == "smoke" else 512 if quick else 1024
    a = np.random.rand(m, m).astype(np.float32)
    b = np.random.rand(m, m).astype(np.float32)
    c = np.empty((m, m), np.float32)
    t_ng, t_np = time_pair(lambda: K.matmul(a, b, c), lambda: np.matmul(a, b, out=c),
                           warmup=2, blocks=5, per_block=3)
    rows.append((f"GEMM {m}^3 f32 (GFLOP/s)", 2 * m ** 3 / t_ng / 1e9, 2 * m ** 3 / t_np / 1e9))
    return rows


def int8_rows(smoke):
    """int8 against float32 in numbagrad itself: the matrix product kernel (GOP/s) and the
    inference forward of the 784-1024-1024-10 MLP at batch 512, float32 against
    ``quantize_dynamic`` (ms). No targets: the numbers are reported as they are."""
    import numpy as np

    import numbagrad as ng
    from numbagrad import nn
    from numbagrad import quantization as Q
    from numbagrad.kernels import cpu as K

    m, k, n = (64, 128, 64) if smoke else (512, 1024, 1024)
    rng = np.random.default_rng(0)
    a8 = rng.integers(-128, 128, (m, k)).astype(np.int8)
    b8 = rng.integers(-128, 128, (n, k)).astype(np.int8)
    af = a8.astype(np.float32)
    bf = b8.astype(np.float32).T
    out = np.empty((m, n), np.float32)
    reps = dict(warmup=1, blocks=1, per_block=1) if smoke else dict(warmup=2, blocks=7,
                                                                   per_block=3)
    t8, tf = time_pair(lambda: K.matmul_int8(a8, b8), lambda: K.matmul(af, bf, out), **reps)
    rows = [(f"int8 GEMM {m}x{k}x{n} (GOP/s) vs float32", 2 * m * k * n / t8 / 1e9,
             2 * m * k * n / tf / 1e9, (2 * m * k * n / t8) / (2 * m * k * n / tf))]
    sizes = (784, 1024, 1024, 10)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    model = nn.Sequential(*layers).eval()
    qmodel = Q.quantize_dynamic(model)
    x = ng.tensor(rng.standard_normal((64 if smoke else 512, 784)).astype(np.float32))

    def fwd(mod):
        def run():
            with ng.no_grad():
                return mod(x)
        return run

    tq, tfl = time_pair(fwd(qmodel), fwd(model), **reps)
    rows.append(("MLP-1024 inference, int8 dynamic vs float32 (ms)", tq * 1e3, tfl * 1e3,
                 tq / tfl))
    return rows


# ---------------------------------------------------------------- subprocess probes

_MEM_PROBE = r"""
import json, sys
sys.path.insert(0, {root!r})
from benchmarks.cpu import build, WORKLOADS
def rss(field):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
step = build({lib!r}, WORKLOADS[{name!r}])
for _ in range(3):
    step()
open('/proc/self/clear_refs', 'w').write('5')
base = rss('VmRSS:')
for _ in range(5):
    step()
print(json.dumps((rss('VmHWM:') - base, base)))
"""

_COLD_PROBE = r"""
import time
t0 = time.perf_counter()
import sys
sys.path.insert(0, {root!r})
from benchmarks.cpu import build, WORKLOADS
step = build('numbagrad', WORKLOADS['mlp_784_256_10_adam_b128'])
step()
print(time.perf_counter() - t0)
"""


def _root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def peak_memory(lib, name):
    """Extra resident memory at the peak of a training step. The probe runs with a small
    fixed mmap threshold, so every large array is mapped when allocated and unmapped when
    freed: the resident high-water mark then follows the live arrays, not malloc's cache."""
    code = _MEM_PROBE.format(root=_root(), lib=lib, name=name)
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])[0]


def cold_start():
    """(seconds with an empty kernel cache, seconds with a warm one)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, **ENV, "NUMBA_CACHE_DIR": cache}
        code = _COLD_PROBE.format(root=_root())
        run = lambda: float(subprocess.run([sys.executable, "-c", code], env=env,  # noqa: E731
                                           capture_output=True, text=True,
                                           check=True).stdout.split()[-1])
        cold = run()
        warm = min(run() for _ in range(2))
    return cold, warm


# ---------------------------------------------------------------- main


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numba
    import numpy
    import torch

    import numbagrad
    return (f"{cpu}, {os.cpu_count()} logical cores; Python {platform.python_version()}, "
            f"numba {numba.__version__}, numpy {numpy.__version__}, torch {torch.__version__}"
            f", threading layer {numbagrad._threading.LAYER}")


def _met(rule, ratio) -> str:
    op, bound = rule
    if ratio != ratio:  # nan
        return "-"
    ok = ratio <= bound if op == "<=" else ratio >= bound
    return "yes" if ok else f"no ({ratio / bound:.2f}x the bound)" if op == "<=" else \
        f"no ({ratio / bound:.2f} of the bound)"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer repetitions, smaller arrays")
    mode.add_argument("--smoke", action="store_true",
                      help="every part once on small inputs: checks the benchmark runs")
    p.add_argument("--only", nargs="+", default=None, metavar="PART",
                   choices=["mlp", "cnn", "overhead", "bandwidth", "int8", "coldstart",
                            "scaling", "memory"],
                   help="run only these parts: mlp cnn overhead bandwidth int8 coldstart "
                        "scaling memory")
    args = p.parse_args(argv)
    if any(os.environ.get(k) != v for k, v in ENV.items()):
        os.execve(sys.executable, [sys.executable, "-m", "benchmarks.cpu", *sys.argv[1:]],
                  {**os.environ, **ENV})
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    want = set(args.only or ["mlp", "cnn", "overhead", "bandwidth", "int8", "coldstart",
                             "scaling", "memory"])
    print(machine())
    rows = []  # (label, numbagrad, reference, ratio, target rule)
    blocks = 1 if args.smoke else 7 if args.quick else 15
    reps = dict(warmup=1, blocks=1, per_block=1) if args.smoke else dict(blocks=blocks)
    for name, spec in WORKLOADS.items():
        if spec["kind"] not in want:
            continue
        a, b = build("numbagrad", spec), build("torch", spec)
        t_ng, t_t = time_pair(a, b, **reps)
        rows.append((f"{name} (ms/step)", t_ng * 1e3, t_t * 1e3, t_ng / t_t, TARGETS[name]))
        print(f"  {rows[-1][0]:44s} {rows[-1][1]:9.3f} {rows[-1][2]:9.3f} {rows[-1][3]:6.2f}",
              flush=True)
    if "overhead" in want:
        t_ng, t_t = time_pair(small_op("numbagrad"), small_op("torch"),
                              warmup=1 if args.smoke else 200, blocks=blocks,
                              per_block=10 if args.smoke else 2000)
        rows.append(("4x4 mul with grad recorded (us)", t_ng * 1e6, t_t * 1e6, t_ng / t_t,
                     TARGETS["overhead"]))
    if "bandwidth" in want:
        for label, ng_v, np_v in bandwidth("smoke" if args.smoke else args.quick):
            rows.append((label + " vs numpy", ng_v, np_v, ng_v / np_v, TARGETS["bandwidth"]))
    if "int8" in want:
        for label, a, b, r in int8_rows(args.smoke):
            rows.append((label, a, b, r, None))
    if "scaling" in want:
        for batch in (32, 128, 512, 2048):
            spec = dict(WORKLOADS["mlp_784_256_10_adam_b128"], batch=batch)
            t_ng, t_t = time_pair(build("numbagrad", spec), build("torch", spec),
                                  **(reps if args.smoke else dict(blocks=max(5, blocks // 2))))
            rows.append((f"mlp b{batch} (us/sample)", t_ng / batch * 1e6, t_t / batch * 1e6,
                         t_ng / t_t, None))
    if "memory" in want:
        for name in WORKLOADS:
            m_ng, m_t = peak_memory("numbagrad", name), peak_memory("torch", name)
            rows.append((f"{name} peak step memory (MB)", m_ng / 1e6, m_t / 1e6,
                         m_ng / max(m_t, 1), TARGETS["memory"]))
    if "coldstart" in want:
        cold, warm = cold_start()
        nan = float("nan")
        rows.append(("cold start to 1st MLP step, empty cache (s)", cold, nan, cold,
                     TARGETS["cold"]))
        rows.append(("cold start to 1st MLP step, warm cache (s)", warm, nan, warm,
                     TARGETS["warm"]))
    print()
    if args.smoke:
        print("smoke run: one repetition of each part on small inputs; the numbers below only "
              "show that every part ran")
    print("ratio: numbagrad / reference (PyTorch CPU; numpy for GB/s and GFLOP/s; "
          "numbagrad's float32 path for the int8 rows); for the cold-start rows the value "
          "itself")
    print(f"| {'workload':52s} | {'numbagrad':>10s} | {'reference':>10s} | {'ratio':>6s} "
          f"| {'target':>7s} | met |")
    print(f"|{'-' * 54}|{'-' * 12}|{'-' * 12}|{'-' * 8}|{'-' * 9}|-----|")
    for label, a, b, r, rule in rows:
        tgt = f"{rule[0]} {rule[1]:g}" if rule else ""
        met = _met(rule, r) if rule else ""
        ref = f"{b:10.3f}" if b == b else f"{'':10s}"
        print(f"| {label:52s} | {a:10.3f} | {ref} | {r:6.2f} | {tgt:>7s} | {met} |")
    return rows


if __name__ == "__main__":
    main()
