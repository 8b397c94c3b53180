"""Running one operator on NDArrays: bind, check shapes, call the kernel, wrap, record."""
import numpy as np

from .. import autograd, ops
from ..ops.indexing_plan import plan_getitem


def check_input(value, op_name):
    """An operator's input must be an array (an NDArray, or a numpy array it wraps)."""
    from .ndarray import NDArray
    if not isinstance(value, (NDArray, np.ndarray)):
        raise TypeError(f"{op_name}: expected an NDArray input, got {type(value).__name__}")


def _wrap_input(value, op_name):
    from .ndarray import NDArray
    check_input(value, op_name)
    return value if isinstance(value, NDArray) else NDArray(value)


def run(op, inputs, attrs, views=False):
    """Apply `op` with parsed attrs to NDArray inputs; returns an NDArray or a list of them,
    new arrays unless `views` (where MXNet's result shares the input's memory)."""
    from .ndarray import NDArray
    arrays = [x._data for x in inputs]
    op.infer_shape(attrs, [a.shape for a in arrays])
    kernel = op.view_kernel if views else op.kernel
    if op.mode_dependent:
        result = kernel(*arrays, training=autograd.is_training(), **attrs)
    else:
        result = kernel(*arrays, **attrs)
    multiple = isinstance(result, tuple)
    outputs = [NDArray(np.asarray(r)) for r in (result if multiple else (result,))]
    if inputs and inputs[0]._ctx is not None:
        for output in outputs:
            output._ctx = inputs[0]._ctx
    if autograd.is_recording():
        autograd.record_op(op, attrs, inputs, outputs)
    return outputs if multiple else outputs[0]


def apply(name, inputs, raw_attrs, views=False):
    op = ops.get(name)
    return run(op, [_wrap_input(x, name) for x in inputs], op.parse_attrs(raw_attrs), views)


def apply_named(name, args, kwargs, views=False):
    """Call an operator the way users do: inputs by position or name, attributes by keyword."""
    op = ops.get(name)
    out = kwargs.get("out")
    kwargs = {k: v for k, v in kwargs.items() if k not in ("name", "out", "ctx")}
    named_inputs, attrs = ops.bind(op, tuple(args), kwargs)
    missing = [n for n, v in named_inputs.items() if v is None]
    if missing:
        raise TypeError(f"{name}: missing input {', '.join(map(repr, missing))}")
    result = run(op, [_wrap_input(v, name) for v in named_inputs.values()], attrs, views)
    if out is None:
        return result
    out[:] = result     # MXNet writes the result into `out` (checked like x[:] = ... under record)
    return out


def getitem(array, key):
    from .ndarray import NDArray
    result = array
    for op_name, attrs, extra in plan_getitem(key, array.ndim):
        extra = [e if isinstance(e, NDArray) else NDArray(np.asarray(e)) for e in extra]
        result = apply(op_name, [result, *extra], attrs, views=True)   # views, as MXNet's
    return result
