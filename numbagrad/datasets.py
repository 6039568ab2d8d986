"""Small classic data sets as tensors, plus ``train_test_split``.

The loaders read the copies that ship inside scikit-learn (no download, works offline) and
return ``(X, y)``: ``X`` float32 of shape ``(n_samples, n_features)``, ``y`` int64 class
labels (float32 targets for the regression set ``load_diabetes``). With
``return_dataset=True`` they return a ``TensorDataset(X, y)`` for a ``DataLoader``.
Features are returned unscaled (except where noted); standardize them before training.
"""
from __future__ import annotations

import math

import numpy as np

from .creation import tensor
from .tensor import Tensor

__all__ = ["load_digits", "load_iris", "load_wine", "load_breast_cancer", "load_diabetes",
           "train_test_split"]


def _load(name: str, regression: bool, return_dataset: bool):
    import sklearn.datasets

    X, y = getattr(sklearn.datasets, name)(return_X_y=True)
    X = tensor(np.ascontiguousarray(X, dtype=np.float32))
    y = tensor(np.asarray(y, dtype=np.float32 if regression else np.int64))
    if return_dataset:
        from .utils.data import TensorDataset

        return TensorDataset(X, y)
    return X, y


def load_digits(*, return_dataset: bool = False):
    """Handwritten digits: 1797 images of 8x8 pixels, flattened to 64 features with integer
    ink levels 0..16; 10 classes (the digits 0-9, about 180 images each)."""
    return _load("load_digits", False, return_dataset)


def load_iris(*, return_dataset: bool = False):
    """Fisher's iris flowers: 150 samples, 4 features (sepal and petal length and width, in
    cm); 3 species, 50 samples each."""
    return _load("load_iris", False, return_dataset)


def load_wine(*, return_dataset: bool = False):
    """Wines from three cultivars of one Italian region: 178 samples, 13 chemical
    measurements (alcohol, malic acid, flavanoids, colour intensity, ...) on very different
    scales; 3 classes of 59, 71 and 48 samples."""
    return _load("load_wine", False, return_dataset)


def load_breast_cancer(*, return_dataset: bool = False):
    """Breast tumour biopsies (Wisconsin diagnostic): 569 samples, 30 features describing
    the cell nuclei in an image (mean, spread and worst value of radius, texture, ...);
    2 classes: 0 malignant (212), 1 benign (357)."""
    return _load("load_breast_cancer", False, return_dataset)


def load_diabetes(*, return_dataset: bool = False):
    """Diabetes progression (regression): 442 patients, 10 baseline features (age, sex, body
    mass index, blood pressure, six blood serum values), already centred and scaled by
    scikit-learn; the float32 target is a disease-progression score one year later
    (25 to 346)."""
    return _load("load_diabetes", True, return_dataset)


def _host(a, name: str) -> np.ndarray:
    if isinstance(a, Tensor):
        return a.detach().cpu().numpy()
    if isinstance(a, np.ndarray):
        return a
    raise TypeError(f"train_test_split: {name} must be a Tensor or a numpy array, got "
                    f"{type(a).__name__}")


def _n_test(test_size, n: int) -> int:
    if isinstance(test_size, float):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size={test_size} should be a fraction in (0, 1) or a count")
        k = math.ceil(test_size * n)
    elif isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        k = int(test_size)
    else:
        raise TypeError(f"test_size must be a float fraction or an int count, got {test_size!r}")
    if not 0 < k < n:
        raise ValueError(f"test_size={test_size} leaves an empty train or test set for "
                         f"{n} samples")
    return k


def train_test_split(X, y, test_size=0.2, seed: int = 0, stratify: bool = True):
    """Shuffle and split into ``(X_train, X_test, y_train, y_test)`` tensors.

    ``test_size`` is a fraction (the test set gets ``ceil(test_size * n)`` samples) or a
    count. With ``stratify`` and integer labels every class keeps its share in both parts:
    class ``c`` with ``n_c`` samples sends :math:`\\approx n_c \\cdot n_{test}/n` to the test
    set (largest remainders round up so the total is exact). Float targets are split without
    stratification. The same ``seed`` gives the same split.
    """
    Xa, ya = _host(X, "X"), _host(y, "y")
    n = len(Xa)
    if len(ya) != n:
        raise ValueError(f"X and y have different numbers of samples: {n} and {len(ya)}")
    k = _n_test(test_size, n)
    rng = np.random.default_rng(seed)
    if stratify and ya.dtype.kind in "iub":
        classes, labels = np.unique(ya, return_inverse=True)
        labels = labels.reshape(-1)
        counts = np.bincount(labels)
        if counts.min() < 2:
            raise ValueError(f"stratify: class {classes[counts.argmin()]} has only "
                             f"{counts.min()} sample; every class needs at least 2")
        quota = counts * (k / n)
        take = np.floor(quota).astype(np.int64)
        short = k - int(take.sum())
        if short:  # largest fractional parts first, ties broken at random
            order = np.lexsort((rng.random(len(counts)), -(quota - take)))
            take[order[:short]] += 1
        test, train = [], []
        for c in range(len(counts)):
            members = rng.permutation(np.flatnonzero(labels == c))
            test.append(members[: take[c]])
            train.append(members[take[c]:])
        test_idx = rng.permutation(np.concatenate(test))
        train_idx = rng.permutation(np.concatenate(train))
    else:
        perm = rng.permutation(n)
        test_idx, train_idx = perm[:k], perm[k:]

    def rows(a, idx):
        return tensor(np.take(a, idx, axis=0))

    return rows(Xa, train_idx), rows(Xa, test_idx), rows(ya, train_idx), rows(ya, test_idx)
