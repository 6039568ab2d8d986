"""A first training run: a two-layer network on the Iris flowers, written with tensors and
autograd only (no layers or optimizers yet).

    python -m numbagrad.demo [--epochs 300] [--lr 0.1] [--seed 0]

The data set (150 flowers, 4 measurements, 3 species) ships inside the package. The model
is ``logits = relu(x W1 + b1) W2 + b2`` trained with full-batch gradient descent on the
cross-entropy ``-mean(log_softmax(logits)[i, y_i])``; the update ``p -= lr * p.grad`` runs
under ``no_grad``.
"""
from __future__ import annotations

import argparse
import time
from importlib import resources

import numpy as np

import numbagrad as ng


def load_iris():
    """(features float32 (150, 4), labels int64 (150,)) from the packaged CSV."""
    text = resources.files("numbagrad").joinpath("data/iris.csv").read_text()
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith("#")]
    x = np.array([[float(v) for v in r[:4]] for r in rows], dtype=np.float32)
    y = np.array([int(r[4]) for r in rows], dtype=np.int64)
    return ng.from_numpy(x), ng.from_numpy(y)


def split(x, y, test_fraction=0.2):
    perm = ng.randperm(len(y))
    n_test = int(len(y) * test_fraction)
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], y[tr], x[te], y[te]


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    ng.manual_seed(args.seed)
    x, y = load_iris()
    xtr, ytr, xte, yte = split(x, y)
    mu, sd = xtr.mean(0), xtr.std(0)
    xtr, xte = (xtr - mu) / sd, (xte - mu) / sd

    w1 = (ng.randn(4, args.hidden) * (2 / 4) ** 0.5).requires_grad_()
    b1 = ng.zeros(args.hidden, requires_grad=True)
    w2 = (ng.randn(args.hidden, 3) * (1 / args.hidden) ** 0.5).requires_grad_()
    b2 = ng.zeros(3, requires_grad=True)
    params = [w1, b1, w2, b2]

    def forward(inp):
        return (inp @ w1 + b1).relu() @ w2 + b2

    def accuracy(logits, target):
        return (logits.argmax(1) == target).float().mean().item()

    rows = ng.arange(len(ytr))
    t0 = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        logits = forward(xtr)
        loss = -logits.log_softmax(1)[rows, ytr].mean()
        for q in params:
            q.grad = None
        loss.backward()
        with ng.no_grad():
            for q in params:
                q -= args.lr * q.grad
        if epoch == 1 or epoch % 50 == 0 or epoch == args.epochs:
            print(f"epoch {epoch:4d}  loss {loss.item():.4f}  "
                  f"train acc {accuracy(logits, ytr):.3f}")
    with ng.no_grad():
        test_acc = accuracy(forward(xte), yte)
    print(f"test accuracy {test_acc:.3f} on {len(yte)} held-out flowers "
          f"({time.perf_counter() - t0:.1f} s, threading layer: "
          f"{ng._threading.LAYER})")
    return test_acc


if __name__ == "__main__":
    main()
