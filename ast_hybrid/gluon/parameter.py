"""Parameter (with deferred shapes) and ParameterDict."""
import weakref
from collections import OrderedDict

import numpy as np

from .. import autograd, initializer
from ..base import MXNetError
from ..compiler.block_view import ParameterView
from ..limits import LoadLimits
from ..ndarray import NDArray
from ..ndarray.io import save_arrays
from ..symbol.naming import trace_names
from .parameter_files import load_parameter_file, match_names, set_values


class DeferredInitializationError(MXNetError):
    """A parameter's shape is not known until the first forward pass."""


STORAGE_TYPES = ("default", "row_sparse", "csr")


def _contexts(ctx):
    """The list of contexts `ctx` names (None: the current one)."""
    from ..context import Context, current_context
    if ctx is None:
        ctx = current_context()
    return [ctx] if isinstance(ctx, Context) else list(ctx)


# the parameters that hold a copy on each of several contexts (a block with one of them
# runs imperatively, so that each copy takes part where its inputs are)
_on_several_contexts = weakref.WeakSet()


def any_on_several_contexts(collect):
    """Whether any parameter `collect()` gives has copies on several contexts (collected
    only while some parameter has, so that the usual call costs nothing)."""
    return bool(_on_several_contexts) and any(p in _on_several_contexts for p in collect())


