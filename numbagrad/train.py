"""The main job: train a classifier on the handwritten digits and report its test accuracy.

    python -m numbagrad.train [--model mlp|cnn] [--epochs N] [--checkpoint PATH] [--resume]

The digits data set (1,797 greyscale 8x8 images of the digits 0-9) ships with
scikit-learn, so nothing is downloaded. 20% of it, stratified by class, is held out as the
test set. Each epoch prints the training loss and accuracy and the test accuracy, then
writes a checkpoint (model, optimizer, scheduler, epoch) atomically; ``--resume`` continues
from it. Shuffling and dropout are seeded per epoch, so a resumed run sees exactly the
batches and masks an uninterrupted run would have seen, and ends with the same weights.

Data-parallel training on several processes (needs ``numbagrad[distributed]``)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 mpiexec -n 4 python -m numbagrad.train --distributed

Every rank loads the data, trains on its own shard of each epoch (``DistributedSampler``;
``--batch-size`` is per rank) with the model wrapped in ``DistributedDataParallel``, and
only rank 0 prints and writes the checkpoint (the unwrapped model's state, so a
checkpoint resumes with or without ``--distributed``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numbagrad as ng
from numbagrad import nn
from numbagrad.nn import functional as F


def make_model(kind: str) -> nn.Module:
    if kind == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(128, 10),
        )
    if kind == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.MaxPool2d(2),                       # 32 x 4 x 4
            nn.Flatten(), nn.Dropout(0.3),
            nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
            nn.Linear(64, 10),
        )
    raise ValueError(f"unknown model {kind!r} (use 'mlp' or 'cnn')")


def load_data(seed: int):
    """(x_train, x_test, y_train, y_test): images as (N, 1, 8, 8) float32 in [0, 1]."""
    x, y = ng.datasets.load_digits()
    x = (x / 16.0).reshape(-1, 1, 8, 8)
    return ng.datasets.train_test_split(x, y, test_size=0.2, seed=seed, stratify=True)


@ng.no_grad()
def evaluate(model, x, y, batch_size=512):
    model.eval()
    correct = 0
    loss = 0.0
    for i in range(0, len(y), batch_size):
        logits = model(x[i:i + batch_size])
        loss += F.cross_entropy(logits, y[i:i + batch_size], reduction="sum").item()
        correct += (logits.argmax(1) == y[i:i + batch_size]).sum().item()
    return loss / len(y), correct / len(y)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m numbagrad.train",
                                description="Train an MLP or a CNN on the digits data set.")
    p.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    p.add_argument("--epochs", type=int, default=None,
                   help="number of epochs (default: 30 for mlp, 20 for cnn)")
    p.add_argument("--batch-size", type=int, default=32,
                   help="batch size (per rank with --distributed; default: 32)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint file (default: numbagrad-digits-<model>.ckpt)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint (keep --epochs as in the first run: the "
                        "cosine learning-rate schedule spans the original number of epochs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI ranks: mpiexec -n 4 python -m numbagrad.train "
                        "--distributed")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = 30 if args.model == "mlp" else 20
    if args.checkpoint is None:
        args.checkpoint = f"numbagrad-digits-{args.model}.ckpt"
    return args


def main(argv=None) -> float:
    args = parse_args(argv)
    rank, world = 0, 1
    if args.distributed:
        from numbagrad import distributed as dist

        dist.init()
        rank, world = dist.get_rank(), dist.get_world_size()

    def say(*a, **kw):  # only rank 0 talks
        if rank == 0:
            print(*a, **kw)

    ng.manual_seed(args.seed)
    x_train, x_test, y_train, y_test = (t.to(args.device) for t in load_data(args.seed))
    model = make_model(args.model).to(args.device)
    opt = ng.optim.Adam(model.parameters(), lr=args.lr)
    sched = ng.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    start = 1
    if args.resume and os.path.exists(args.checkpoint):
        ckpt = ng.load(args.checkpoint, map_location=args.device)
        if ckpt["model_kind"] != args.model:
            sys.exit(f"checkpoint {args.checkpoint} holds a {ckpt['model_kind']} model, "
                     f"not {args.model}")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        start = ckpt["epoch"] + 1
        say(f"resumed from {args.checkpoint} after epoch {ckpt['epoch']}")
    elif args.resume:
        say(f"no checkpoint at {args.checkpoint}; starting from scratch")

    n_params = sum(p.numel() for p in model.parameters())
    say(f"{args.model}: {n_params} parameters, {len(y_train)} training and {len(y_test)} "
        f"test images, {args.epochs} epochs, on {args.device}"
        + (f", {world} ranks" if args.distributed else ""))
    net = model  # what the training steps call
    if args.distributed:
        net = nn.parallel.DistributedDataParallel(model)
    train_set = ng.utils.data.TensorDataset(x_train, y_train)
    try:
        from tqdm import tqdm
    except ImportError:  # the job also runs without a progress bar
        tqdm = None
    t0 = time.perf_counter()
    for epoch in range(start, args.epochs + 1):
        model.train()
        ng.manual_seed(args.seed * 1000 + epoch + 7919 * rank)  # dropout masks of this epoch
        if args.distributed:  # this rank's shard of the epoch's order
            sampler = ng.utils.data.DistributedSampler(train_set, seed=args.seed * 1000)
            sampler.set_epoch(epoch)
            loader = ng.utils.data.DataLoader(train_set, batch_size=args.batch_size,
                                              sampler=sampler)
        else:
            gen = ng.Generator().manual_seed(args.seed * 1000 + epoch)  # its batch order
            loader = ng.utils.data.DataLoader(train_set, batch_size=args.batch_size,
                                              shuffle=True, generator=gen)
        batches = loader
        if tqdm is not None and not args.no_progress and rank == 0:
            batches = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", leave=False,
                           file=sys.stdout)
        total, correct, seen = 0.0, 0, 0
        for xb, yb in batches:
            logits = net(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
            seen += len(yb)
            if batches is not loader:
                batches.set_postfix(loss=f"{loss.item():.4f}")
        sched.step()
        if args.distributed:  # the epoch's totals over all ranks
            sums = ng.tensor([total, correct, seen], dtype="float64")
            dist.all_reduce(sums)
            total, correct, seen = sums.tolist()
        test_loss, test_acc = evaluate(model, x_test, y_test)
        say(f"epoch {epoch:3d}  train loss {total / seen:.4f}  train acc {correct / seen:.4f}"
            f"  test loss {test_loss:.4f}  test acc {test_acc:.4f}  "
            f"({time.perf_counter() - t0:.1f} s)", flush=True)
        if rank == 0:
            ng.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                     "scheduler": sched.state_dict(), "epoch": epoch,
                     "model_kind": args.model}, args.checkpoint)
    _, test_acc = evaluate(model, x_test, y_test)
    if args.distributed:
        dist.barrier()  # the checkpoint is written before any rank returns
    say(f"test accuracy: {test_acc:.4f} ({args.model}, checkpoint {args.checkpoint})")
    return test_acc


if __name__ == "__main__":
    main()
