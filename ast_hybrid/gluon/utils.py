"""gluon.utils: splitting batches across devices (one CPU here) and clipping gradients."""
import numpy as np

from ..ndarray import NDArray


def split_data(data, num_slice, batch_axis=0, even_split=True):
    size = data.shape[batch_axis]
    if even_split and size % num_slice:
        raise ValueError(f"batch of {size} cannot be split evenly into {num_slice} slices; "
                         "use even_split=False")
    bounds = np.linspace(0, size, num_slice + 1).astype(int)
    return [NDArray(np.take(data._data, range(lo, hi), axis=batch_axis))
            for lo, hi in zip(bounds[:-1], bounds[1:])]


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """One slice of the batch per context; with the one CPU context, the batch itself."""
    if not isinstance(data, NDArray):
        data = NDArray(np.asarray(data))
    if len(ctx_list) == 1:
        return [data]
    return split_data(data, len(ctx_list), batch_axis, even_split)


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Scale `arrays` in place so that their joint 2-norm is at most max_norm; returns the norm."""
    total = float(np.sqrt(sum(float((a._data.astype(np.float64) ** 2).sum()) for a in arrays)))
    if check_isfinite and not np.isfinite(total):
        raise ValueError(f"clip_global_norm: the norm is not finite ({total})")
    scale = max_norm / (total + 1e-8)
    if scale < 1.0:
        for array in arrays:
            array._data *= array._data.dtype.type(scale)
    return total