class Parameter(ParameterView):
    def __init__(self, name="weight", grad_req="write", shape=None, dtype=np.float32,
                 lr_mult=1.0, wd_mult=1.0, init=None, allow_deferred_init=False,
                 differentiable=True, stype="default", grad_stype="default"):
        self.name = name
        self._shape = _normalize_shape(shape)
        self.dtype = np.dtype(dtype).type
        self._dtype_as_given = dtype
        self.lr_mult, self.wd_mult = lr_mult, wd_mult
        self.init = init
        self.allow_deferred_init = allow_deferred_init
        self._grad_req = grad_req if differentiable else "null"
        for kind, value in (("stype", stype), ("grad_stype", grad_stype)):
            if value not in STORAGE_TYPES:     # an assertion in MXNet, so AssertionError
                raise AssertionError(f"{kind} for Parameter {name!r} must be one of 'default', "
                                 f"'row_sparse', or 'csr', but got {value!r}")
        # kept for what reads them, as MXNet's; values are held dense whatever the type
        self._stype, self._grad_stype = stype, grad_stype
        self._ctx_list = None
        self._var = None
        self._data = None           # the copy on the first context
        self._copies = []           # those on the others, as MXNet keeps one per context
        self._deferred_init = None
        self.version = 0

    def __repr__(self):
        # the dtype as given, as MXNet shows it: 'float32' from a layer, numpy.float32 by default
        return (f"{type(self).__name__} {self.name} (shape={self.shape}, "
                f"dtype={self._dtype_as_given})")

    @property
    def shape(self):
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        new_shape = _normalize_shape(new_shape)
        if self._shape is not None and new_shape is not None:
            if len(self._shape) != len(new_shape) or any(
                    old not in (0, new) for old, new in zip(self._shape, new_shape)):
                raise ValueError(f"Parameter {self.name!r}: shape {new_shape} does not match "
                                 f"the declared {self._shape}")
        self._shape = new_shape

    @property
    def grad_req(self):
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        if req not in ("write", "add", "null"):
            raise ValueError(f"grad_req must be 'write', 'add' or 'null', not {req!r}")
        self._grad_req = req
        for array in self._arrays():
            array.attach_grad(req) if req != "null" else self._drop_grad(array)

    @staticmethod
    def _drop_grad(array):
        array._grad = None
        array._grad_req = "null"

    def _arrays(self):
        """Its copy on each context, in list_ctx() order (none before initialization)."""
        return [] if self._data is None else [self._data] + self._copies

    @property
    def shape_known(self):
        return self._shape is not None and all(n > 0 for n in self._shape)

    def initialize(self, init=None, ctx=None, default_init=initializer.Uniform(),
                   force_reinit=False):
        if self._data is not None and not force_reinit:
            return
        self._ctx_list = _contexts(ctx)
        chosen = initializer.create(self.init) or initializer.create(init) or default_init
        if not self.shape_known:
            if self.allow_deferred_init:
                self._deferred_init = chosen
                return
            raise ValueError(f"Parameter {self.name!r} has unknown shape {self.shape} and "
                             "does not allow deferred initialization")
        self._init_with(chosen)

    def _init_with(self, chosen):
        array = np.zeros(self._shape, dtype=self.dtype)
        chosen(self.name, array)
        self._set_array(array)
        self._deferred_init = None

    def _finish_deferred_init(self):
        if self._deferred_init is not None and self.shape_known:
            self._init_with(self._deferred_init)

    def _set_array(self, array):
        if self._ctx_list is None:      # set or loaded without initialize
            self._ctx_list = _contexts(None)
        if self._data is None or self._data.shape != array.shape or \
                len(self._ctx_list) != 1 + len(self._copies):
            self._data = NDArray(array)._placed(self._ctx_list[0])
            self._copies = [NDArray(array.copy())._placed(ctx) for ctx in self._ctx_list[1:]]
            if self._grad_req != "null":
                for copy in self._arrays():
                    copy.attach_grad(self._grad_req)
        else:
            for copy in self._arrays():
                copy._data[...] = array
        if self._copies:
            _on_several_contexts.add(self)
        else:
            _on_several_contexts.discard(self)
        self.version += 1

    def _check_initialized(self):
        if self._data is not None:
            return
        if self._deferred_init is not None:
            raise DeferredInitializationError(
                f"Parameter {self.name!r} has not been initialized yet because its shape is "
                "only known after the first forward pass")
        raise RuntimeError(f"Parameter {self.name!r} has not been initialized; call "
                           "initialize() on the block or the parameter first")

    def _copy_on(self, ctx):
        """Its copy on `ctx` (None: the only context, or else the current one), as MXNet
        chooses it."""
        from ..context import current_context
        self._check_initialized()
        if ctx is None:
            if not self._copies:
                return self._data
            ctx = current_context()
        for position, candidate in enumerate(self._ctx_list):
            if candidate == ctx:
                return self._arrays()[position]
        raise RuntimeError(f"Parameter {self.name!r} was not initialized on context {ctx}. "
                           f"It was only initialized on {self._ctx_list}.")

    def data(self, ctx=None):
        """The value on `ctx` (one of list_ctx(); None: the only one, else the current)."""
        return self._copy_on(ctx)

    def list_data(self):
        """The value on each of list_ctx()."""
        self._check_initialized()
        return self._arrays()

    def grad(self, ctx=None):
        return self._gradient_of(self._copy_on(ctx))

    def list_grad(self):
        self._check_initialized()
        return [self._gradient_of(copy) for copy in self._arrays()]

    def _gradient_of(self, copy):
        if copy.grad is None:
            raise RuntimeError(f"Parameter {self.name!r} has grad_req='null': no gradient")
        return copy.grad

    def _reduce(self):
        """Its value across its copies (their mean, as MXNet's; they are kept equal)."""
        self._check_initialized()
        if not self._copies:
            return self._data
        total = sum(copy._data.astype(np.float64) for copy in self._arrays())
        return NDArray((total / len(self._ctx_list)).astype(self._data._data.dtype))

    def list_ctx(self):
        """The contexts it was initialized on (those it will be, while deferred)."""
        if self._data is None and self._deferred_init is None:
            raise RuntimeError(f"Parameter {self.name!r} has not been initialized")
        return list(self._ctx_list)

    def zero_grad(self):
        for copy in self._arrays():
            if copy.grad is not None:
                copy.grad._data[...] = 0

    def set_data(self, data):
        array = np.asarray(data.asnumpy() if isinstance(data, NDArray) else data,
                           dtype=self.dtype)
        if self._data is None:
            self.shape = array.shape
            self._set_array(array.copy())
            return
        if array.shape != self._data.shape:
            raise ValueError(f"Parameter {self.name!r}: set_data with shape {array.shape}, "
                             f"expected {self._data.shape}")
        if autograd.is_recording():
            # written into the buffer recorded nodes keep; MXNet's `arr[:] = data` is refused
            autograd.check_inplace_write(self._data, [], reads_target=False)
        self._set_array(array)

    def mark_changed(self):
        """Tell derived-array caches that the data was updated in place."""
        self.version += 1

    def reset_ctx(self, ctx):
        """Move it to `ctx` (its value is kept)."""
        if self._data is None and self._deferred_init is None:
            raise ValueError(f"Cannot reset context for Parameter {self.name!r} because it "
                             "has not been initialized.")
        contexts = _contexts(ctx)
        if self._data is None:
            self._ctx_list = contexts
            return
        value = self._data._data
        self._ctx_list = contexts
        self._data = None               # made afresh on the new contexts, value kept
        self._set_array(value)

    def cast(self, dtype):
        self.dtype = np.dtype(dtype).type
        self._dtype_as_given = dtype
        self._var = None
        if self._data is not None:
            value = self._data._data.astype(self.dtype)
            self._data = None
            self._set_array(value)

    def var(self):
        """Its variable: while tracing, the graph's; otherwise one made once, as MXNet's."""
        from .. import symbol
        names, variables = trace_names()
        shape = self._shape if self.shape_known else None
        if names is None:
            if self._var is None:
                self._var = symbol.var(self.name, shape=shape, dtype=self.dtype)
            return self._var
        if id(self) not in variables:
            variables[id(self)] = symbol.var(names.get(id(self), self.name), shape=shape,
                                             dtype=self.dtype)
        return variables[id(self)]


