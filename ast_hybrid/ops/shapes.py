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


def same_shape(op_name):
    """One input, output shaped like it."""
    def rule(attrs, in_shapes):
        shape = known(op_name, in_shapes)[0]
        return [shape], [shape]
    return rule


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
    """`axis` (in [-ndim, ndim)) as an index in [0, ndim); a 0-d input takes axis 0.

    The one axis check: shape rules call it with the input shapes, kernels with their input
    arrays (`shapes` only names them in the error), so a compiled program, which calls the
    kernel alone, refuses the axes imperative mode refuses, with the same OpError."""
    if -ndim <= axis < ndim:
        return axis + ndim if axis < 0 else axis
    if ndim == 0 and axis == 0:
        return 0
    raise shape_error(op_name, f"axis {axis} out of range for {ndim}-d input", shapes)


def as_tuple(value):
    """A tuple-valued attribute as its parser reads it: a compiled program passes a run-time
    value unparsed, which may be one integer (`axis=1` for `(1,)`)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def normalize_axes(op_name, axes, ndim, shapes):
    """A tuple of distinct axes in [0, ndim) (see normalize_axis) for `axes`: a tuple, or one
    integer (as_tuple)."""
    axes = as_tuple(axes)
    chosen = tuple(normalize_axis(op_name, a, ndim, shapes) for a in axes)
    if len(chosen) > 1 and len(set(chosen)) < len(chosen):
        raise shape_error(op_name, f"axis {tuple(axes)} names an axis twice", shapes)
    return chosen


def reduced_shape(op_name, shape, axis, keepdims, exclude=False):
    """Shape after reducing `axis` (None, an int or a tuple) as MXNet's reduce operators do."""
    ndim = len(shape)
    if axis is None or axis == ():
        axes = set(range(ndim))
    else:
        axes = set(normalize_axes(op_name, axis, ndim, [shape]))
    if exclude:
        axes = set(range(ndim)) - axes
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    out = tuple(n for i, n in enumerate(shape) if i not in axes)
    return out if out else (1,)


def require(condition, op_name, message, shapes):
    if not condition:
        raise shape_error(op_name, message, shapes)


def deduce(op_name, in_shapes, expected, names=None):
    """Fill unknown input shapes with `expected` (one shape or None per input) and check known ones.

    Returns the completed list; an input whose expected shape is None is left as given.
    """
    result = list(in_shapes)
    for i, want in enumerate(expected):
        if want is None:
            continue
        given = result[i] if i < len(result) else None
        if given is None:
            result[i] = tuple(want)
        elif tuple(given) != tuple(want):
            what = names[i] if names else f"input {i}"
            raise shape_error(op_name, f"{what} must have shape {tuple(want)}", in_shapes)
    return result


def window_out_size(size, kernel, stride, pad, dilate=1, ceil=False):
    """Output length of a sliding window (convolution, pooling) along one axis."""
    span = dilate * (kernel - 1) + 1
    room = size + 2 * pad - span
    return (-(-room // stride) if ceil else room // stride) + 1


def spatial_param(op_name, attrs, key, ndim, fill, shapes):
    """A per-spatial-axis attribute (stride, pad, dilate): `fill` each axis when empty."""
    value = tuple(attrs[key]) if attrs[key] else (fill,) * ndim
    require(len(value) == ndim, op_name, f"{key}={value} must have {ndim} entries like kernel",
            shapes)
    return value


__all__ = ["known", "broadcast_shapes", "same_shape", "elementwise", "broadcasting",
           "normalize_axis", "normalize_axes", "as_tuple", "reduced_shape", "require", "deduce",
           "window_out_size", "spatial_param", "OpError"]
