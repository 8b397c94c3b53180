"""The few helpers a generated program calls besides kernels."""
import numpy as np

from ..ndarray import NDArray


def show(value):
    """What `print` shows for a value: arrays appear as the NDArrays the user's code sees."""
    if isinstance(value, np.ndarray):
        return NDArray(value)
    if isinstance(value, tuple):
        return tuple(show(v) for v in value)
    if isinstance(value, list):
        return [show(v) for v in value]
    return value


def as_index(value):
    """An array used as an index, as integers (MXNet indexes with float arrays)."""
    return value.astype(np.int64) if value.dtype.kind == "f" else value