class Constant(Parameter):
    def __init__(self, name, value):
        value = np.asarray(value.asnumpy() if isinstance(value, NDArray) else value,
                           dtype=np.float32)
        super().__init__(name, grad_req="null", shape=value.shape, dtype=value.dtype.type,
                         init=initializer.Constant(value))
        self.value = NDArray(value)


def _normalize_shape(shape):
    if shape is None:
        return None
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(n) for n in shape)


def _merged_shape(existing, wanted):
    """The shape both describe, a 0 (unknown) dimension taking the other's; None if they
    differ in a known dimension or in length."""
    if len(existing) != len(wanted):
        return None
    merged = []
    for old, new in zip(existing, wanted):
        if old and new and old != new:
            return None
        merged.append(old or new)
    return tuple(merged)


def _reconcile(param, key, wanted):
    """Make an existing parameter agree with what ParameterDict.get asks of it, or raise."""
    existing = getattr(param, key)
    if existing is None:
        setattr(param, key, wanted)
        return
    if key == "shape":
        merged = _merged_shape(existing, _normalize_shape(wanted))
        if merged is not None:
            param._shape = merged
            return
    elif wanted == existing or key == "dtype" and np.dtype(wanted) == np.dtype(existing):
        return
    raise ValueError(f"cannot retrieve parameter {param.name!r}: it has {key} {existing!r}, "
                     f"not the {wanted!r} asked for")


# what ParameterDict.get compares with an existing parameter; other options (differentiable,
# stype, grad_stype) only matter when a parameter is made
_COMPARED_ATTRIBUTES = ("shape", "dtype", "init", "grad_req", "lr_mult", "wd_mult",
                        "allow_deferred_init")


