r"""Train a small student network to imitate a larger, already trained teacher.

``distill`` is an ordinary training loop whose loss is
``numbagrad.nn.functional.distillation_loss``: the student learns the teacher's softened
class probabilities :math:`\mathrm{softmax}(t/T)` as well as the true labels. The teacher
only runs forward, in eval mode and under ``no_grad``, so it records no graph and its
parameters never receive gradients.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from ...autograd.grad_mode import no_grad
from ...ops.nn_loss import _distillation_hparams, distillation_loss
from ..module import Module

__all__ = ["distill"]


def distill(student: Module, teacher: Module, loader: Iterable, optimizer, epochs: int = 1,
            T: float = 4.0, alpha: float = 0.9, device=None,
            callback: Callable[[int, float], None] | None = None) -> list[float]:
    """Train ``student`` on the batches ``(x, y)`` of ``loader`` for ``epochs`` passes.

    Each step computes ``distillation_loss(student(x), teacher(x), y, T, alpha)`` and takes
    one ``optimizer`` step (the optimizer should hold the student's parameters). With
    ``device``, both models and every batch are moved there first. The teacher is put in
    eval mode for the run and its previous mode restored afterwards.

    Returns the mean training loss of each epoch (weighted by batch size). After each
    epoch ``callback(epoch, loss)`` is called, if given, with ``epoch`` counting from 0
    (the index of ``loss`` in the returned list).
    """
    T, alpha = _distillation_hparams(T, alpha, "distill")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"distill: epochs must be an int >= 0, got {epochs!r}")
    if device is not None:
        student.to(device)
        teacher.to(device)
    teacher_was_training = teacher.training
    teacher.eval()
    losses = []
    try:
        for epoch in range(epochs):
            student.train()
            total, seen = 0.0, 0
            for x, y in loader:
                if device is not None:
                    x, y = x.to(device), y.to(device)
                with no_grad():
                    teacher_logits = teacher(x)
                loss = distillation_loss(student(x), teacher_logits, y, T=T, alpha=alpha)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(y)
                seen += len(y)
            if seen == 0:
                raise ValueError(f"distill: the loader gave no samples in epoch {epoch} (a "
                                 "generator can be iterated only once: pass a DataLoader or "
                                 "a list of batches)")
            losses.append(total / seen)
            if callback is not None:
                callback(epoch, losses[-1])
    finally:
        teacher.train(teacher_was_training)
    return losses
