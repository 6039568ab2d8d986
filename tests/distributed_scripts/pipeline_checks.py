"""Run under ``mpiexec -n N`` (N = 2, 3 or 4): a Sequential split into N pipeline stages
gives the loss, gradients, SGD trajectory and inference output of the unsplit model on
the full batch, for one and several micro-batches (even and uneven), and argument errors
are clear. Any failed check raises, which aborts the whole job. Each rank prints
``rank R: ok`` at the end."""
import numpy as np

import numbagrad as ng
import numbagrad.distributed as dist
from numbagrad import nn
from numbagrad.nn import functional as F
from numbagrad.nn.parallel import Pipeline, pipeline_from_sequential

dist.init()
rank, world = dist.get_rank(), dist.get_world_size()
last = world - 1


def close(a, b, rtol=1e-10, atol=1e-13, what=""):
    a = a.detach().numpy() if isinstance(a, ng.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, ng.Tensor) else np.asarray(b)
    assert a.shape == b.shape, (what, rank, a.shape, b.shape)
    assert np.allclose(a, b, rtol=rtol, atol=atol), (what, rank, np.abs(a - b).max())


def build(seed=0):
    ng.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 10), nn.Tanh(), nn.Linear(10, 12), nn.Tanh(),
                         nn.Linear(12, 9), nn.Tanh(), nn.Linear(9, 4)).double()


n_layers = 7
split = [len(a) for a in np.array_split(np.arange(n_layers), world)]
ng.manual_seed(123)
X = ng.randn(12, 6, dtype="float64")
Y = ng.randn(12, 4, dtype="float64")
Ycls = ng.tensor(np.arange(12) % 4)
X10, Y10 = X[:10], Y[:10]


def reference(x, y, loss_fn, seed=0):
    model = build(seed)
    loss = loss_fn(model(x), y)
    loss.backward()
    return model, float(loss.item())


def check_step(x, y, loss_fn, m, what):
    ref, ref_loss = reference(x, y, loss_fn)
    model = build()
    pipe = pipeline_from_sequential(model, split, num_microbatches=m)
    loss = pipe.train_step(x if rank == 0 else None, y if rank == last else None, loss_fn)
    assert isinstance(loss, float)
    close(loss, ref_loss, what=f"{what} loss")
    ref_params = dict(ref.named_parameters())
    names = [n for n, _ in pipe.module.named_parameters()]
    assert names and all(n in ref_params for n in names), names
    for n, p in pipe.module.named_parameters():
        close(p.grad, ref_params[n].grad, what=f"{what} grad {n}")
    # the stage keeps the full model's Parameter objects
    full = dict(model.named_parameters())
    assert all(p is full[n] for n, p in pipe.module.named_parameters())


for m in (1, 2, 4, 12):
    check_step(X, Y, F.mse_loss, m, f"mse M={m}")
check_step(X10, Y10, F.mse_loss, 3, "uneven M=3 (10 samples)")   # sizes 4, 3, 3
check_step(X10, Y10, F.mse_loss, 4, "uneven M=4 (10 samples)")
check_step(X, Ycls, F.cross_entropy, 3, "cross_entropy M=3")

# gradients accumulate over two train_steps, like two backward calls
ref, _ = reference(X, Y, F.mse_loss)
F.mse_loss(ref(X10), Y10).backward()
model = build()
pipe = pipeline_from_sequential(model, split, num_microbatches=2)
pipe.train_step(X if rank == 0 else None, Y if rank == last else None, F.mse_loss)
pipe.train_step(X10 if rank == 0 else None, Y10 if rank == last else None, F.mse_loss)
rp = dict(ref.named_parameters())
for n, p in pipe.module.named_parameters():
    close(p.grad, rp[n].grad, what=f"accumulated grad {n}")

# a few SGD steps (momentum) follow the unsplit model
ref = build()
ref_opt = ng.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
model = build()
pipe = pipeline_from_sequential(model, split, num_microbatches=3)
opt = ng.optim.SGD(pipe.parameters(), lr=0.1, momentum=0.9)
for step in range(4):
    xs, ys = X[step % 2::2], Y[step % 2::2]
    ref_opt.zero_grad()
    ref_loss = F.mse_loss(ref(xs), ys)
    ref_loss.backward()
    ref_opt.step()
    opt.zero_grad()
    loss = pipe.train_step(xs if rank == 0 else None, ys if rank == last else None,
                           F.mse_loss)
    opt.step()
    close(loss, ref_loss.item(), what=f"sgd loss {step}")
rp = dict(ref.named_parameters())
for n, p in pipe.module.named_parameters():
    close(p, rp[n], what=f"sgd param {n}")

# inference: on the last rank, or broadcast to all
with ng.no_grad():
    expect = ref(X)
out = pipe(X if rank == 0 else None)
if rank == last:
    close(out, expect, what="forward")
else:
    assert out is None
out = pipe.forward(X10 if rank == 0 else None, broadcast=True)
close(out, expect[:10], what="forward broadcast")

# a hand-built stage (Pipeline directly) that changes the dtype on the way
ng.manual_seed(7)
stage = nn.Linear(3, 3).double() if rank < last else nn.Linear(3, 2).double()
pipe = Pipeline(stage, num_microbatches=2)
assert pipe.rank == rank and pipe.num_stages == world
assert pipe.is_first == (rank == 0) and pipe.is_last == (rank == last)
loss = pipe.train_step(ng.ones(4, 3, dtype="float64") if rank == 0 else None,
                       ng.zeros(4, 2, dtype="float64") if rank == last else None,
                       F.mse_loss)
assert loss > 0 and all(p.grad is not None for p in stage.parameters())


# ------------------------------------------------------------------ argument errors

def raises(exc, match, fn):
    try:
        fn()
    except exc as e:
        assert match in str(e), (rank, str(e))
        return
    raise AssertionError(f"rank {rank}: expected {exc.__name__} with {match!r}")


raises(ValueError, f"has {world + 1} stages but the world size is {world}",
       lambda: pipeline_from_sequential(build(), split + [1], 2))
bad = list(split)
bad[0] += 1
raises(ValueError, "covers 8 layers but the Sequential has 7",
       lambda: pipeline_from_sequential(build(), bad, 2))
raises(ValueError, "at least one layer",
       lambda: pipeline_from_sequential(build(), [0] * (world - 1) + [7], 2))
raises(TypeError, "nn.Sequential", lambda: pipeline_from_sequential(nn.Linear(2, 2), split))
raises(ValueError, "num_microbatches must be a positive integer",
       lambda: Pipeline(nn.Linear(2, 2), num_microbatches=0))
# a batch smaller than num_microbatches: the same error on every rank, nobody hangs
pipe = pipeline_from_sequential(build(), split, num_microbatches=5)
raises(ValueError, "has 4 samples, fewer than num_microbatches=5",
       lambda: pipe.train_step(X[:4] if rank == 0 else None,
                               Y[:4] if rank == last else None, F.mse_loss))
dist.barrier()
print(f"rank {rank}: ok", flush=True)
