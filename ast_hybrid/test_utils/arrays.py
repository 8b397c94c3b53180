"""Random arrays and shapes for tests, drawn from numpy's global generator as MXNet's are."""
import numpy as np
import numpy.random as rnd

from .. import ndarray as nd
from .context import default_context, default_dtype

__all__ = ["random_arrays", "random_uniform_arrays", "rand_ndarray", "rand_shape_2d",
           "rand_shape_3d", "rand_shape_nd"]


def random_arrays(*shapes):
    """Standard normal numpy arrays of the default dtype, one per shape (one array for one
    shape)."""
    arrays = [np.array(np.random.randn(), dtype=default_dtype()) if len(shape) == 0
              else np.random.randn(*shape).astype(default_dtype()) for shape in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def random_uniform_arrays(*shapes, low=0.0, high=1.0, dtype=None):
    """A list of uniform numpy arrays in [low, high), one per shape (a list for one shape
    too, as in MXNet)."""
    dtype = default_dtype() if dtype is None else dtype
    return [np.random.uniform(low, high, size=shape).astype(dtype) for shape in shapes]


def rand_ndarray(shape, stype="default", density=None, dtype=None, modifier_func=None,
                 shuffle_csr_indices=False, distribution=None, ctx=None):
    """A standard normal NDArray of `shape`. Only dense storage: arrays here are held
    dense, so a random sparse array would not test what it claims to."""
    if stype != "default":
        raise NotImplementedError(
            f"rand_ndarray: storage type {stype!r} is not supported: ast_hybrid holds every "
            "array dense; use stype='default'")
    return nd.array(random_arrays(shape), dtype=dtype, ctx=ctx or default_context())


def rand_shape_2d(dim0=10, dim1=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return rnd.randint(low, dim0 + 1), rnd.randint(low, dim1 + 1)


def rand_shape_3d(dim0=10, dim1=10, dim2=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return rnd.randint(low, dim0 + 1), rnd.randint(low, dim1 + 1), rnd.randint(low, dim2 + 1)


def rand_shape_nd(num_dim, dim=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return tuple(rnd.randint(low, dim + 1, size=num_dim))
