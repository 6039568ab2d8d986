"""numbagrad.save / numbagrad.load: exact round trips of whole training checkpoints, a
format that never pickles, clear errors, and atomic replacement under SIGKILL."""
import io
import json
import math
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import numbagrad as ng
from numbagrad.optim import lr_scheduler as L
from numbagrad.serialization import _write_archive, load, save

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def assert_identical(a, b, where="obj"):
    """Same types all the way down, tensors bit for bit (dtype, shape, values, grad flag)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, ng.Tensor):
        assert a.dtype is b.dtype and a.shape == b.shape, where
        assert a.requires_grad == b.requires_grad, where
        x, y = a.detach().numpy(), b.detach().numpy()
        assert x.tobytes() == np.ascontiguousarray(y).tobytes() or np.array_equal(x, y), where
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), where
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), where
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} vs {list(b)}"
        for k in a:
            assert_identical(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            assert_identical(u, v, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"
        if isinstance(a, float):
            assert math.copysign(1, a) == math.copysign(1, b), where


def _model():
    return ng.nn.Sequential(ng.nn.Linear(4, 8), ng.nn.ReLU(), ng.nn.Linear(8, 2))


def _train(model, opt, scheds, x, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        for s in scheds:
            s.step(loss.item()) if isinstance(s, L.ReduceLROnPlateau) else s.step()


def _setup(seed):
    ng.manual_seed(seed)
    model = _model()
    opt = ng.optim.Adam(model.parameters(), lr=1e-2, amsgrad=True)
    cyc = L.OneCycleLR(opt, max_lr=0.05, total_steps=50)
    plat = L.ReduceLROnPlateau(opt, patience=1)
    return model, opt, cyc, plat


def test_training_checkpoint_round_trip_and_resume(tmp_path):
    model, opt, cyc, plat = _setup(0)
    x = ng.randn(16, 4)
    _train(model, opt, [cyc, plat], x, 5)
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": cyc.state_dict(), "plateau": plat.state_dict(), "epoch": 5}
    path = tmp_path / "ckpt.ngc"
    save(ckpt, path)
    back = load(path)
    assert_identical(ckpt, back)
    assert type(back["model"]) is OrderedDict and isinstance(back["optimizer"]["state"], dict)
    assert list(back["optimizer"]["state"]) == [0, 1, 2, 3]  # int keys stay ints
    assert back["optimizer"]["param_groups"][0]["betas"][1] == 0.999
    assert back["plateau"]["best"] < math.inf and back["plateau"]["mode_worse"] == math.inf
    # resume into fresh objects: the continued runs agree bit for bit
    model2, opt2, cyc2, plat2 = _setup(1)
    model2.load_state_dict(back["model"])
    opt2.load_state_dict(back["optimizer"])
    cyc2.load_state_dict(back["scheduler"])
    plat2.load_state_dict(back["plateau"])
    _train(model, opt, [cyc, plat], x, 4)
    _train(model2, opt2, [cyc2, plat2], x, 4)
    assert_identical(model.state_dict(), model2.state_dict())
    assert_identical(opt.state_dict(), opt2.state_dict())


def test_every_dtype_and_odd_shapes_and_values(tmp_path):
    arrays = {d.name: ng.tensor(np.arange(-3, 3).reshape(2, 3).astype(d.np) if d.name != "bool"
                                else np.array([[True, False, True]] * 2))
              for d in (ng.bool, ng.uint8, ng.int8, ng.int16, ng.int32, ng.int64, ng.float32,
                        ng.float64)}
    p = ng.nn.Parameter(ng.randn(3, 2))
    obj = {
        **arrays,
        "zero_d": ng.tensor(7, dtype=ng.int32), "zero_d_f": ng.tensor(-0.0),
        "empty": ng.zeros(0, 5), "transposed": ng.arange(12.0).reshape(3, 4).t(),
        "nan_inf": ng.tensor([math.nan, math.inf, -math.inf]),
        "requires_grad": ng.ones(2, requires_grad=True),
        1: "int key", -5: [None, True, False, 0, -1, 2**80, 1.5, -0.0, math.inf, -math.inf,
                            math.nan, "", "ünïcode ✓"],
        "nested": ({"a": (1, [2, (3,)])}, []), "empty_dict": {}, "empty_tuple": (),
        "np": np.arange(6, dtype=np.uint16).reshape(2, 3), "np_scalar": np.float32(0.1),
    }
    path = tmp_path / "all.ngc"
    save(obj, path)
    back = load(path)
    assert_identical(obj, back)
    assert back["transposed"].is_contiguous()  # stored in logical order
    save({"param": p}, path)
    q = load(path)["param"]
    assert type(q) is ng.Tensor and q.requires_grad and q.is_leaf
    assert np.array_equal(q.detach().numpy(), p.detach().numpy())


def test_shared_tensors_are_stored_once_and_share_again(tmp_path):
    w = ng.randn(1000)
    path = tmp_path / "shared.ngc"
    save({"a": w, "b": w.detach(), "c": [w]}, path)
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["__structure__.npy", "a0.npy"]
    back = load(path)
    back["a"][0] = 42.0
    assert back["b"][0].item() == 42.0 and back["c"][0][0].item() == 42.0


def test_file_objects_and_map_location(tmp_path):
    buf = io.BytesIO()
    save({"x": ng.arange(4), "e": 2}, buf)
    buf.seek(0)
    back = load(buf, map_location="cpu")
    assert back["x"].tolist() == [0, 1, 2, 3] and back["e"] == 2
    # a tensor recorded as saved from cuda:0 comes back on the CPU when mapped there
    path = tmp_path / "gpu.ngc"
    with open(path, "wb") as f:
        _write_archive(f, {"format": "numbagrad", "version": 1,
                           "root": {"$tensor": "a0", "device": "cuda:0",
                                    "requires_grad": False}}, {"a0": np.ones(3, np.float32)})
    t = load(path, map_location={"cuda:0": "cpu"})
    assert t.device.type == "cpu" and t.tolist() == [1, 1, 1]
    with pytest.raises(TypeError, match="map_location"):
        load(path, map_location=lambda storage, loc: storage)


# ---------------------------------------------------------------- no pickle


def test_file_has_no_pickle_payload(tmp_path):
    model, opt, cyc, plat = _setup(0)
    _train(model, opt, [cyc, plat], ng.randn(8, 4), 2)
    path = tmp_path / "ckpt.ngc"
    save({"model": model.state_dict(), "optimizer": opt.state_dict(),
          "scheduler": cyc.state_dict()}, path)
    with np.load(path, allow_pickle=False) as npz:  # every member reads without pickle
        loaded = {k: npz[k] for k in npz.files}
    assert "__structure__" in loaded and all(a.dtype != object for a in loaded.values())
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            raw = z.read(name)
            assert name.endswith(".npy") and raw.startswith(b"\x93NUMPY"), name
            assert b"'descr': '|O'" not in raw[:256], name


def test_load_refuses_a_pickled_member(tmp_path):
    path = tmp_path / "evil.ngc"
    with zipfile.ZipFile(path, "w") as z:
        with z.open("__structure__.npy", "w") as m:
            doc = b'{"format":"numbagrad","version":1,"root":{"$ndarray":"a0"}}'
            np.lib.format.write_array(m, np.frombuffer(doc, np.uint8))
        with z.open("a0.npy", "w") as m:
            np.lib.format.write_array(m, np.array([print], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle"):
        load(path)


def test_unsupported_objects_name_their_key_path(tmp_path):
    path = tmp_path / "x.ngc"
    save({"ok": 1}, path)
    bad = {"optimizer": {"state": {0: {"step": object()}}}}
    with pytest.raises(TypeError, match=r"obj\['optimizer'\]\['state'\]\[0\]\['step'\]"):
        save(bad, path)
    with pytest.raises(TypeError, match=r"obj\[1\]: dict key \(1, 2\)"):
        save([0, {(1, 2): 3}], path)
    with pytest.raises(TypeError, match=r"obj\['s'\].*set"):
        save({"s": {1, 2}}, path)
    with pytest.raises(TypeError, match="cannot save obj"):
        save(np.array(["a"]), path)
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        save(loop, path)
    assert load(path) == {"ok": 1}  # failed saves left the old file alone
    assert os.listdir(tmp_path) == ["x.ngc"]  # and no temporary files


def test_corrupt_and_foreign_files_raise(tmp_path):
    path = tmp_path / "c.ngc"
    save({"w": ng.randn(10000)}, path)
    raw = path.read_bytes()
    (tmp_path / "trunc.ngc").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="not a numbagrad checkpoint"):
        load(tmp_path / "trunc.ngc")
    np.save(tmp_path / "plain.npy", np.arange(3))
    with pytest.raises(ValueError, match="not a numbagrad checkpoint"):
        load(tmp_path / "plain.npy")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(ValueError, match="not a numbagrad checkpoint"):
        load(tmp_path / "other.npz")


# ---------------------------------------------------------------- atomicity


def test_error_during_write_keeps_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.ngc"
    save({"epoch": 1, "w": ng.ones(10)}, path)
    real = np.lib.format.write_array
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    with pytest.raises(OSError, match="disk full"):
        save({"epoch": 2, "w": ng.zeros(10)}, path)
    monkeypatch.undo()
    back = load(path)
    assert back["epoch"] == 1 and back["w"].tolist() == [1.0] * 10
    assert os.listdir(tmp_path) == ["ckpt.ngc"]


_SERVER = textwrap.dedent("""
    # Imports numbagrad once, then forks one checkpoint writer per request (a JSON line:
    # path, first epoch, mode, log file) and answers with the writer's pid. Writers use
    # numpy only (no Numba kernel runs after the fork) and stop by themselves after 60 s.
    import json, os, signal, sys, time
    import numpy as np
    import numbagrad as ng
    from numbagrad.serialization import save

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # writers are reaped automatically
    N = 1 << 20

    def write_loop(path, epoch, mode, log):
        out = open(log, "w", buffering=1)
        real = np.lib.format.write_array
        calls = []

        def stalling(*a, **k):  # blocks inside the write of the second array
            calls.append(1)
            if len(calls) == 3:
                out.write("stalled\\n")
                time.sleep(60)
            return real(*a, **k)

        t0 = time.time()
        while time.time() - t0 < 60:
            ckpt = {"epoch": epoch,
                    "model": {f"layer{i}.weight": ng.from_numpy(np.full(N, epoch, np.float32))
                              for i in range(4)},
                    "optimizer": {"state": {0: {"step": ng.tensor(float(epoch))}},
                                  "param_groups": [{"lr": 0.1, "params": [0]}]}}
            out.write(f"start {epoch}\\n")
            if mode == "stall" and epoch > 0:
                np.lib.format.write_array = stalling
            save(ckpt, path)
            out.write(f"saved {epoch}\\n")
            epoch += 1

    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                write_loop(req["path"], req["epoch"], req["mode"], req["log"])
            finally:
                os._exit(0)
        print(pid, flush=True)
