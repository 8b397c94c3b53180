"""Run-time helpers of generated backward programs: accumulating gradients and the
vector-Jacobian products of Python's own operators (kernels use the table's gradients)."""
import numpy as np

from ..ops.grad_utils import unbroadcast as summed_to_shape
from ..ops.registry import reaching


def accumulate(total, contribution):
    """total + contribution, where either may be None (no gradient) or a tuple of gradients."""
    if contribution is None:
        return total
    if total is None:
        return contribution
    if isinstance(total, (tuple, list)):
        if len(total) != len(contribution):
            raise AssertionError(f"gradients of {len(total)} and {len(contribution)} items "
                                 "added: the reverse pass lost track of a list")
        return [accumulate(t, c) for t, c in zip(total, contribution)]
    return total + contribution


def unbroadcast(gradient, value):
    """Sum a gradient back to the shape of the value that was broadcast; None for Python
    numbers (constants of the program), a scalar for numpy scalars (such as `x[i, j]`)."""
    if isinstance(value, np.generic):
        return value.dtype.type(np.sum(gradient))
    if not isinstance(value, np.ndarray):
        return None
    return summed_to_shape(gradient, value.shape).astype(value.dtype, copy=False)


def add_vjp(a, b, result, gradient):
    """Gradients of a + b with respect to a and b (as those of -, *, /, **, % and // below)."""
    return unbroadcast(gradient, a), unbroadcast(gradient, b)


def sub_vjp(a, b, result, gradient):
    return unbroadcast(gradient, a), unbroadcast(-gradient, b)


def mult_vjp(a, b, result, gradient):
    return unbroadcast(gradient * b, a), unbroadcast(gradient * a, b)


def div_vjp(a, b, result, gradient):
    return unbroadcast(gradient / b, a), unbroadcast(-gradient * a / (b * b), b)


def pow_vjp(a, b, result, gradient):
    grad_a = unbroadcast(gradient * b * np.power(a, b - 1), a)
    grad_b = None
    if isinstance(b, np.ndarray):
        safe = np.where(a > 0, a, 1)
        grad_b = unbroadcast(gradient * result * np.log(safe), b)
    return grad_a, grad_b


def mod_vjp(a, b, result, gradient):
    return unbroadcast(gradient, a), unbroadcast(-gradient * np.floor_divide(a, b), b)


def floordiv_vjp(a, b, result, gradient):
    return unbroadcast(np.zeros_like(gradient), a), unbroadcast(np.zeros_like(gradient), b)


def negate(gradient):
    return None if gradient is None else -gradient


def subscript_vjp(container, index, gradient):
    """Gradient of container[index]: the output gradient scattered back into place."""
    if isinstance(container, (tuple, list)):
        gradients = [None] * len(container)
        gradients[index] = gradient
        return gradients
    if not isinstance(container, np.ndarray):
        return None
    result = np.zeros_like(container)
    np.add.at(result, index, gradient)
    return result


def element_gradient(gradient, position):
    if gradient is None:
        return None
    return gradient[position]


def kernel_vjp(op, attrs, inputs, output, gradient):
    """Gradients of a table operator's inputs, from its declared gradient."""
    if op.grad is None:
        raise NotImplementedError(f"the operator {op.name} has no gradient")
    outputs = tuple(output) if isinstance(output, (tuple, list)) else (output,)
    gradients = tuple(gradient) if isinstance(gradient, (tuple, list)) else (gradient,)
    gradients = tuple(np.zeros_like(o) if g is None else g for o, g in zip(outputs, gradients))
    return reaching(op.grad)(attrs, list(inputs), list(outputs), list(gradients))


def sum_vjp(items, gradient):
    """Gradients of Python's sum(items) = ((0 + a) + b) + ...: each array item receives the
    output gradient summed to its shape; plain numbers receive none."""
    return [unbroadcast(gradient, item) for item in items]


def variadic_vjp(items, op, attrs, output, gradient):
    """Gradients of runtime.variadic's items: the operator's own, one per item."""
    attrs = op.parse_attrs(dict(attrs, num_args=len(items)))
    return reaching(op.grad)(attrs, list(items), [output], [gradient])


def append_vjp(earlier, gradient):
    """(gradient of the list before `append`, gradient of the appended item)."""
    count = len(earlier)
    return list(gradient[:count]), gradient[count]


def extend_vjp(earlier, gradient):
    """(gradient of the list before `extend`, gradients of the added items)."""
    count = len(earlier)
    return list(gradient[:count]), list(gradient[count:])


