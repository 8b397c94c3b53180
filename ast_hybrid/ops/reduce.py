"""Reductions over axes: sum, mean, max, min, prod, norm, argmax, argmin."""
import numpy as np

from . import attrs as A
from .grad_utils import no_grad
from .registry import REGISTRY, Op, register
from .shapes import known, normalize_axes, normalize_axis, reduced_shape


def _axes(op_name, data, axis, exclude):
    """numpy's `axis` argument for MXNet's (axis, exclude) pair; None means every axis.
    Refuses the axes the shape rule refuses (normalize_axes), with its message."""
    if axis is None or axis == ():
        return None if not exclude else ()
    chosen = normalize_axes(op_name, axis, data.ndim, (data,))
    if exclude:
        chosen = tuple(i for i in range(data.ndim) if i not in chosen)
    return chosen


def _at_least_1d(out):
    return out.reshape(1) if out.ndim == 0 else out


class _AxesByRank:
    """_axes of one (axis, exclude) pair for each rank of input seen: a compiled program's
    bound reduction checks its axes once per rank, not on every call."""

    def __init__(self, op_name, axis, exclude):
        self.op_name, self.axis, self.exclude = op_name, axis, exclude
        self.by_rank = {}

    def __call__(self, data):
        try:
            return self.by_rank[data.ndim]
        except KeyError:
            axes = self.by_rank[data.ndim] = _axes(self.op_name, data, self.axis, self.exclude)
            return axes


def _reduced(function, keep_int, data, axes, keepdims):
    """`function` (np.sum, ...) over numpy's `axes`, keeping the input's dtype as MXNet does."""
    if keep_int:
        out = function(data, axis=axes, keepdims=keepdims, dtype=data.dtype)
    else:
        out = function(data, axis=axes, keepdims=keepdims)
    return _at_least_1d(np.asarray(out))


def _reducer(op_name, function, keep_int):
    """The table's kernel of a reduction, and its specialize (the kernel bound to attrs)."""
    def kernel(data, *, axis=None, keepdims=False, exclude=False):
        return _reduced(function, keep_int, data, _axes(op_name, data, axis, exclude), keepdims)

    def specialize(attrs):
        axes_of, keepdims = _AxesByRank(op_name, attrs["axis"], attrs["exclude"]), \
            attrs["keepdims"]

        def reduction(data):
            return _reduced(function, keep_int, data, axes_of(data), keepdims)
        reduction.__name__ = op_name
        return reduction
    return kernel, specialize


def _reduce_shape(op_name):
    def rule(attrs, in_shapes):
        data = known(op_name, in_shapes)[0]
        return [data], [reduced_shape(op_name, data, attrs["axis"], attrs["keepdims"],
                                      attrs.get("exclude", False))]
    return rule


_SUMMED_IN_OWN_TYPE = (np.dtype(np.float32), np.dtype(np.float64))


def _mean(data, axis=None, keepdims=False, dtype=None):
    if data.dtype in _SUMMED_IN_OWN_TYPE and data.size:
        # np.mean's own steps for these dtypes (a sum in the dtype, divided in place by the
        # count) without its Python wrappers, which cost more than a small mean
        total = np.add.reduce(data, axis=axis, keepdims=keepdims)
        count = data.size // max(total.size, 1)
        if isinstance(total, np.ndarray):
            return np.true_divide(total, count, out=total, casting="unsafe")
        return total.dtype.type(total / count)
    if np.issubdtype(data.dtype, np.floating):
        return np.mean(data, axis=axis, keepdims=keepdims)
    return np.mean(data, axis=axis, keepdims=keepdims).astype(data.dtype)


def _kept(array, data, axes):
    """A reduced output (or its gradient) reshaped with the reduced axes kept as size 1."""
    if axes is None:
        shape = (1,) * data.ndim
    else:
        shape = tuple(1 if i in axes else n for i, n in enumerate(data.shape))
    return array.reshape(shape)


def _reduce_grad(kind):
    def grad(attrs, inputs, outputs, out_grads):
        data = inputs[0]
        axes = _axes(kind, data, attrs["axis"], attrs.get("exclude", False))
        return [_reduction_gradient(kind, attrs, data, outputs, out_grads[0], axes)]
    return grad


