"""Block, HybridBlock: the layers users compose; compiling them is asked of ast_hybrid.compiler."""
from collections import OrderedDict
from contextlib import contextmanager

from .. import initializer
from ..compiler.dispatch import cache_key, call_compiled
from ..symbol.naming import block_prefix
from ..limits import LoadLimits
from ..ndarray.io import load_arrays, parameter_name, save_arrays
from ..symbol import Symbol
from .parameter import (DeferredInitializationError, Parameter, ParameterDict, set_trace_names,
                        trace_names_active)

HYBRIDIZE_MODES = ("ast", "trace")
HYBRIDIZE_OPTIONS = ("mode", "static_alloc", "static_shape", "fallback", "check", "optimize")


class Block:
    """A layer or a network of layers; children and parameters register by attribute."""

    def __init__(self, prefix=None, params=None):
        object.__setattr__(self, "_children", OrderedDict())
        object.__setattr__(self, "_reg_params", OrderedDict())
        object.__setattr__(self, "_watchers", None)
        self._prefix = prefix or ""
        self._params = ParameterDict(self._prefix, shared=params)

    def __setattr__(self, name, value):
        existing = self.__dict__.get(name)
        if isinstance(existing, (Block, Parameter)) and not isinstance(value, type(existing)) \
                and not isinstance(existing, type(value)):
            raise TypeError(f"changing attribute {name!r} of {type(self).__name__} from "
                            f"{type(existing).__name__} to {type(value).__name__} is not allowed")
        if isinstance(value, Block):
            self.register_child(value, name)
        elif isinstance(value, Parameter):
            self._reg_params[name] = value
        object.__setattr__(self, name, value)
        if self._watchers:
            self._notify(name)

    def _notify(self, attribute):
        """An attribute read while compiling changed: drop the programs that relied on it."""
        for watcher in list(self._watchers):
            watcher.attribute_changed(self, attribute)

    def add_watcher(self, watcher):
        if self._watchers is None:
            object.__setattr__(self, "_watchers", [])
        if watcher not in self._watchers:
            self._watchers.append(watcher)

    # ----- naming (kept for MXNet scripts; names are structural, see collect_params)
    @property
    def prefix(self):
        return self._prefix

    @property
    def name(self):
        # MXNet's word for the layer (conv, pool, relu) without its counter: names are
        # structural here (see collect_params), this one is for display
        return self._prefix.rstrip("_") or self._alias()

    def _alias(self):
        """The word graph node names of this block start with (`conv0_fwd`), as in MXNet."""
        return type(self).__name__.lower()

    @contextmanager
    def name_scope(self):
        yield

    @property
    def params(self):
        return self._params

    # ----- structure
    def register_child(self, block, name=None):
        if name is None:
            name = str(len(self._children))
        self._children[name] = block
        if self._watchers:
            self._notify("_children")
        return block

    def __repr__(self):
        lines = [f"{type(self).__name__}("]
        for key, child in self._children.items():
            child_text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({key}): {child_text}")
        return "\n".join(lines) + "\n)" if self._children else f"{type(self).__name__}()"

    def _own_params(self):
        """(key, Parameter) pairs this block holds itself: by attribute, then from params.get."""
        seen = {}
        for key, param in self._reg_params.items():
            seen.setdefault(id(param), (key, param))
        for key, param in self._params.items():
            seen.setdefault(id(param), (key, param))
        return list(seen.values())

    def collect_params(self, select=None):
        """Every parameter of the tree, keyed by its path ('0.weight', 'encoder.1.bias').

        The keys depend only on the network's structure, so building the same network twice
        gives the same names; save_parameters, load_parameters and export all use them.
        """
        result = ParameterDict()
        seen = set()
        for key, param in self._collect_with_prefix(""):
            if id(param) in seen:
                continue
            seen.add(id(param))
            result._add(key, param)
        return result.select(select) if select else result

    def _collect_with_prefix(self, prefix):
        for key, param in self._own_params():
            yield prefix + key, param
        for name, child in self._children.items():
            yield from child._collect_with_prefix(f"{prefix}{name}.")

    def initialize(self, init=initializer.Uniform(), ctx=None, verbose=False,
                   force_reinit=False):
        self.collect_params().initialize(init, ctx, verbose, force_reinit)

    def apply(self, fn):
        for child in self._children.values():
            child.apply(fn)
        fn(self)
        return self

    def cast(self, dtype):
        for child in self._children.values():
            child.cast(dtype)
        for _, param in self._own_params():
            param.cast(dtype)

    def zero_grad(self):
        self.collect_params().zero_grad()

    def hybridize(self, active=True, **kwargs):
        """Hybridize every HybridBlock below; takes HybridBlock.hybridize's options."""
        unknown = sorted(set(kwargs) - set(HYBRIDIZE_OPTIONS))
        if unknown:
            raise TypeError(f"hybridize() got unexpected option(s) {', '.join(unknown)}; "
                            f"it takes active, {', '.join(HYBRIDIZE_OPTIONS)}")
        if kwargs.get("mode", "ast") not in HYBRIDIZE_MODES:
            raise ValueError(f"hybridize: mode must be one of {HYBRIDIZE_MODES}, "
                             f"not {kwargs['mode']!r}")
        for child in self._children.values():
            child.hybridize(active, **kwargs)

    # ----- files
    def save_parameters(self, filename, deduplicate=False):
        arrays = {}
        for key, param in self.collect_params().items():
            arrays[key] = param.data().asnumpy()
        save_arrays(filename, arrays)

    def load_parameters(self, filename, ctx=None, allow_missing=False, ignore_extra=False,
                        cast_dtype=False, dtype_source="current", **limits):
        """Values for the parameters from `filename`; its names are checked against the
        network before any array is inflated. `limits` raise those of LoadLimits."""
        params = self.collect_params()

        def expect(keys):
            names = [parameter_name(key) for key in keys]
            if not allow_missing:
                missing = [key for key in params.keys() if key not in names]
                if missing:
                    raise KeyError(f"{filename}: no values for parameters {', '.join(missing)}")
            if not ignore_extra:
                extra = [key for key in names if key not in params]
                if extra:
                    raise KeyError(f"{filename}: parameters {', '.join(extra)} are not in this "
                                   f"network (its parameters: {', '.join(params.keys())})")

        loaded = load_arrays(filename, LoadLimits.given(limits), expect)
        loaded = {parameter_name(key): value for key, value in loaded.items()}
        for key, param in params.items():
            if key in loaded:
                value = loaded[key]
                if param.shape is not None and not param.shape_known:
                    param.shape = value.shape
                expected = param._data.shape if param._data is not None else (
                    param.shape if param.shape_known else value.shape)
                if expected != value.shape:
                    raise ValueError(f"{filename}: parameter {key!r} has shape {value.shape}, "
                                     f"the network expects {expected}")
                param.set_data(value.astype(param.dtype) if cast_dtype else value)

    save_params = save_parameters
    load_params = load_parameters

    # ----- running
    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")