""")


@pytest.fixture(scope="module")
def writers(tmp_path_factory):
    """``start(path, epoch, mode) -> (pid, log)``: a checkpoint-writing process to kill."""
    script = tmp_path_factory.mktemp("writer") / "server.py"
    script.write_text(_SERVER)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    server = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    pids = []

    def start(path, epoch, mode):
        log = f"{path}.log"
        server.stdin.write(json.dumps({"path": str(path), "epoch": epoch, "mode": mode,
                                       "log": log}) + "\n")
        server.stdin.flush()
        reply = server.stdout.readline()
        assert reply.strip().isdigit(), f"writer server failed: {reply!r}"
        pids.append(int(reply))
        return pids[-1], log

    yield start
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    server.stdin.close()
    server.wait(timeout=30)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill(pid):
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while _alive(pid):  # gone once the kernel has reaped it
        assert time.time() < deadline, "writer did not die"
        time.sleep(0.002)


def _wait_for(log, text, timeout=60):
    deadline = time.time() + timeout
    while True:
        lines = open(log).read().splitlines() if os.path.exists(log) else []
        if text in lines:
            return
        assert time.time() < deadline, f"writer never reported {text!r}: {lines}"
        time.sleep(0.002)


def _log_numbers(log, word):
    return [int(s.split()[1]) for s in open(log).read().splitlines()
            if s.startswith(word + " ")]


def _check_complete(path):
    ck = load(path)
    e = ck["epoch"]
    assert sorted(ck["model"]) == [f"layer{i}.weight" for i in range(4)]
    for w in ck["model"].values():
        a = w.numpy()
        assert a.shape == (1 << 20,) and a.dtype == np.float32
        assert a[0] == e and a[-1] == e and np.all(a == e)
    assert ck["optimizer"]["state"][0]["step"].item() == e
    return e


def test_sigkill_at_random_moments_never_corrupts(tmp_path, writers):
    """A training job saving 16 MB checkpoints in a loop is killed at a random moment, then
    resumes from what it finds; five times. Each time the checkpoint must load complete, at
    the last save reported done or at one begun after it."""
    path = tmp_path / "ckpt.ngc"
    rng = random.Random(os.getpid())
    epoch = 0
    for k in range(5):
        pid, log = writers(path, epoch, "loop")
        try:
            _wait_for(log, f"saved {epoch}")
            time.sleep(rng.uniform(0.0, 0.4))  # a save takes ~0.1 s: some in the next few
        finally:
            _kill(pid)
        loaded = _check_complete(path)
        saved, started = _log_numbers(log, "saved"), _log_numbers(log, "start")
        assert max(saved) <= loaded <= max(started), (k, saved, started, loaded)
        epoch = loaded + 1


def test_sigkill_in_the_middle_of_a_write_keeps_previous(tmp_path, writers):
    path = tmp_path / "ckpt.ngc"
    pid, log = writers(path, 0, "stall")
    try:
        _wait_for(log, "stalled")
    finally:
        _kill(pid)
    assert _log_numbers(log, "saved") == [0] and _log_numbers(log, "start") == [0, 1]
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".ckpt.ngc.")  # half-written
    assert _check_complete(path) == 0
