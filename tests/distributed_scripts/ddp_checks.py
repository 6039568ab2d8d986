"""Run under ``mpiexec -n N``: collectives, DDP against one process, no_sync, unused
parameters. Any failed check raises, which aborts the whole job (non-zero exit). Each
rank prints ``rank R: ok`` at the end."""
import os

import numpy as np

import numbagrad as ng
import numbagrad.distributed as dist
from numbagrad import nn
from numbagrad.distributed import ReduceOp
from numbagrad.nn.parallel import DistributedDataParallel as DDP

dist.init()
rank, world = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized()


def close(a, b, rtol=1e-6, atol=1e-12, what=""):
    a = a.detach().numpy() if isinstance(a, ng.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, ng.Tensor) else np.asarray(b)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    assert np.allclose(a, b, rtol=rtol, atol=atol), (what, rank, a, b)


# ------------------------------------------------------------------ collectives

def per_rank(r, dtype, shape=(2, 3)):
    return (np.arange(np.prod(shape)).reshape(shape) + 10 * r + 1).astype(dtype)


ranks = range(world)
for dtype in ("float32", "float64"):
    rt = dict(float32=1e-6, float64=1e-12)[dtype]
    mine = per_rank(rank, dtype)
    for op, ref in ((ReduceOp.SUM, sum(per_rank(r, dtype) for r in ranks)),
                    (ReduceOp.AVG, sum(per_rank(r, dtype) for r in ranks) / world),
                    (ReduceOp.MAX, per_rank(world - 1, dtype)),
                    (ReduceOp.MIN, per_rank(0, dtype))):
        t = ng.tensor(mine.copy())
        arr = t._data
        v0 = t._version[0]
        dist.all_reduce(t, op=op)
        assert t._data is arr and t._version[0] == v0 + 1  # in place, on the same array
        close(t, ref.astype(dtype), rtol=rt, what=f"all_reduce {op} {dtype}")

    t = ng.tensor(mine.copy())
    dist.broadcast(t, src=world - 1)
    close(t, per_rank(world - 1, dtype), what="broadcast")

    outs = [ng.zeros(2, 3, dtype=dtype) for _ in ranks]
    dist.all_gather(outs, ng.tensor(mine.copy()))
    for r in ranks:
        close(outs[r], per_rank(r, dtype), what="all_gather")
    big = ng.zeros(2 * world, 3, dtype=dtype)
    dist.all_gather_into_tensor(big, ng.tensor(mine.copy()))
    close(big, np.concatenate([per_rank(r, dtype) for r in ranks]), what="all_gather_into")

    inputs = [ng.tensor(per_rank(rank, dtype) * (k + 1)) for k in ranks]
    out = ng.zeros(2, 3, dtype=dtype)
    dist.reduce_scatter(out, inputs, op=ReduceOp.SUM)
    close(out, sum(per_rank(r, dtype) for r in ranks) * (rank + 1), rtol=rt,
          what="reduce_scatter")
    dist.reduce_scatter(out, inputs, op=ReduceOp.AVG)
    close(out, sum(per_rank(r, dtype) for r in ranks) * (rank + 1) / world, rtol=rt,
          what="reduce_scatter avg")

    # a ring of send/recv (even ranks send first, so blocking calls cannot deadlock)
    t = ng.tensor(mine.copy())
    got = ng.zeros(2, 3, dtype=dtype)
    right, left = (rank + 1) % world, (rank - 1) % world
    if rank % 2 == 0:
        dist.send(t, right, tag=7)
        src = dist.recv(got, left, tag=7)
    else:
        src = dist.recv(got, left, tag=7)
        dist.send(t, right, tag=7)
    assert src == left
    close(got, per_rank(left, dtype), what="send/recv")

# int64 and a non-contiguous tensor (staged through a contiguous copy, written back)
t = ng.tensor(np.full(4, rank + 1, dtype=np.int64))
dist.all_reduce(t)
assert t.dtype is ng.int64 and t.tolist() == [world * (world + 1) // 2] * 4
base = ng.tensor(per_rank(rank, "float64", (3, 4)))
view = base.t()
dist.all_reduce(view)
close(base, sum(per_rank(r, "float64", (3, 4)) for r in ranks), what="non-contiguous")
w = dist.all_reduce(ng.ones(3), async_op=True)
assert w.wait()
dist.barrier()

if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":  # GPU tensors, staged through the host
    g = ng.tensor(per_rank(rank, "float32")).to("cuda")
    dist.all_reduce(g)
    close(g.cpu(), sum(per_rank(r, "float32") for r in ranks), rtol=1e-6, what="cuda")
    g = ng.tensor(per_rank(rank, "float32")).to("cuda")
    dist.broadcast(g, 0)
    close(g.cpu(), per_rank(0, "float32"), what="cuda broadcast")
    # DDP on a GPU model: gradients staged through the host buckets
    ng.manual_seed(5)
    cpu_lin = nn.Linear(3, 2)
    gpu_ddp = DDP(nn.Linear(3, 2).to("cuda"))
    with ng.no_grad():
        for p, q in zip(gpu_ddp.parameters(), cpu_lin.parameters()):
            q.copy_(p.cpu())
    xs = per_rank(0, "float32", (world, 3))
    gpu_ddp(ng.tensor(xs[rank:rank + 1]).to("cuda")).sum().backward()
    (cpu_lin(ng.tensor(xs)).sum() / world).backward()
    for p, q in zip(gpu_ddp.parameters(), cpu_lin.parameters()):
        assert p.grad.device.type == "cuda"
        close(p.grad.cpu(), q.grad, rtol=1e-5, what="ddp on cuda")

# ------------------------------------------------------------------ DDP = one process


def make_model(seed):
    ng.manual_seed(seed)
    m = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 8), nn.Tanh(),
                      nn.Linear(8, 3)).double()
    m.register_buffer("scale", ng.full((1,), float(seed), dtype="float64"))
    return m


