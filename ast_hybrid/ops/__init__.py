"""The operator table; importing this package registers every operator."""
from . import elemwise, nn, reduce, matrix, shape_ops, indexing  # noqa: F401  (registration)
from . import normalization, conv, deconv, creation, ordering  # noqa: F401  (registration)
from . import group_norm, pad  # noqa: F401  (registration side effects)
from . import special, shape_info, sequence, gather_scatter  # noqa: F401  (registration)
from . import attention, image, resize, rnn  # noqa: F401  (registration)
from .registry import REGISTRY, Op, OpError, get, bind, register, VARIADIC

__all__ = ["REGISTRY", "Op", "OpError", "get", "bind", "register", "VARIADIC"]
