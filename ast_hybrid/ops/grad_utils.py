"""Helpers shared by the operators' gradient declarations (vector-Jacobian products in numpy).

Every `grad(attrs, inputs, outputs, out_grads)` receives numpy arrays: the forward's inputs
and outputs and one gradient per output (zeros for outputs nothing depended on), and returns
one gradient per input: an array shaped like that input, or None for "no gradient" (zero,
or an integer input such as indices). Mode-dependent operators find `attrs["training"]`.
A gradient that declares `writes_into` also takes `out=`: None, or one entry per input, a
buffer that input's gradient may be written into and returned as (see fits_buffer), False
where that gradient is not wanted (None is returned for it), or None.
"""
import numpy as np


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: the gradient of numpy-broadcasting an array of `shape`."""
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def unary(derivative):
    """grad for y = f(x) given derivative(x, y) = dy/dx, elementwise."""
    def grad(attrs, inputs, outputs, out_grads):
        return [out_grads[0] * derivative(inputs[0], outputs[0])]
    return grad


def no_grad(attrs, inputs, outputs, out_grads):
    """Not differentiable (comparisons, rounding, indices): zero for every input."""
    return [None] * len(inputs)


def reshape_grad(attrs, inputs, outputs, out_grads):
    """Operators that only change the shape (reshape, flatten, expand_dims, squeeze)."""
    return [out_grads[0].reshape(inputs[0].shape)] + [None] * (len(inputs) - 1)


def fits_buffer(buffer, shape, dtype):
    """`buffer` when a result of this shape and dtype may be written into it, else None."""
    if type(buffer) is np.ndarray and buffer.shape == shape and buffer.dtype == dtype \
            and buffer.flags.c_contiguous and buffer.flags.writeable:
        return buffer
    return None


def wanted(out, index):
    """Whether an `out=` list (see the module's docstring) wants input `index`'s gradient."""
    return out is None or index >= len(out) or out[index] is not False


def buffer_for(out, index):
    """The buffer an `out=` list offers for input `index`'s gradient, or None."""
    return out[index] if out is not None and index < len(out) else None
