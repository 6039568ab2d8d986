"""Starting MPI jobs from the tests: ``mpirun(n, argv)`` runs ``mpiexec -n n`` with one BLAS
and one Numba thread per rank and the repository on ``PYTHONPATH``; ``needs_mpi`` skips a
test when mpi4py or an ``mpiexec`` is missing."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def mpiexec():
    here = Path(sys.executable).parent / "mpiexec"  # the mpich wheel's, beside python
    return str(here) if here.exists() else shutil.which("mpiexec")


def _have_mpi4py() -> bool:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


needs_mpi = pytest.mark.skipif(
    not (_have_mpi4py() and mpiexec()),
    reason="needs mpi4py and mpiexec (pip install numbagrad[distributed])")


def mpirun(n, argv, timeout=120, env_extra=None):
    """``(exit status, stdout and stderr together)`` of ``mpiexec -n n python *argv``."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    proc = subprocess.run([mpiexec(), "-n", str(n), sys.executable, *map(str, argv)],
                          env=env, cwd=str(ROOT), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return proc.returncode, proc.stdout