class ParameterDict:
    """Parameters by full name, in insertion order. `get(name)` is the parameter
    `prefix + name`: this dictionary's, else the one of that name in `shared` (the
    dictionary of the block it shares parameters with), else a new one."""

    def __init__(self, prefix="", shared=None):
        self._params = OrderedDict()
        self._prefix = prefix
        self._shared = shared

    @property
    def prefix(self):
        return self._prefix

    def __repr__(self):
        name = self._prefix + " " if self._prefix else ""
        body = "\n".join(f"  {param!r}" for param in self._params.values())
        return f"{name}(\n{body}\n)"

    def __getitem__(self, key):
        return self._params[key]

    def __contains__(self, key):
        return key in self._params

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def keys(self):
        return self._params.keys()

    def values(self):
        return self._params.values()

    def items(self):
        return self._params.items()

    def _add(self, key, param):
        self._params[key] = param

    def _existing(self, name):
        """The parameter called `name` here or in the shared dictionary (then kept here too)."""
        if name not in self._params and self._shared is not None and name in self._shared:
            self._params[name] = self._shared[name]
        return self._params.get(name)

    def get(self, name, **kwargs):
        """The parameter `prefix + name`, made with `kwargs` if neither this dictionary nor
        the shared one has it. An existing parameter must agree with `kwargs`: a shape's
        unknown (0) dimensions are filled in from the other's, any other difference raises."""
        name = self._prefix + name
        param = self._existing(name)
        if param is None:
            param = self._params[name] = Parameter(name, **kwargs)
            return param
        for key, wanted in kwargs.items():
            if key in _COMPARED_ATTRIBUTES and wanted is not None:
                _reconcile(param, key, wanted)
        return param

    def get_constant(self, name, value=None):
        """The Constant `prefix + name`, made from `value` if it does not exist yet; a
        value given for an existing one must be its value."""
        name = self._prefix + name
        param = self._existing(name)
        if param is None:
            if value is None:
                raise KeyError(f"no constant named {name!r}; give its value to make it")
            param = self._params[name] = Constant(name, value)
        elif value is not None:
            value = np.asarray(value.asnumpy() if isinstance(value, NDArray) else value)
            if not isinstance(param, Constant) or param.value.shape != value.shape or \
                    not (param.value.asnumpy() == value).all():
                raise ValueError(f"{name!r} exists already, and is not a constant of this "
                                 "value")
        return param

    def update(self, other):
        """Every parameter of `other` added; a name both hold for different parameters
        raises before any is added."""
        for key, param in other.items():
            if key in self._params and self._params[key] is not param:
                raise ValueError(f"two different parameters are both named {key!r}; give "
                                 "one of their blocks another prefix")
        for key, param in other.items():
            self._params[key] = param

    def initialize(self, init=initializer.Uniform(), ctx=None, verbose=False,
                   force_reinit=False):
        default = initializer.create(init) or initializer.Uniform()
        for param in self._params.values():
            param.initialize(None, ctx, default, force_reinit=force_reinit)

    def zero_grad(self):
        for param in self._params.values():
            param.zero_grad()

    def reset_ctx(self, ctx):
        for param in self._params.values():
            param.reset_ctx(ctx)

    def list_ctx(self):
        """The contexts of its parameters, each once, in order."""
        contexts = []
        for param in self._params.values():
            contexts += [ctx for ctx in param.list_ctx() if ctx not in contexts]
        return contexts

    def setattr(self, name, value):
        for param in self._params.values():
            setattr(param, name, value)

    def save(self, filename, strip_prefix=""):
        """Write the parameters' values by full name, `strip_prefix` removed from each."""
        arrays = {}
        for param in self._params.values():
            if not param.name.startswith(strip_prefix):
                raise ValueError(f"{filename}: parameter {param.name!r} does not start with "
                                 f"the prefix {strip_prefix!r} to strip; it may be shared from "
                                 "another block, or its block made outside name_scope()")
            arrays[param.name[len(strip_prefix):]] = param._reduce().asnumpy()
        save_arrays(filename, arrays)

    def load(self, filename, ctx=None, allow_missing=False, ignore_extra=False,
             restore_prefix="", cast_dtype=False, dtype_source="current", **limits):
        """Values from a file of full names (export's `arg:`/`aux:` kinds ignored), each
        read after `restore_prefix`; the names are checked before any array is inflated.
        `limits` raise those of ast_hybrid.limits.LoadLimits."""
        load_parameter_file(filename, LoadLimits.given(limits), lambda names: self._match(
            filename, names, allow_missing, ignore_extra, restore_prefix), cast_dtype,
            dtype_source)

    def load_dict(self, param_dict, ctx=None, allow_missing=False, ignore_extra=False,
                  restore_prefix="", filename=None, cast_dtype=False, dtype_source="current"):
        """Values from a dict {full name: array} (export's `arg:`/`aux:` kinds ignored),
        each read after `restore_prefix`."""
        source = filename or "param_dict"
        set_values(source, param_dict, lambda names: self._match(
            source, names, allow_missing, ignore_extra, restore_prefix), cast_dtype,
            dtype_source)

    def _match(self, source, names, allow_missing, ignore_extra, restore_prefix):
        """{name in `source`: its Parameter}, each name read after `restore_prefix`."""
        for key in self._params:
            if not key.startswith(restore_prefix):
                raise ValueError(f"{source}: its names ({', '.join(names)}) are read after "
                                 f"the prefix {restore_prefix!r}, which parameter {key!r} "
                                 "does not start with: they are not this network's names")
        targets = {key[len(restore_prefix):]: param for key, param in self._params.items()}
        return match_names(source, names, targets, allow_missing, ignore_extra)
