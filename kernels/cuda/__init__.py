"""The CUDA kernel namespace: ``@cuda.jit`` kernels behind launchers that take and return
``CudaArray`` views of pooled device memory, with the same public names as
``numbagrad.kernels.cpu``. ``numbagrad.backend`` hands this module to the ops for tensors on
``"cuda"``. Importing it needs numba-cuda 0.30.x; it runs on a GPU or, with
``NUMBA_ENABLE_CUDASIM=1``, on numba's CUDA simulator.
"""
from . import _runtime  # noqa: F401  (numpy >= 2.5 fix before numba.cuda is used)
from . import elementwise, transfer
from ._memory import POOL
from ._runtime import SIM, available
from .array import CudaArray
from .elementwise import *  # noqa: F401,F403
from .transfer import *  # noqa: F401,F403

__all__ = list(elementwise.__all__) + transfer.__all__
