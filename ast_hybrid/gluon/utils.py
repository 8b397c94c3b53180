"""gluon.utils: splitting batches across devices (one CPU here) and clipping gradients."""
import functools
import warnings

import numpy as np

from .. import ndarray
from ..ndarray import NDArray


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """`num_slice` slices of `data` along `batch_axis`, as MXNet's: the first
    `size % num_slice` slices one longer; slices of the first axis are views (basic indexing),
    others copies (slice_axis); both recorded under autograd."""
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError(
            f"data with shape {data.shape} cannot be evenly split into {num_slice} slices "
            f"along axis {batch_axis}. Use a batch size that's multiple of {num_slice} or "
            "set even_split=False to allow uneven partitioning of data.")
    each, extras = divmod(size, num_slice)
    bounds = np.cumsum([0] + [each + 1] * extras + [each] * (num_slice - extras))
    if batch_axis == 0:
        return [data[int(lo):int(hi)] for lo, hi in zip(bounds[:-1], bounds[1:])]
    return [ndarray.slice_axis(data, axis=batch_axis, begin=int(lo), end=int(hi))
            for lo, hi in zip(bounds[:-1], bounds[1:])]


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """One slice of the batch on each context of `ctx_list` (with one context, the batch
    itself on it), as MXNet's."""
    if not isinstance(data, NDArray):
        data = ndarray.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [part.as_in_context(ctx) for part, ctx in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Scale `arrays` in place by min(1, max_norm / norm) for their joint 2-norm, as MXNet's:
    the norm in the first array's dtype, a warning where it is not finite; returned as a
    float, or as a (1,) NDArray with check_isfinite=False."""
    assert len(arrays) > 0
    dtype = arrays[0]._data.dtype
    squares = [np.dot(a._data.reshape(-1), a._data.reshape(-1)).astype(dtype) for a in arrays]
    total = np.sqrt(functools.reduce(np.add, squares)).reshape(1)
    if check_isfinite and not np.isfinite(total[0]):
        warnings.warn(UserWarning("nan or inf is detected. Clipping results will be "
                                  "undefined."), stacklevel=2)
    scale = np.minimum(np.asarray(max_norm, dtype) / (total + np.asarray(1e-8, dtype)),
                       np.ones(1, dtype))
    for array in arrays:
        array *= NDArray(scale.astype(array._data.dtype))
    return float(total[0]) if check_isfinite else NDArray(total)
