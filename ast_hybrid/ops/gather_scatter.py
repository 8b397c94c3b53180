"""gather_nd and scatter_nd: elements addressed by index tuples, one tuple per column of indices."""
import numpy as np

from . import attrs as A
from .registry import Op, register, shape_error
from .shapes import known, require


def _addressed(op_name, indices, shape, shapes):
    """How many leading axes of `shape` the indices address; checked by rules and kernels."""
    require(len(indices) >= 1 and 1 <= indices[0] <= len(shape), op_name,
            f"indices' first dimension must be between 1 and {len(shape)}", shapes)
    return indices[0]


def _rows(op_name, indices, shape, shapes):
    """Each index tuple as one flat position into the addressed axes (negative indices count
    from the end, as in MXNet; out of range is refused, as MXNet's IndexError)."""
    count = indices.shape[0]
    positions = indices.reshape(count, -1).astype(np.intp)
    sizes = np.array(shape[:count], dtype=np.intp)[:, None]
    if positions.size and ((positions < -sizes) | (positions >= sizes)).any():
        raise shape_error(op_name, "an index is out of range", shapes)
    return np.ravel_multi_index(tuple(np.where(positions < 0, positions + sizes, positions)),
                                shape[:count])


def _gather_nd(data, indices):
    count = _addressed("gather_nd", indices.shape, data.shape, (data, indices))
    rows = _rows("gather_nd", indices, data.shape, (data, indices))
    table = data.reshape((-1,) + data.shape[count:])
    return table[rows].reshape(indices.shape[1:] + data.shape[count:])


def _gather_nd_shape(attrs, in_shapes):
    data, indices = known("gather_nd", in_shapes)
    count = _addressed("gather_nd", indices, data, in_shapes)
    return [data, indices], [indices[1:] + data[count:]]


def _gather_nd_grad(attrs, inputs, outputs, out_grads):
    data, indices = inputs
    count = indices.shape[0]
    d = np.zeros((int(np.prod(data.shape[:count])),) + data.shape[count:], dtype=data.dtype)
    rows = _rows("gather_nd", indices, data.shape, inputs)
    np.add.at(d, rows, out_grads[0].reshape((rows.size,) + data.shape[count:]))
    return [d.reshape(data.shape), None]


register(Op("gather_nd", _gather_nd, _gather_nd_shape, inputs=("data", "indices"),
            grad=_gather_nd_grad))


def _winners(rows):
    """The columns that write last to each position: numpy's assignment keeps the last of
    repeated indices, so only those reach the output (and take gradient)."""
    _, last_from_end = np.unique(rows[::-1], return_index=True)
    return rows.size - 1 - last_from_end


def _scatter_target(data, indices, shape, shapes):
    count = _addressed("scatter_nd", indices, shape, shapes)
    want = tuple(indices[1:]) + tuple(shape[count:])
    require(tuple(data) == want, "scatter_nd", f"data must have shape {want}", shapes)
    return count


def _scatter_nd(data, indices, *, shape):
    shape = tuple(shape)
    count = _scatter_target(data.shape, indices.shape, shape, (data, indices))
    rows = _rows("scatter_nd", indices, shape, (data, indices))
    out = np.zeros((int(np.prod(shape[:count])),) + shape[count:], dtype=data.dtype)
    chosen = _winners(rows)
    out[rows[chosen]] = data.reshape((rows.size,) + shape[count:])[chosen]
    return out.reshape(shape)


def _scatter_nd_shape(attrs, in_shapes):
    data, indices = known("scatter_nd", in_shapes)
    _scatter_target(data, indices, attrs["shape"], in_shapes)
    return [data, indices], [tuple(attrs["shape"])]


def _scatter_nd_grad(attrs, inputs, outputs, out_grads):
    data, indices = inputs
    shape = tuple(attrs["shape"])
    count = indices.shape[0]
    rows = _rows("scatter_nd", indices, shape, inputs)
    chosen = _winners(rows)
    g = out_grads[0].reshape((-1,) + shape[count:])
    d = np.zeros((rows.size,) + shape[count:], dtype=data.dtype)
    d[chosen] = g[rows[chosen]]
    return [d.reshape(data.shape), None]


register(Op("scatter_nd", _scatter_nd, _scatter_nd_shape, inputs=("data", "indices"),
            grad=_scatter_nd_grad, attrs={"shape": A.Shape()}))
