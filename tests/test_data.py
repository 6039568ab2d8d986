"""numbagrad.utils.data (datasets, samplers, DataLoader, collation, random_split),
numbagrad.random.Generator and numbagrad.datasets."""
from collections import namedtuple

import numpy as np
import pytest

import numbagrad as ng
from numbagrad import datasets
from numbagrad.random import Generator
from numbagrad.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def _xy(n=10):
    X = ng.arange(n * 3, dtype=ng.float32).reshape(n, 3)
    y = ng.arange(n)
    return X, y


def _order(loader):
    """The sample order of one epoch, read from the y column (y[i] == i)."""
    return [v for _, yb in loader for v in yb.tolist()]


class Pairs(Dataset):
    """A plain map-style data set returning numpy arrays and Python numbers."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full(2, i, dtype=np.float32), float(i) / 2, i

    def __len__(self):
        return self.n


# ---------------------------------------------------------------- batching


def test_batches_in_order_with_last_partial_batch():
    X, y = _xy(10)
    dl = DataLoader(TensorDataset(X, y), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and len(batches) == 3
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert all(isinstance(b, list) and len(b) == 2 for b in batches)  # tuples collate to lists
    xb, yb = batches[1]
    assert xb.dtype is ng.float32 and yb.dtype is ng.int64
    assert xb.tolist() == X[4:8].tolist() and yb.tolist() == [4, 5, 6, 7]


def test_drop_last():
    dl = DataLoader(TensorDataset(*_xy(10)), batch_size=4, drop_last=True)
    assert len(dl) == 2
    assert [b[1].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(TensorDataset(*_xy(8)), batch_size=4, drop_last=True)) == 2


def test_generic_dataset_collate_types():
    xb, halves, ints = next(iter(DataLoader(Pairs(5), batch_size=3)))
    assert xb.dtype is ng.float32 and xb.shape == (3, 2)
    assert xb.tolist() == [[0, 0], [1, 1], [2, 2]]
    assert halves.dtype is ng.float64 and halves.tolist() == [0.0, 0.5, 1.0]
    assert ints.dtype is ng.int64 and ints.tolist() == [0, 1, 2]


def test_tensor_dataset_fast_path_equals_sample_by_sample_collate():
    X, y = _xy(13)
    ds = Subset(Subset(TensorDataset(X, y), list(range(12, -1, -1))), [1, 5, 2, 9, 0, 3, 7])
    fast = list(DataLoader(ds, batch_size=3))
    slow = list(DataLoader(ds, batch_size=3, collate_fn=lambda b: default_collate(b)))
    assert len(fast) == len(slow) == 3
    for (xf, yf), (xs, ys) in zip(fast, slow):
        assert xf.dtype is xs.dtype and yf.dtype is ys.dtype
        assert xf.tolist() == xs.tolist() and yf.tolist() == ys.tolist()
    assert fast[0][1].tolist() == [11, 7, 10]


def test_subclass_getitem_is_respected():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    xb, yb = next(iter(DataLoader(Doubled(*_xy(4)), batch_size=4)))
    assert xb.tolist() == (_xy(4)[0] * 2).tolist() and yb.tolist() == [0, 1, 2, 3]


def test_batch_size_none_and_custom_samplers():
    X, y = _xy(5)
    ds = TensorDataset(X, y)
    items = list(DataLoader(ds, batch_size=None))
    assert len(items) == 5 and items[2][1].item() == 2 and items[2][0].shape == (3,)
    rev = list(range(4, -1, -1))
    assert _order(DataLoader(ds, batch_size=2, sampler=rev)) == rev
    bs = BatchSampler(SequentialSampler(ds), 3, drop_last=False)
    dl = DataLoader(ds, batch_sampler=bs)
    assert len(dl) == 2 and [b[1].tolist() for b in dl] == [[0, 1, 2], [3, 4]]


@pytest.mark.parametrize("kwargs,msg", [
    ({"shuffle": True, "sampler": [0, 1]}, "mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, "batch_size=None"),
    ({"batch_size": 0}, "batch_size should be a positive integer"),
    ({"num_workers": -1}, "num_workers option should be non-negative"),
])
def test_loader_argument_errors(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        DataLoader(TensorDataset(*_xy(4)), **kwargs)


def test_num_workers_warns_and_still_loads():
    with pytest.warns(UserWarning, match="num_workers=2 is ignored"):
        dl = DataLoader(TensorDataset(*_xy(4)), batch_size=2, num_workers=2)
    assert _order(dl) == [0, 1, 2, 3]


# ---------------------------------------------------------------- shuffling


def test_shuffle_follows_manual_seed():
    ds = TensorDataset(*_xy(50))
    dl = DataLoader(ds, batch_size=8, shuffle=True)
    ng.manual_seed(123)
    a1, a2 = _order(dl), _order(dl)
    ng.manual_seed(123)
    b1, b2 = _order(dl), _order(dl)
    assert a1 == b1 and a2 == b2
    assert sorted(a1) == list(range(50)) and sorted(a2) == list(range(50))
    assert a1 != a2 and a1 != list(range(50))  # a new order every epoch
    ng.manual_seed(124)
    assert _order(dl) != a1


def test_shuffle_with_generator_is_independent_of_global_stream():
    ds = TensorDataset(*_xy(40))
    g = Generator().manual_seed(7)
    dl = DataLoader(ds, batch_size=16, shuffle=True, generator=g)
    ng.manual_seed(0)
    first = [_order(dl), _order(dl)]
    g.manual_seed(7)
    ng.manual_seed(99)
    ng.rand(1000)  # the global stream moves; the loader's order must not
    assert [_order(dl), _order(dl)] == first
    assert first[0] != first[1] and sorted(first[0]) == list(range(40))
    g2 = Generator().manual_seed(8)
    assert _order(DataLoader(ds, batch_size=16, shuffle=True, generator=g2)) != first[0]


def test_generator_api():
    g = Generator()
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s
    g.manual_seed(3)
    state = g.get_state()
    assert state.dtype is ng.uint8
    a = RandomSampler(range(20), generator=g)
    first = list(a)
    g.set_state(state)
    assert list(a) == first
    assert Generator().initial_seed() == Generator().initial_seed()  # a fixed default
    with pytest.raises(TypeError, match="numbagrad.Generator"):
        list(RandomSampler(range(3), generator="seed"))


def test_random_sampler_replacement_and_num_samples():
    g = Generator().manual_seed(0)
    draws = list(RandomSampler(range(5), replacement=True, num_samples=200, generator=g))
    assert len(draws) == 200 and set(draws) == set(range(5))
    long = list(RandomSampler(range(5), num_samples=12, generator=g))
    assert len(long) == 12 and sorted(long[:5]) == sorted(long[5:10]) == list(range(5))
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(5), num_samples=0)


# ---------------------------------------------------------------- collation


def test_collate_dicts_tuples_namedtuples_strings():
    P = namedtuple("P", "a b")
    batch = [{"x": ng.tensor([1.0, 2.0]), "meta": ("u", 1), "p": P(np.int32(3), [True, 1.5])},
             {"x": ng.tensor([3.0, 4.0]), "meta": ("v", 2), "p": P(np.int32(4), [False, 2.5])}]
    out = default_collate(batch)
    assert set(out) == {"x", "meta", "p"}
    assert out["x"].tolist() == [[1, 2], [3, 4]]
    assert out["meta"][0] == ["u", "v"] and out["meta"][1].tolist() == [1, 2]
    assert isinstance(out["p"], P) and out["p"].a.dtype is ng.int32
    assert out["p"].b[0].dtype is ng.bool and out["p"].b[0].tolist() == [True, False]
    assert out["p"].b[1].tolist() == [1.5, 2.5]


def test_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([ng.zeros(2), ng.zeros(3)])


def test_tensor_dataset_checks():
    X, y = _xy(4)
    ds = TensorDataset(X, y)
    assert len(ds) == 4 and ds[2][1].item() == 2 and ds[2][0].tolist() == [6, 7, 8]
    with pytest.raises(ValueError, match=r"Size mismatch.*\[4, 3\]"):
        TensorDataset(X, ng.arange(3))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(ng.tensor(1.0))
    with pytest.raises(TypeError, match="expected a Tensor"):
        TensorDataset(X, [1, 2, 3, 4])


# ---------------------------------------------------------------- random_split


def test_random_split_sizes_disjoint_and_reproducible():
    ds = TensorDataset(*_xy(10))
    parts = random_split(ds, [0.33, 0.33, 0.34], generator=Generator().manual_seed(1))
    assert [len(p) for p in parts] == [4, 3, 3]  # floors 3,3,3; the remainder goes first
    idx = [i for p in parts for i in p.indices]
    assert sorted(idx) == list(range(10))
    again = random_split(ds, [0.33, 0.33, 0.34], generator=Generator().manual_seed(1))
    assert [p.indices for p in again] == [p.indices for p in parts]
    ints = random_split(ds, [7, 3])
    assert [len(p) for p in ints] == [7, 3] and not set(ints[0].indices) & set(ints[1].indices)
    assert parts[0][0][1].item() == parts[0].indices[0]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(ds, [1.5, -0.5])


def test_random_split_fraction_rounding():
    # PyTorch's rule (these cases were checked against torch.utils.data.random_split):
    # floor(n * frac) each, then the remainder one by one from the first split on
    cases = [(10, [0.5, 0.5], [5, 5]), (17, [0.2, 0.3, 0.5], [4, 5, 8]),
             (101, [0.1] * 10, [11] + [10] * 9), (9, [0.6, 0.4], [6, 3]),
             (5, [0.5, 0.25, 0.25], [3, 1, 1])]
    for n, fr, want in cases:
        assert [len(p) for p in random_split(range(n), fr)] == want
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        assert [len(p) for p in random_split(range(7), [0.9, 0.1])] == [7, 0]


# ---------------------------------------------------------------- datasets


@pytest.mark.parametrize("loader,n,d,classes", [
    (datasets.load_digits, 1797, 64, 10),
    (datasets.load_iris, 150, 4, 3),
    (datasets.load_wine, 178, 13, 3),
    (datasets.load_breast_cancer, 569, 30, 2),
    (datasets.load_diabetes, 442, 10, None),
])
def test_dataset_shapes_dtypes_classes(loader, n, d, classes):
    X, y = loader()
    assert X.shape == (n, d) and X.dtype is ng.float32 and y.shape == (n,)
    if classes is None:
        assert y.dtype is ng.float32 and 25 <= y.min().item() < y.max().item() <= 346
    else:
        assert y.dtype is ng.int64
        assert sorted(set(y.tolist())) == list(range(classes))
    ds = loader(return_dataset=True)
    assert isinstance(ds, TensorDataset) and len(ds) == n
    assert ds.tensors[0].tolist() == X.tolist()


def test_train_test_split_stratified():
    X, y = datasets.load_wine()
    Xtr, Xte, ytr, yte = datasets.train_test_split(X, y, test_size=0.2, seed=0)
    assert Xte.shape == (36, 13) and Xtr.shape == (142, 13)  # ceil(0.2 * 178) = 36
    counts = np.bincount(y.numpy())
    test_counts = np.bincount(yte.numpy(), minlength=3)
    assert np.all(np.abs(test_counts - counts * 36 / 178) < 1)
    assert np.array_equal(np.bincount(ytr.numpy()) + test_counts, counts)
    rows = {tuple(r) for r in Xtr.tolist()} | {tuple(r) for r in Xte.tolist()}
    assert len(rows) == 178  # disjoint, and together everything
    again = datasets.train_test_split(X, y, test_size=0.2, seed=0)
    assert again[3].tolist() == yte.tolist()
    other = datasets.train_test_split(X, y, test_size=0.2, seed=1)
    assert other[3].tolist() != yte.tolist()


def test_train_test_split_regression_counts_and_errors():
    X, y = datasets.load_diabetes()
    Xtr, Xte, ytr, yte = datasets.train_test_split(X, y, test_size=100)
    assert Xte.shape == (100, 10) and ytr.shape == (342,) and yte.dtype is ng.float32
    assert sorted(ytr.tolist() + yte.tolist()) == sorted(y.tolist())
    with pytest.raises(ValueError, match="at least 2"):
        datasets.train_test_split(ng.zeros(5, 2), ng.tensor([0, 0, 1, 1, 2]))
    with pytest.raises(ValueError, match="test_size"):
        datasets.train_test_split(X, y, test_size=1.5)