gen = np.random.default_rng(0)
B = 8 * world                      # the global batch
X = gen.standard_normal((20, B, 5))
Y = gen.standard_normal((20, B, 3))
lo, hi = rank * B // world, (rank + 1) * B // world


def loss_fn(model, x, y):
    return ((model(ng.tensor(x)) - ng.tensor(y)) ** 2).mean()


reference = make_model(0)
ref_opt = ng.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
for s in range(20):
    ref_opt.zero_grad()
    loss_fn(reference, X[s], Y[s]).backward()
    ref_opt.step()

for cap in (25, 0.0005):   # one bucket; several buckets (tiny cap) started in order
    local = make_model(100 + rank)  # different weights on every rank: wrap broadcasts rank 0's
    if rank == 0:
        local.load_state_dict(make_model(0).state_dict())
    ddp = DDP(local, bucket_cap_mb=cap)
    assert (cap == 25) == (len(ddp._buckets) == 1), len(ddp._buckets)
    close(ddp.module.scale, [0.0], what="buffer broadcast")
    opt = ng.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    for s in range(20):
        opt.zero_grad()
        loss_fn(ddp, X[s, lo:hi], Y[s, lo:hi]).backward()
        opt.step()
    for (n, a), b in zip(ddp.module.named_parameters(), reference.parameters()):
        close(a, b, rtol=1e-6, atol=1e-10, what=f"ddp vs single process {n} cap={cap}")
    assert list(ddp.state_dict())[0].startswith("module.")

# ------------------------------------------------------------------ no_sync accumulation
# two micro-batches: accumulated locally under no_sync, averaged by the second backward;
# equal to the single process's gradient summed over both global micro-batches
x1, y1, x2, y2 = X[0], Y[0], X[1], Y[1]
single = make_model(0)
loss_fn(single, x1, y1).backward()
loss_fn(single, x2, y2).backward()

acc = DDP(make_model(0), bucket_cap_mb=0.0005)
with acc.no_sync():
    loss_fn(acc, x1[lo:hi], y1[lo:hi]).backward()
local_only = make_model(0)
loss_fn(local_only, x1[lo:hi], y1[lo:hi]).backward()
for a, b in zip(acc.parameters(), local_only.parameters()):
    close(a.grad, b.grad, what="no_sync keeps local gradients")
loss_fn(acc, x2[lo:hi], y2[lo:hi]).backward()
synced = DDP(make_model(0))
loss_fn(synced, x1[lo:hi], y1[lo:hi]).backward()
loss_fn(synced, x2[lo:hi], y2[lo:hi]).backward()
for a, b, c in zip(acc.parameters(), synced.parameters(), single.parameters()):
    close(a.grad, c.grad, what="no_sync then sync == single process")
    close(b.grad, c.grad, what="two synced backwards == single process")


# ------------------------------------------------------------------ unused parameters


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4).double()
        self.head_a = nn.Linear(4, 1).double()
        self.head_b = nn.Linear(4, 1).double()   # used by rank 0 only
        self.never = nn.Linear(4, 1).double()    # used by nobody

    def forward(self, x, use_b):
        h = self.body(x)
        out = self.head_a(h)
        return out + self.head_b(h) if use_b else out


ng.manual_seed(3)
th = DDP(TwoHeads(), bucket_cap_mb=0.0001)
xb = ng.tensor(np.ones((2, 4)))
for _ in range(2):   # twice: nothing stays armed or queued between steps
    th.zero_grad()
    th(xb, rank == 0).sum().backward()
    solo = TwoHeads()
    solo.load_state_dict(th.module.state_dict())
    solo(xb, True).sum().backward()
    close(th.module.head_b.weight.grad, solo.head_b.weight.grad.numpy() / world,
          what="head used on rank 0 only")
    close(th.module.never.weight.grad, np.zeros((1, 4)), what="unused everywhere")

# a backward outside DDP's forward (plain module) communicates nothing and returns
th.zero_grad()
th.module(xb, True).sum().backward()

dist.barrier()
print(f"rank {rank}: ok", flush=True)
dist.destroy_process_group()
