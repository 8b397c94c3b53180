"""NDArray: a numpy array with MXNet's interface; every operation goes through the operator table."""
import numpy as np

from .. import ops
from ..context import cpu
from ..ops.python_operators import BINARY_METHODS, resolve_binary
from . import invoke as _invoke

DEFAULT_DTYPE = np.float32


class NDArray:
    """An n-dimensional array on the CPU, wrapping one numpy array (`asnumpy()` copies it out)."""
    __slots__ = ("_data", "_grad", "_grad_req", "_node", "_grad_fresh", "__weakref__")
    __array_priority__ = 1000.0

    def __init__(self, data):
        self._data = data
        self._grad = None
        self._grad_req = "null"
        self._node = None
        self._grad_fresh = False   # backward() wrote .grad since the Trainer last used it

    # ----- properties
    @property
    def shape(self):
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype.type

    @property
    def size(self):
        return self._data.size

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def context(self):
        return cpu()

    ctx = context

    @property
    def T(self):
        return self.transpose()

    @property
    def grad(self):
        return self._grad

    # ----- conversion
    def asnumpy(self):
        return self._data.copy()

    def asscalar(self):
        if self._data.size != 1:
            raise ValueError(f"asscalar() needs an array of one element, not shape {self.shape}")
        return self._data.reshape(()).item()

    def astype(self, dtype, copy=True):
        dtype = np.dtype(dtype)
        if not copy and dtype == self._data.dtype:
            return self
        return _invoke.apply("cast", [self], {"dtype": dtype.name})

    def copy(self):
        # recorded, as in MXNet: the copy's gradient flows back to this array
        return _invoke.apply("identity", [self], {})

    def copyto(self, other):
        if isinstance(other, NDArray):
            other._data[...] = self._data
            return other
        return self.copy()

    def as_in_context(self, context):
        return self

    def as_in_ctx(self, context):
        return self

    def wait_to_read(self):
        return None

    def tolist(self):
        return self._data.tolist()

    def reshape(self, *shape, **kwargs):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if shape:
            kwargs["shape"] = shape
        return _invoke.apply_named("reshape", [self], kwargs)

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError("The truth value of an NDArray with more than one element is "
                             "ambiguous; use .asnumpy().any() or .all()")
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self.asscalar())

    def __int__(self):
        return int(self.asscalar())

    def __index__(self):
        if not np.issubdtype(self._data.dtype, np.integer) or self._data.size != 1:
            raise TypeError("only one-element integer arrays can be used as an index")
        return int(self._data.reshape(()))

    def __len__(self):
        if not self._data.ndim:
            raise TypeError("len() of a 0-d NDArray")
        return self._data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __repr__(self):
        shape = "x".join(str(n) for n in self.shape)
        return f"\n{self._data}\n<NDArray {shape} @{self.context}>"

    __str__ = __repr__

    # ----- operators
    def __neg__(self):
        return _invoke.apply("negative", [self], {})

    def __pos__(self):
        return self

    def __abs__(self):
        return _invoke.apply("abs", [self], {})

    def __getitem__(self, key):
        return _invoke.getitem(self, key)

    def __setitem__(self, key, value):
        if isinstance(key, NDArray):
            key = key._data.astype(np.int64) if key._data.dtype.kind == "f" else key._data
        value = value._data if isinstance(value, NDArray) else value
        try:
            self._data[key] = value
        except ValueError:
            # MXNet assigns a one-element array to one element (`Y[i, j] = x.sum()`, whose
            # shape is (1,)); numpy 2 refuses a sequence for a scalar position
            value = np.asarray(value)
            if value.size != 1:
                raise
            self._data[key] = value.reshape(())

    def __hash__(self):
        return id(self)

    def _inplace(self, family, other):
        result = _binary(self, other, family, False)
        self._data[...] = result._data
        return self

    def __iadd__(self, other):
        return self._inplace("add", other)

    def __isub__(self, other):
        return self._inplace("sub", other)

    def __imul__(self, other):
        return self._inplace("mul", other)

    def __itruediv__(self, other):
        return self._inplace("div", other)

    # ----- autograd
    def attach_grad(self, grad_req="write", stype=None):
        from .. import autograd
        autograd.attach_grad(self, grad_req)

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        from .. import autograd
        autograd.backward([self], [out_grad] if out_grad is not None else None,
                          retain_graph=retain_graph, train_mode=train_mode)

    def detach(self):
        return NDArray(self._data)


def _binary(lhs, rhs, family, reflected):
    if reflected:
        lhs, rhs = rhs, lhs
    if isinstance(lhs, np.ndarray):
        lhs = NDArray(lhs)
    if isinstance(rhs, np.ndarray):
        rhs = NDArray(rhs)
    name, inputs, attrs = resolve_binary(family, lhs, rhs)
    return _invoke.apply(name, list(inputs), attrs)


def _binary_method(family, reflected):
    def method(self, other):
        if not isinstance(other, (NDArray, np.ndarray)) and not ops.python_operators.is_scalar(other):
            return NotImplemented
        return _binary(self, other, family, reflected)
    return method


for _method, (_family, _reflected) in BINARY_METHODS.items():
    setattr(NDArray, _method, _binary_method(_family, _reflected))


def _fluent_method(op_name):
    def method(self, *args, **kwargs):
        return _invoke.apply_named(op_name, [self, *args], kwargs)
    method.__name__ = op_name
    method.__doc__ = f"Same as `nd.{op_name}(self, ...)`."
    return method


def add_fluent_methods(cls, apply_method):
    for name, op in ops.REGISTRY.items():
        if op.fluent and name == op.name and not hasattr(cls, name):
            setattr(cls, name, apply_method(name))


add_fluent_methods(NDArray, _fluent_method)
