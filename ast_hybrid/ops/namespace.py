"""Fills the `nd` and `sym` namespaces alike: one function per operator plus MXNet's helpers."""
import numpy as np

from .python_operators import resolve_binary
from .registry import REGISTRY

BINARY_HELPERS = {"add": "add", "subtract": "sub", "multiply": "mul", "divide": "div",
                  "modulo": "mod", "power": "power", "maximum": "maximum", "minimum": "minimum",
                  "equal": "equal", "not_equal": "not_equal", "greater": "greater",
                  "greater_equal": "greater_equal", "lesser": "lesser",
                  "lesser_equal": "lesser_equal"}


# MXNet's table names of `contrib.X` and `image.X` operators (as JSON graphs write them)
CONTRIB_PREFIX = "_contrib_"
IMAGE_PREFIX = "_image_"
_SUBSPACES = {"contrib.": CONTRIB_PREFIX, "image.": IMAGE_PREFIX}


def operator_name(path):
    """The table name of the operator reached as `path` from nd, sym or F (`relu`,
    `contrib.div_sqrt_dim`, `image.resize`), or None."""
    for subspace, prefix in _SUBSPACES.items():
        if path.startswith(subspace):
            path = prefix + path[len(subspace):]
    return path if path in REGISTRY else None


def _operator_function(op_name, apply_named, public_name):
    def function(*args, **kwargs):
        return apply_named(op_name, args, kwargs)
    function.__name__ = public_name
    function.__doc__ = REGISTRY[op_name].doc or f"The `{op_name}` operator."
    return function


def populate_contrib(namespace, apply_named, prefix=CONTRIB_PREFIX):
    """Install into `namespace` (nd.contrib, sym.contrib; nd.image, sym.image with
    IMAGE_PREFIX) the operators whose table names start with `prefix`, by MXNet's short
    names."""
    for name in REGISTRY:
        if name.startswith(prefix):
            short = name[len(prefix):]
            namespace.setdefault(short, _operator_function(name, apply_named, short))


def _unplaced(value, ctx):
    return value


def populate(namespace, apply_named, apply, place=_unplaced):
    """Install into `namespace` every table operator, the scalar-aware binary helpers
    (`maximum(x, 0)`) and the constructors, all built on the given `apply` functions;
    `place(result, ctx)` puts a constructor's result on the context it was asked for."""
    def binary_helper(public_name, family):
        def function(lhs, rhs, **kwargs):
            name, inputs, attrs = resolve_binary(family, lhs, rhs)
            return apply(name, list(inputs), attrs)
        function.__name__ = public_name
        return function

    def zeros(shape, ctx=None, dtype="float32", **kwargs):
        return place(apply("_zeros", [], {"shape": shape, "dtype": np.dtype(dtype).name}), ctx)

    def ones(shape, ctx=None, dtype="float32", **kwargs):
        return place(apply("_ones", [], {"shape": shape, "dtype": np.dtype(dtype).name}), ctx)

    def full(shape, val, ctx=None, dtype="float32", **kwargs):
        return place(apply("_full", [], {"shape": shape, "value": val,
                                         "dtype": np.dtype(dtype).name}), ctx)

    def arange(start, stop=None, step=1.0, repeat=1, ctx=None, dtype="float32", **kwargs):
        return place(apply("_arange", [], {"start": start, "stop": stop, "step": step,
                                           "repeat": repeat, "dtype": np.dtype(dtype).name}),
                     ctx)

    def linspace(start, stop, num, endpoint=True, ctx=None, dtype="float32", **kwargs):
        return place(apply("_linspace", [], {"start": start, "stop": stop, "num": num,
                                             "endpoint": endpoint,
                                             "dtype": np.dtype(dtype).name}), ctx)

    def eye(N, M=0, k=0, ctx=None, dtype="float32", **kwargs):
        return place(apply("_eye", [], {"N": N, "M": M, "k": k,
                                        "dtype": np.dtype(dtype).name}), ctx)

    for public_name, family in BINARY_HELPERS.items():
        namespace.setdefault(public_name, binary_helper(public_name, family))
    for helper in (zeros, ones, full, arange, linspace, eye):
        namespace.setdefault(helper.__name__, helper)
    for name in REGISTRY:
        namespace.setdefault(name, _operator_function(name, apply_named, name))


def random_samplers(apply):
    """normal/uniform/randn for `nd.random` and `sym.random`."""
    def normal(loc=0.0, scale=1.0, shape=(1,), dtype="float32", ctx=None, **kwargs):
        return apply("_random_normal", [], {"loc": loc, "scale": scale, "shape": shape,
                                            "dtype": np.dtype(dtype).name})

    def uniform(low=0.0, high=1.0, shape=(1,), dtype="float32", ctx=None, **kwargs):
        return apply("_random_uniform", [], {"low": low, "high": high, "shape": shape,
                                             "dtype": np.dtype(dtype).name})

    def randn(*shape, loc=0.0, scale=1.0, dtype="float32", ctx=None, **kwargs):
        return normal(loc, scale, shape or (1,), dtype)

    return {"normal": normal, "uniform": uniform, "randn": randn}