class HybridBlock(Block):
    """A block whose `hybrid_forward(F, x, ...)` runs with F=nd, or compiled once hybridized."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix, params)
        object.__setattr__(self, "_active", False)
        object.__setattr__(self, "_options", None)
        object.__setattr__(self, "_programs", None)

    def register_child(self, block, name=None):
        if not isinstance(block, HybridBlock):
            raise ValueError(
                f"Children of HybridBlock must also be HybridBlock, but {block!r} has type "
                f"{type(block).__name__}. If you are using Sequential, please try "
                "HybridSequential instead.")
        return super().register_child(block, name)

    def hybridize(self, active=True, mode="ast", static_alloc=False, static_shape=False,
                  fallback=True, check=False, optimize=True):
        """Compile hybrid_forward on the next call. mode='ast' rewrites its source into a
        program; mode='trace' traces it with symbols as MXNet does."""
        if mode not in HYBRIDIZE_MODES:
            raise ValueError(f"hybridize: mode must be one of {HYBRIDIZE_MODES}, not {mode!r}")
        from ..compiler.options import HybridizeOptions
        object.__setattr__(self, "_active", bool(active))
        object.__setattr__(self, "_options", HybridizeOptions(
            mode, bool(static_alloc), bool(static_shape), bool(fallback), bool(check),
            bool(optimize)))
        object.__setattr__(self, "_programs", None)
        super().hybridize(active, mode=mode, static_alloc=static_alloc,
                          static_shape=static_shape, fallback=fallback, check=check,
                          optimize=optimize)

    def __call__(self, *args):
        programs = self._programs
        if programs is not None and type(self).forward is HybridBlock.forward:
            entry = programs.get(cache_key(args))
            if entry is not None:       # the hot path of a hybridized block: straight to its program
                return entry(args)
        return self.forward(*args)

    def forward(self, x, *args):
        if isinstance(x, Symbol):
            if trace_names_active():
                return self._call_symbolic(x, *args)
            # called on a symbol by the user (net(sym.var('data'))): parameters become
            # variables named by their collect_params() key, distinct as export writes them
            previous = set_trace_names({id(p): k for k, p in self.collect_params().items()})
            try:
                return self._call_symbolic(x, *args)
            finally:
                set_trace_names(previous)
        if not self._active and self._options is None and \
                getattr(type(self).hybrid_forward, "_ast_hybrid_compile", False):
            self.hybridize()
        if self._active:
            return call_compiled(self, (x,) + args)
        return self._call_imperative(x, *args)

    def _param_values(self, make):
        return {key: make(param) for key, param in self._reg_params.items()}

    def _call_imperative(self, *args):
        from .. import ndarray
        try:
            params = self._param_values(Parameter.data)
        except DeferredInitializationError:
            self.infer_and_initialize(args)
            params = self._param_values(Parameter.data)
        return self.hybrid_forward(ndarray, *args, **params)

    def _call_symbolic(self, *args):
        from .. import symbol
        with block_prefix(self._alias()):
            return self.hybrid_forward(symbol, *args, **self._param_values(Parameter.var))

    def infer_and_initialize(self, args):
        """Finish deferred initialization: trace with symbols, infer every parameter's shape."""
        from ..compiler.trace import infer_parameter_shapes
        infer_parameter_shapes(self, args)

    def infer_shape(self, *args):
        self.infer_and_initialize(args)

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define hybrid_forward()")

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Write `path-symbol.json` (the graph) and `path-%04d.params` (the parameters)."""
        from ..compiler.export import export_block
        return export_block(self, path, epoch)

