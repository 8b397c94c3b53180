"""The `nd` namespace: NDArray, array constructors, and one function per table operator."""
import numpy as np

from ..ops.namespace import populate
from . import contrib, image, random
from .invoke import apply, apply_named
from .io import load, save
from .ndarray import DEFAULT_DTYPE, NDArray


def array(source_array, ctx=None, dtype=None):
    """An NDArray copy of `source_array`: of its dtype when it is an NDArray, else float32
    unless `dtype` says otherwise (as MXNet: a float64 or int64 numpy array gives float32)."""
    if isinstance(source_array, NDArray):
        if dtype is None:
            dtype = source_array.dtype
        source_array = source_array.asnumpy()
    if dtype is None:
        dtype = DEFAULT_DTYPE
    return NDArray(np.array(source_array, dtype=dtype))._placed(ctx)


def empty(shape, ctx=None, dtype=DEFAULT_DTYPE):
    return NDArray(np.empty(shape, dtype=dtype))._placed(ctx)


def waitall():
    """Computation is synchronous here, so there is nothing to wait for."""


populate(globals(), apply_named, apply, place=NDArray._placed)

__all__ = ["contrib", "image", "load", "random", "save"]
