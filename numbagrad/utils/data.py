"""Data sets, samplers and the ``DataLoader`` (``numbagrad.utils.data``), as in PyTorch.

* A **dataset** maps an index to a sample (``ds[i]``) and knows its length.
* A **sampler** yields indices: in order (``SequentialSampler``) or shuffled
  (``RandomSampler``); a ``BatchSampler`` groups them into lists of ``batch_size``.
* The **loader** fetches the samples of each index list and **collates** them into a batch:
  ``default_collate`` stacks tensors along a new first dimension and turns numbers and numpy
  arrays into tensors, recursing into tuples, lists and dicts.

Shuffling draws from the global stream (``numbagrad.manual_seed``) unless a
``numbagrad.Generator`` is given. Everything runs in the calling process.
"""
from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from .. import creation
from ..ops import stack
from ..random import Generator, randint_indices, randperm_indices
from ..tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
           "DistributedSampler",
           "DataLoader", "default_collate", "default_convert", "random_split"]


# ------------------------------------------------------------------ data sets


class Dataset:
    """Base class of map-style data sets: implement ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Sample ``i`` is ``tuple(t[i] for t in tensors)``; all tensors share their first size."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, "
                                "expected a Tensor")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a "
                                 "first dimension that indexes the samples")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) != 1:
            raise ValueError(f"Size mismatch between tensors: first dimensions are {sizes}, "
                             "they must all be equal")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _collated(self, indices) -> list:
        """``default_collate([self[i] for i in indices])``, in one gather per tensor (None
        when a subclass changed how samples are made)."""
        if type(self).__getitem__ is not TensorDataset.__getitem__:
            return None
        return [_take_rows(t, indices) for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        inner = [self.indices[i] for i in indices]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(inner)
        return [self.dataset[i] for i in inner]

    def __len__(self) -> int:
        return len(self.indices)

    def _collated(self, indices):
        if (type(self).__getitem__ is not Subset.__getitem__
                or type(self).__getitems__ is not Subset.__getitems__):
            return None
        inner = getattr(self.dataset, "_collated", None)
        return None if inner is None else inner([self.indices[i] for i in indices])


class ConcatDataset(Dataset):
    """Several data sets one after the other."""

    def __init__(self, datasets) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        k = int(np.searchsorted(self.cumulative_sizes, idx, side="right"))
        if k == len(self.datasets):
            raise IndexError(f"index {idx} is out of range for a dataset of size {len(self)}")
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][idx - start]


def _take_rows(t: Tensor, indices) -> Tensor:
    """``t[indices]`` along the first dimension."""
    idx = np.asarray(indices, dtype=np.int64)
    return t[creation.tensor(idx, device=t.device)]  # one gather kernel, range-checked


# ------------------------------------------------------------------ samplers


class Sampler:
    """Base class: an iterable of indices (or of index lists, for a batch sampler)."""

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random order each epoch: a permutation, or ``num_samples`` draws with
    ``replacement``; more samples than the data set holds repeat whole permutations."""

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, k = len(self.data_source), self.num_samples
        if self.replacement:
            yield from randint_indices(n, k, self.generator).tolist()
            return
        for _ in range(k // n):
            yield from randperm_indices(n, self.generator).tolist()
        if k % n:
            yield from randperm_indices(n, self.generator)[: k % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a fresh random order each epoch."""

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in randperm_indices(len(self.indices), self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


class DistributedSampler(Sampler):
    """Rank ``rank``'s share of ``dataset`` when ``num_replicas`` processes train together
    (PyTorch's semantics).

    Every rank draws the same order (a permutation seeded with ``seed + epoch`` when
    ``shuffle``, else ``0, 1, ...``) and takes every ``num_replicas``-th index starting at
    ``rank``, so the shares are disjoint and equally long. Without ``drop_last`` the order
    is padded with its own first indices up to a multiple of ``num_replicas`` (a few
    samples are seen twice per epoch); with it the tail is cut instead. Call
    ``set_epoch(epoch)`` before each epoch for a fresh order. ``num_replicas`` and ``rank``
    default to the world size and rank of ``numbagrad.distributed``.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from .. import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: give num_replicas and rank, or call "
                                   "numbagrad.distributed.init() first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"num_replicas should be a positive integer, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            gen = Generator().manual_seed(self.seed + self.epoch)
            order = randperm_indices(n, gen).tolist()
        else:
            order = list(range(n))
        if not self.drop_last:
            pad = self.total_size - n
            if pad <= n:
                order += order[:pad]
            else:
                order += (order * math.ceil(pad / n))[:pad]
        else:
            order = order[:self.total_size]
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``seed + epoch`` for the next order (same on every rank)."""
        self.epoch = epoch


# ------------------------------------------------------------------ collation


def _stack(items: list) -> Tensor:
    first = items[0]
    if (first.device.type == "cpu" and not any(t.requires_grad for t in items)
            and all(t.dtype is first.dtype and t.shape == first.shape for t in items)):
        return creation.from_numpy(np.stack([t.numpy() for t in items]))
    return stack(items, 0)


def default_collate(batch: list):
    """Merge a list of samples into a batch: tensors (and numpy arrays) are stacked on a new
    first dimension, floats become a float64 tensor, ints an int64 tensor, bools a bool
    tensor, strings stay a list; dicts collate per key, tuples and lists per position
    (a tuple sample gives a list, as in PyTorch)."""
    if not isinstance(batch, (list, tuple)) or not batch:
        raise TypeError("default_collate expects a non-empty list of samples")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(list(batch))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USO":
            raise TypeError(f"default_collate: numpy arrays of dtype {elem.dtype} cannot "
                            "become tensors")
        return _stack([creation.tensor(b) for b in batch])
    if isinstance(elem, np.generic):
        return creation.tensor(np.array(batch))
    if isinstance(elem, float):
        return creation.tensor(batch, dtype="float64")
    if isinstance(elem, int):  # bool included: gives a bool tensor
        return creation.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        out = {k: default_collate([d[k] for d in batch]) for k in elem}
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        n = len(elem)
        if any(len(s) != n for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        cols = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return cols
        try:
            return type(elem)(cols)
        except TypeError:
            return cols
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem)}")


def default_convert(data):
    """Numpy arrays and numpy scalars to tensors, recursively; anything else unchanged (the
    collate function when ``batch_size=None``)."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "USO":
        return creation.tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return creation.tensor(np.asarray(data))
    if isinstance(data, Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data


# ------------------------------------------------------------------ loader


class DataLoader:
    """Iterate over ``dataset`` in batches; PyTorch's arguments in PyTorch's order.

    ``shuffle=True`` draws a new order every epoch (from ``generator`` when given, else the
    global stream). ``batch_size=None`` turns batching off (one converted sample at a time).
    ``num_workers``, ``pin_memory``, ``timeout``, ``worker_init_fn`` and
    ``multiprocessing_context`` are accepted for compatibility; data load in the calling
    process.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if num_workers > 0:
            warnings.warn(f"numbagrad's DataLoader loads in the calling process; "
                          f"num_workers={num_workers} is ignored", UserWarning, stacklevel=2)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self):
        if self.batch_sampler is None:
            for i in self.sampler:
                yield self.collate_fn(self.dataset[i])
            return
        fast = (getattr(self.dataset, "_collated", None)
                if self.collate_fn is default_collate else None)
        for indices in self.batch_sampler:
            indices = list(indices)
            batch = fast(indices) if fast is not None else None
            if batch is None:
                if hasattr(self.dataset, "__getitems__"):
                    samples = self.dataset.__getitems__(indices)
                else:
                    samples = [self.dataset[i] for i in indices]
                batch = self.collate_fn(samples)
            yield batch


# ------------------------------------------------------------------ splitting


def random_split(dataset, lengths: Sequence[int | float], generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``\\ s.

    ``lengths`` are sizes summing to ``len(dataset)``, or fractions summing to 1: each split
    then gets ``floor(len * frac)`` items and the remainder is dealt out one by one from the
    first split on (PyTorch's rule).
    """
    lengths = list(lengths)
    n = len(dataset)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(math.floor(n * frac))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, s in enumerate(sizes):
            if s == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              "empty dataset.", UserWarning, stacklevel=2)
        lengths = sizes
    for i, s in enumerate(lengths):
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"lengths must be non-negative integers or fractions summing to "
                             f"1; got {s!r} at index {i}")
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = randperm_indices(n, generator).tolist()
    ends = list(itertools.accumulate(lengths))
    return [Subset(dataset, perm[end - s:end]) for end, s in zip(ends, lengths)]
