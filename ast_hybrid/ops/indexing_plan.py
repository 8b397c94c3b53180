"""Python indexing (`x[1:3, 0]`, `x[idx]`) as table operators, for arrays and symbols."""
from numbers import Integral

import numpy as np


def plan_getitem(key, ndim):
    """[(operator name, attrs, extra inputs)] that compute `x[key]`; `ndim` may be None (symbols).

    Basic indexing becomes `slice` (+ `squeeze` for integer positions, `expand_dims` for None);
    an integer-array key becomes `take` along the first axis.
    """
    if not isinstance(key, tuple):
        key = (key,)
    if len(key) == 1 and _is_index_array(key[0]):
        return [("take", {"axis": 0, "mode": "wrap"}, (key[0],))]
    if any(_is_index_array(k) for k in key):
        raise TypeError("indexing with arrays is supported only as x[index_array] on axis 0")
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    concrete = [k for k in key if k is not None]
    if Ellipsis in concrete:
        position = concrete.index(Ellipsis)
        tail = len(concrete) - position - 1
        if tail:
            if ndim is None:
                raise IndexError("'...' before other indices needs a known number of dimensions")
            fill = ndim - (len(concrete) - 1)
            concrete = concrete[:position] + [slice(None)] * fill + concrete[position + 1:]
        else:
            concrete = concrete[:position]
    if ndim is not None and len(concrete) > ndim:
        raise IndexError(f"too many indices ({len(concrete)}) for a {ndim}-d array")
    begin, end, step, squeeze = [], [], [], []
    for axis, k in enumerate(concrete):
        if isinstance(k, slice):
            begin.append(_int_or_none(k.start))
            end.append(_int_or_none(k.stop))
            step.append(_int_or_none(k.step))
        elif isinstance(k, (Integral, np.integer)):
            k = int(k)
            begin.append(k)
            end.append(k + 1 if k != -1 else None)
            step.append(None)
            squeeze.append(axis)
        else:
            raise TypeError(f"unsupported index {k!r}")
    plan = []
    if concrete and not all(isinstance(k, slice) and k == slice(None) for k in concrete):
        plan.append(("slice", {"begin": tuple(begin), "end": tuple(end), "step": tuple(step)}, ()))
    if squeeze:
        plan.append(("squeeze", {"axis": tuple(squeeze)}, ()))
    kept = 0
    remaining = iter(concrete)
    for k in key:
        if k is None:
            plan.append(("expand_dims", {"axis": kept}, ()))
            kept += 1
        elif k is Ellipsis:
            kept += (ndim - len(concrete)) if ndim is not None else 0
        else:
            item = next(remaining, slice(None))
            kept += 0 if isinstance(item, (Integral, np.integer)) else 1
    return plan


def _is_index_array(k):
    return hasattr(k, "shape") and hasattr(k, "dtype") and not isinstance(k, np.integer) \
        or isinstance(k, list)


def _int_or_none(value):
    if value is None:
        return None
    return int(value)


def assign_items(data, key, value):
    """`x[key] = value` on the numpy array behind an NDArray, as MXNet assigns: a float index
    array indexes by its integers, and a one-element array fills one element (`y[i, j] =
    x.sum()`, whose shape is (1,))."""
    if _is_index_array(key) and not isinstance(key, list):
        key = np.asarray(key)
        key = key.astype(np.int64) if key.dtype.kind == "f" else key
    try:
        data[key] = value
    except ValueError:
        # numpy 2 refuses a sequence for a scalar position
        value = np.asarray(value)
        if value.size != 1:
            raise
        data[key] = value.reshape(())
