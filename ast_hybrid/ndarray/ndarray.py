"""NDArray: a numpy array with MXNet's interface; every operation is the operator table's."""
import numpy as np

from .. import autograd, ops
from ..context import Context, cpu, current_context
from ..ops.python_operators import BINARY_METHODS, resolve_binary
from . import invoke as _invoke

DEFAULT_DTYPE = np.float32


class NDArray(autograd.TapeArray):
    """An n-dimensional array on the CPU, wrapping one numpy array (`asnumpy()` copies it out)."""
    __slots__ = ("_data", "_grad", "_grad_req", "_node", "_grad_fresh", "_reader", "_ctx",
                 "__weakref__")
    __array_priority__ = 1000.0

    def __init__(self, data):
        self._data = data
        self._grad = None
        self._grad_req = "null"
        self._node = None
        self._grad_fresh = False   # backward() wrote .grad since the Trainer last used it
        self._reader = None        # weak reference to the last recorded node that read it
        self._ctx = None           # the context it is on (None: cpu(0)); all are the CPU

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
        return self._ctx or cpu()

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
        if not isinstance(other, NDArray):
            return self.copy()._placed(other)
        if autograd.is_recording():
            autograd.check_inplace_write(other, [self], reads_target=False)
            other._assign_whole_while_recording(self)
        else:
            other._data[...] = self._data
        return other

    def as_in_context(self, context):
        """Itself on its own context, else a copy on `context` (recorded, as MXNet's)."""
        if context == self.context:
            return self
        return self.copy()._placed(context)

    as_in_ctx = as_in_context

    def _placed(self, context):
        """Itself, marked as on `context` (None: the current context)."""
        if context is None:
            context = current_context()
        if isinstance(context, Context):
            self._ctx = None if context == cpu() else context
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
        return _invoke.apply_named("reshape", [self], kwargs, views=True)   # as MXNet's

    def squeeze(self, axis=None, inplace=False):
        """The squeeze operator: a new array, or with `inplace` a view, as MXNet's."""
        return _invoke.apply_named("squeeze", [self], {} if axis is None else {"axis": axis},
                                   views=inplace)

    def expand_dims(self, axis, inplace=False):
        """The expand_dims operator: a new array, or with `inplace` a view, as MXNet's."""
        return _invoke.apply_named("expand_dims", [self], {"axis": axis}, views=inplace)

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
        if autograd.is_recording():
            self._setitem_while_recording(key, value)
        else:
            self._write(key, value)

    def _setitem_while_recording(self, key, value):
        """As MXNet 1.x: an array value for the whole array is copied over it (`_copyto`,
        recorded, so its gradient flows to the value); any other assignment also reads this
        array (`_slice_assign(x, v, out=x)`), so a value needing a gradient is refused."""
        whole = isinstance(value, NDArray) and _selects_whole_array(key, self.shape)
        inputs = [x for x in (key, value) if isinstance(x, NDArray)]
        autograd.check_inplace_write(self, inputs, reads_target=not whole)
        if whole:
            self._assign_whole_while_recording(value)
        else:
            self._write(key, value)
            self._forget_history()

    def _assign_whole_while_recording(self, value):
        """Write `value` over this array, which check_inplace_write let through; record the
        copy when the value needs a gradient."""
        if not autograd.in_graph(value):
            self._write(Ellipsis, value)
            self._forget_history()
            return
        copied = value
        if copied.shape != self.shape:
            copied = _broadcast_like(copied, self.shape)
        if copied.dtype != self.dtype:
            copied = copied.astype(self.dtype)
        if copied is value:
            copied = _invoke.apply("_copy", [value], {})
        self._data[...] = copied._data
        self._node = copied._node

    def _write(self, key, value):
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
        """`self op= other`: written into this array's buffer, so every alias sees it. While
        recording it is refused where MXNet refuses it (its `broadcast_add(x, y, out=x)` reads
        x), otherwise computed from constants only and so not recorded."""
        recording = autograd.is_recording()
        if recording:
            inputs = [other] if isinstance(other, NDArray) else []
            autograd.check_inplace_write(self, inputs, reads_target=True)
        self._data[...] = _binary(self, other, family, False)._data
        if recording:
            self._forget_history()
        return self

    def _forget_history(self):
        """After a write while recording that no node records (check_inplace_write found
        this array outside every live graph): its values come from no recorded node now, so
        later recordings treat it as a constant, as MXNet does."""
        self._node = None

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
        autograd.attach_grad(self, grad_req)

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        autograd.backward([self], [out_grad] if out_grad is not None else None,
                          retain_graph=retain_graph, train_mode=train_mode)

    def detach(self):
        return NDArray(self._data)


def _selects_whole_array(key, shape):
    """Whether a basic index (ints, slices, Ellipsis, None) selects every element in order,
    where MXNet assigns by copying the value over the whole array. Advanced indices (arrays,
    lists) never do: MXNet scatters them into the array."""
    key = key if isinstance(key, tuple) else (key,)
    if not all(k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice))
               for k in key):
        return False
    positional = [k for k in key if k is not None]
    ellipses = [i for i, k in enumerate(positional) if k is Ellipsis]
    if ellipses:
        at = ellipses[0]
        fill = [slice(None)] * (len(shape) - len(positional) + 1)
        positional = positional[:at] + fill + positional[at + 1:]
    if len(positional) > len(shape):
        return False
    return all(_selects_whole_axis(k, n) for k, n in zip(positional, shape))


def _selects_whole_axis(index, size):
    if isinstance(index, slice):
        selected = range(size)[index]
        return selected.step > 0 and len(selected) == size
    return size == 1 and index in (0, -1)


def _broadcast_like(value, shape):
    """`value` as an array of `shape`, recorded: reshaped when it has as many elements
    (MXNet assigns a (1,)-shaped sum to one element), else broadcast as numpy does."""
    size = int(np.prod(shape))
    if value.size == size:
        return value.reshape(shape)
    leading = (1,) * (len(shape) - value.ndim)
    return _invoke.apply("broadcast_to", [value.reshape(leading + value.shape)],
                         {"shape": shape})


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
        if not isinstance(other, (NDArray, np.ndarray)) \
                and not ops.python_operators.is_scalar(other):
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