def _reduce_grad_specialize(kind):
    def specialize(attrs):
        axes_of = _AxesByRank(kind, attrs["axis"], attrs["exclude"])

        def reduction_grad(data, output, out_grad):
            return [_reduction_gradient(kind, attrs, data, (output,), out_grad, axes_of(data))]
        reduction_grad.__name__ = f"{kind}_grad"
        return reduction_grad
    return specialize


def _reduction_gradient(kind, attrs, data, outputs, out_grad, axes):
    """The gradient of the reduction `kind` over numpy's `axes` of `data`."""
    g = _kept(out_grad, data, axes)
    if kind in ("sum", "mean"):
        if kind == "mean":
            g = g / (data.size // max(g.size, 1) if data.size else 1)
        d = np.empty(data.shape, dtype=data.dtype)
        d[...] = g          # broadcast and cast in one pass
        return d
    if kind in ("max", "min"):
        d = g * (data == _kept(outputs[0], data, axes))
    elif kind == "prod":
        d = g * _kept(outputs[0], data, axes) / data
    elif kind == "norm":
        if attrs["ord"] == 1:
            d = g * np.sign(data)
        else:
            y = _kept(outputs[0], data, axes).astype(data.dtype, copy=False)
            d = g * data / np.where(y == 0, 1, y)
    return np.array(d, dtype=data.dtype)


REDUCTIONS = {  # name: (numpy function, whether it needs dtype= to keep integers, aliases)
    "sum": (np.sum, True, ("sum_axis",)),
    "mean": (_mean, True, ()),
    "prod": (np.prod, True, ()),
    "max": (np.max, False, ("max_axis",)),
    "min": (np.min, False, ("min_axis",)),
}

for _name, (_function, _keep_int, _aliases) in REDUCTIONS.items():
    _kernel, _specialize = _reducer(_name, _function, _keep_int)
    register(Op(_name, _kernel, _reduce_shape(_name), aliases=_aliases,
                grad=_reduce_grad(_name), specialize=_specialize,
                specialize_grad=_reduce_grad_specialize(_name),
                attrs={"axis": A.OptShape(), "keepdims": A.Bool(False), "exclude": A.Bool(False)},
                fluent=True))


def _norm(data, *, ord=2, axis=None, out_dtype=None, keepdims=False):
    if ord not in (1, 2):       # a run-time value: refused (or read) as imperative mode does
        ord = REGISTRY["norm"].parse_attr("ord", ord)
    axes = _axes("norm", data, axis, False)
    if ord == 1:
        out = np.sum(np.abs(data), axis=axes, keepdims=keepdims)
    else:
        out = np.sqrt(np.sum(np.square(data), axis=axes, keepdims=keepdims))
    out = _at_least_1d(np.asarray(out))
    return out.astype(out_dtype, copy=False) if out_dtype else out


register(Op("norm", _norm, _reduce_shape("norm"), fluent=True, grad=_reduce_grad("norm"),
            attrs={"ord": A.Attr("int", 2, (1, 2)), "axis": A.OptShape(),
                   "out_dtype": A.OptStr(None, A.DTYPES), "keepdims": A.Bool(False)}))


def _arg_reducer(op_name, function):
    def kernel(data, *, axis=None, keepdims=False):
        if axis is None:
            out = np.asarray(function(data))
            shape = (1,) * data.ndim if keepdims else (1,)
            return out.astype(data.dtype).reshape(shape)
        axis = normalize_axis(op_name, axis, data.ndim, (data,))
        out = function(data, axis=axis, keepdims=keepdims)
        return _at_least_1d(out.astype(data.dtype, copy=False))
    return kernel


def _arg_shape(op_name):
    def rule(attrs, in_shapes):
        data = known(op_name, in_shapes)[0]
        axis = attrs["axis"]
        if axis is None:
            return [data], [(1,) * len(data) if attrs["keepdims"] else (1,)]
        normalize_axis(op_name, axis, len(data), [data])
        return [data], [reduced_shape(op_name, data, axis, attrs["keepdims"])]
    return rule


for _name, _function in (("argmax", np.argmax), ("argmin", np.argmin)):
    register(Op(_name, _arg_reducer(_name, _function), _arg_shape(_name), fluent=True,
                grad=no_grad, attrs={"axis": A.OptInt(), "keepdims": A.Bool(False)}))
