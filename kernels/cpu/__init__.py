"""The CPU kernel namespace: ``@njit`` kernels behind launchers that take and return numpy
arrays. ``numbagrad.backend`` hands this module to the ops for tensors on ``"cpu"``.
"""
from . import (conv, creation, elementwise, index, linalg, nnops, optim, quant, reduce,
               transfer)
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
