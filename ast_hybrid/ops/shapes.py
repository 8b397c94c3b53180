"""Shape rules shared by families of operators."""
from .registry import OpError, shape_error


def known(op_name, shapes, count=None):
    """The first `count` input shapes (all by default), each of which must be known."""
    chosen = shapes if count is None else shapes[:count]
    if any(s is None for s in chosen):
        raise shape_error(op_name, "input shape unknown", shapes)
    return [tuple(s) for s in chosen]


def broadcast_shapes(op_name, *shapes):
    """numpy's broadcasting rule, with an error naming the operator and the shapes."""
    ndim = max(len(s) for s in shapes)
    result = []
    for axis in range(ndim):
        sizes = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            raise shape_error(op_name, "shapes cannot be broadcast together", shapes)
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def elementwise(op_name):
    """Output shaped like the first input; other inputs must match it (broadcasting not allowed)."""
    def rule(attrs, in_shapes):
        reference = next((s for s in in_shapes if s is not None), None)
        if reference is None:
            raise shape_error(op_name, "input shape unknown", in_shapes)
        for s in in_shapes:
            if s is not None and tuple(s) != tuple(reference):
                raise shape_error(op_name, "inputs must have the same shape", in_shapes)
        return [tuple(reference)] * len(in_shapes), [tuple(reference)]
    return rule


def broadcasting(op_name):
    def rule(attrs, in_shapes):
        shapes = known(op_name, in_shapes)
        return shapes, [broadcast_shapes(op_name, *shapes)]
    return rule


def normalize_axis(op_name, axis, ndim, shapes):
    if not -ndim <= axis < max(ndim, 1):
        raise shape_error(op_name, f"axis {axis} out of range for {ndim}-d input", shapes)
    return axis % ndim if ndim else 0


def reduced_shape(op_name, shape, axis, keepdims, exclude=False):
    """Shape after reducing `axis` (None, an int or a tuple) as MXNet's reduce operators do."""
    ndim = len(shape)
    if axis is None or axis == ():
        axes = set(range(ndim))
    else:
        axes_list = axis if isinstance(axis, tuple) else (axis,)
        axes = {normalize_axis(op_name, a, ndim, [shape]) for a in axes_list}
    if exclude:
        axes = set(range(ndim)) - axes
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    out = tuple(n for i, n in enumerate(shape) if i not in axes)
    return out if out else (1,)


def require(condition, op_name, message, shapes):
    if not condition:
        raise shape_error(op_name, message, shapes)


__all__ = ["known", "broadcast_shapes", "elementwise", "broadcasting", "normalize_axis",
           "reduced_shape", "require", "OpError"]
