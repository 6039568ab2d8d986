"""The CUDA kernel namespace: ``@cuda.jit`` kernels behind launchers that take and return
``CudaArray`` views of pooled device memory, with the same public names as
``numbagrad.kernels.cpu``. ``numbagrad.backend`` hands this module to the ops for tensors on
``"cuda"``. Importing it needs numba-cuda 0.30.x; it runs on a GPU or, with
``NUMBA_ENABLE_CUDASIM=1``, on numba's CUDA simulator.
"""
from . import _runtime  # noqa: F401  (numpy >= 2.5 fix before numba.cuda is used)
from . import (conv, creation, elementwise, index, linalg, nnops, optim, quant, reduce,
               transfer)
from ._memory import POOL
from ._runtime import SIM, available
from .array import CudaArray
from .conv import *  # noqa: F401,F403
from .creation import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .nnops import *  # noqa: F401,F403
from .optim import *  # noqa: F401,F403
from .quant import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .transfer import *  # noqa: F401,F403

__all__ = (conv.__all__ + creation.__all__ + elementwise.__all__ + index.__all__
           + linalg.__all__ + nnops.__all__ + optim.__all__ + quant.__all__
           + reduce.__all__ + transfer.__all__)
