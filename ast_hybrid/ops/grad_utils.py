"""Helpers shared by the operators' gradient declarations (vector-Jacobian products in numpy).

Every `grad(attrs, inputs, outputs, out_grads)` receives numpy arrays: the forward's inputs
and outputs and one gradient per output (zeros for outputs nothing depended on), and returns
one gradient per input: an array shaped like that input, or None for "no gradient" (zero,
or an integer input such as indices). Mode-dependent operators find `attrs["training"]`.
"""


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
