"""Run under ``mpiexec -n 2``: a model that differs across ranks is reported on every rank;
then rank 1 raises while rank 0 waits in a barrier, which must end the whole job (non-zero
exit) instead of hanging."""
import numbagrad.distributed as dist
from numbagrad import nn
from numbagrad.nn.parallel import DistributedDataParallel as DDP

dist.init()
rank = dist.get_rank()
model = nn.Sequential(nn.Linear(4, 3 if rank == 0 else 5), nn.ReLU())
try:
    DDP(model)
except RuntimeError as e:
    print(f"rank {rank} caught: {e}", flush=True)
else:
    print(f"rank {rank}: no error for a mismatched model", flush=True)
dist.barrier()
if rank == 1:
    raise ValueError("rank 1 fails on purpose")
dist.barrier()  # without the abort-on-error hook, rank 0 would wait here forever
print(f"rank {rank}: passed the barrier", flush=True)
