"""The few helpers a generated program calls besides kernels, with the gradients of those that
pass arrays through (`GRADIENTS`, read by the reverse-mode pass)."""
import numpy as np

from .. import ops
from ..ndarray import NDArray
from ..ops.indexing_plan import assign_items, plan_getitem
from .. import ndarray as nd
from ..ndarray.invoke import check_input
from .backend import operator_error_of


def show(value):
    """The value as the user's code sees it: arrays appear as NDArrays (for `print`, `str`,
    `float`, ... which then behave exactly as they do imperatively)."""
    if isinstance(value, np.ndarray):
        return NDArray(value)
    if isinstance(value, tuple):
        return tuple(show(v) for v in value)
    if isinstance(value, list):
        return [show(v) for v in value]
    return value


def dtype_of(value):
    """`value.dtype` as the user's code sees it: an array's (an NDArray's) is numpy's scalar
    type, as NDArray.dtype is; any other value's is its own."""
    if isinstance(value, np.ndarray):
        return value.dtype.type
    return value.dtype


def _index_steps(data, key):
    """[(operator, parsed attrs, extra inputs)] that NDArray indexing applies for `data[key]`."""
    steps = []
    for op_name, attrs, extra in plan_getitem(key, data.ndim):
        op = ops.get(op_name)
        extra = [e._data if isinstance(e, NDArray) else np.asarray(e) for e in extra]
        steps.append((op, op.parse_attrs(attrs), extra))
    return steps


def getitem(data, key):
    """`data[key]` for a key known only at run time, as NDArray indexing computes it (the same
    operators, so the same shapes, values and errors)."""
    if not isinstance(data, np.ndarray):
        return data[key]
    for op, attrs, extra in _index_steps(data, key):
        op.infer_shape(attrs, [data.shape] + [e.shape for e in extra])
        data = op.view_kernel(data, *extra, **attrs)    # views, as NDArray indexing gives
    return data


def getitem_vjp(data, key, gradient):
    """The gradient of getitem(data, key) with respect to data: the operators' own gradients
    applied in reverse order."""
    if not isinstance(data, np.ndarray):
        gradients = [None] * len(data)
        gradients[key] = gradient
        return gradients
    values = [data]
    steps = _index_steps(data, key)
    for op, attrs, extra in steps:
        values.append(op.kernel(values[-1], *extra, **attrs))
    for (op, attrs, extra), value, output in reversed(list(zip(steps, values, values[1:]))):
        gradient = op.grad(attrs, [value] + extra, [output], [gradient])[0]
    return gradient


def variadic(items, op, attrs):
    """`F.op(*items, **attrs)` for an operator of any number of inputs (concat, stack,
    add_n) on a list whose length is known only now: bound, checked and run as NDArray's
    call of it does."""
    attrs = op.parse_attrs(dict(attrs, num_args=len(items)))
    for item in items:
        check_input(item, op.name)
    op.infer_shape(attrs, [item.shape for item in items])
    return op.kernel(*items, **attrs)


GRADIENTS = {getitem: getitem_vjp}


def asnumpy(data):
    """`x.asnumpy()`: a plain numpy copy, outside the graph."""
    return data.copy()


def detach(data):
    """`x.detach()`: the same values, outside the graph."""
    return data


def array(value, dtype=None, from_ndarray=False):
    """`nd.array(value, dtype=dtype)`, by nd.array's own rules: the value is an NDArray of
    the user's code where `from_ndarray`, else a plain value; the result is outside the graph."""
    return nd.array(NDArray(value) if from_ndarray else value, dtype=dtype)._data


def setitem(data, key, value):
    """`x[key] = value` on an array of the user's code, as NDArray assigns."""
    if isinstance(data, np.ndarray):
        assign_items(data, key, value)
    else:
        data[key] = value


def update(array, result):
    """`x op= y` on an NDArray: the result written into x itself (see NDArray._inplace)."""
    array[...] = result
    return array


def update_or_rebind(current, result):
    """`x op= y` on a value that may be an NDArray: written into x itself when it is one,
    as NDArray does, or a list (extended in place, as Python does), else x's new value."""
    if isinstance(current, np.ndarray):
        return update(current, result)
    if isinstance(current, list):
        current[:] = result
        return current
    return result


# calls that change their first argument in place
MUTATORS = (setitem, update, update_or_rebind)


def operator_error(program_ref, error):
    """What an `except` of the user's code catches: the operator's own error where
    imperative mode raises one for the failing expression (see operator_errors), else
    `error` itself."""
    return operator_error_of(program_ref(), error)


UNBOUND = object()    # a recording program's variable that no path has set yet


def check_bound(value, name):
    """Reading a recording program's variable: unset, it raises what Python raises."""
    if value is UNBOUND:
        raise UnboundLocalError(f"cannot access local variable {name!r} where it is not "
                                "associated with a value")


def raise_error(error_type, args):
    """Raise what evaluating an expression raised while compiling, now that it runs."""
    raise error_type(*args)


# helpers whose results leave the graph, as their imperative counterparts do
GRAPH_EXITS = (show, asnumpy, detach, array)
