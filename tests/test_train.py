"""The main job (``python -m numbagrad.train``): accuracy targets and kill-then-resume."""
import os
import signal
import subprocess
import sys
import time

import pytest

import numbagrad as ng
from numbagrad import train


def _run(args, capsys):
    acc = train.main(args + ["--no-progress"])
    return acc, capsys.readouterr().out


@pytest.mark.slow
def test_mlp_reaches_97_percent(tmp_path, capsys):
    acc, out = _run(["--model", "mlp", "--checkpoint", str(tmp_path / "m.ckpt")], capsys)
    assert acc >= 0.97, out
    assert "epoch  30" in out and (tmp_path / "m.ckpt").exists()


@pytest.mark.slow
def test_cnn_reaches_98_percent(tmp_path, capsys):
    acc, out = _run(["--model", "cnn", "--checkpoint", str(tmp_path / "c.ckpt")], capsys)
    assert acc >= 0.98, out


def _epochs_done(path):
    try:
        return ng.load(path)["epoch"]
    except Exception:  # not written yet
        return 0


def test_killed_run_resumes_from_checkpoint(tmp_path, capsys):
    """SIGKILL a training process after it wrote a checkpoint; --resume continues from it
    and ends exactly where an uninterrupted run ends (per-epoch seeded shuffling)."""
    ckpt = tmp_path / "k.ckpt"
    args = ["--model", "mlp", "--epochs", "6", "--checkpoint", str(ckpt), "--no-progress"]
    proc = subprocess.Popen([sys.executable, "-m", "numbagrad.train", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 240
    while _epochs_done(ckpt) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = _epochs_done(ckpt)
    assert 2 <= done <= 6, proc.stdout.read()
    acc_resumed, out = _run(args[:-1] + ["--resume"], capsys)
    assert f"resumed from {ckpt} after epoch {done}" in out
    if done < 6:
        assert f"epoch {done + 1:3d}" in out and f"epoch {done:3d}" not in out.split("resumed")[1]
    fresh = tmp_path / "fresh.ckpt"
    acc_fresh, _ = _run(["--model", "mlp", "--epochs", "6", "--checkpoint", str(fresh)], capsys)
    assert acc_resumed == pytest.approx(acc_fresh, abs=1e-9)
    a, b = ng.load(str(ckpt))["model"], ng.load(str(fresh))["model"]
    for k in a:
        assert ng.allclose(a[k], b[k], rtol=1e-5, atol=1e-6), k
    assert not os.path.exists(str(ckpt) + ".tmp")
