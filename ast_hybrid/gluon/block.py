"""Block, HybridBlock: the layers users compose; compiling them is asked of ast_hybrid.compiler."""
import re
import warnings
import weakref
from collections import OrderedDict

from .. import initializer, ndarray, symbol
from ..compiler.block_view import CHILDREN, BlockView, ProgramCache
from ..compiler.dispatch import call_compiled
from ..compiler.entry import cached_entry
from ..compiler.export import export_block
from ..compiler.options import HybridizeOptions
from ..compiler.trace import infer_parameter_shapes
from ..limits import LoadLimits
from ..ndarray import NDArray
from ..ndarray.io import save_arrays
from ..symbol import Symbol
from ..symbol.naming import set_trace_names, trace_names_active
from .block_scope import BlockScope
from .parameter import (DeferredInitializationError, Parameter, ParameterDict,
                        any_on_several_contexts)
from .parameter_files import load_parameter_file, match_names

HYBRIDIZE_MODES = ("ast", "trace")


def _checked_mode(mode):
    if mode not in HYBRIDIZE_MODES:
        raise ValueError(f"hybridize: mode must be one of {HYBRIDIZE_MODES}, not {mode!r}")
    return mode


class HookHandle:
    """What register_forward_hook and register_forward_pre_hook return: `detach()` removes
    the hook (a second detach does nothing); `with handle:` detaches it on leaving.
    Hooks are keyed by the function's id, as in MXNet: a function registered twice on one
    block runs once, and detaching either handle removes it."""

    def __init__(self, hooks, hook):
        self._id = id(hook)
        hooks[self._id] = hook
        self._hooks_ref = weakref.ref(hooks)

    def detach(self):
        hooks = self._hooks_ref()
        if hooks is not None:
            hooks.pop(self._id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.detach()


class Block(BlockView):
    """A layer or a network of layers; children and parameters register by attribute.

    Names are MXNet 1.x's: `prefix` (default: the block's alias counted in the enclosing
    name_scope(), `dense0_`) is put before its parameters' names (`dense0_weight`) and, in
    its name_scope(), before its children's; `params` (a ParameterDict, such as another
    block's `params` or `collect_params()`) gives parameters to share by name.
    """

    def __init__(self, prefix=None, params=None):
        object.__setattr__(self, "_children", OrderedDict())
        object.__setattr__(self, "_reg_params", OrderedDict())
        object.__setattr__(self, "_watchers", None)
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        self._empty_prefix = prefix == ""
        self._prefix, self._params = BlockScope.create(prefix, params, self._alias())
        self._name = self._prefix[:-1] if self._prefix.endswith("_") else self._prefix
        self._scope = BlockScope(self)

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
        if self.__dict__.get("_watchers"):     # a subclass may set attributes before __init__
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

    # ----- naming
    @property
    def prefix(self):
        return self._prefix

    @property
    def name(self):
        """The prefix without its trailing '_' (`dense0`)."""
        return self._name

    def _alias(self):
        """The hint a default prefix is counted from: the class name lowercased, or the
        layer's word in MXNet (conv, pool, the activation's name)."""
        return type(self).__name__.lower()

    def name_scope(self):
        """`with block.name_scope():` blocks made inside are named after this one
        (`net0_dense0_`), and so are the graph nodes made inside."""
        return self._scope

    @property
    def params(self):
        """This block's own ParameterDict (its prefix, its parameters by full name)."""
        return self._params

    # ----- structure
    def register_child(self, block, name=None):
        if name is None:
            name = str(len(self._children))
        self._children[name] = block
        if self._watchers:
            self._notify(CHILDREN)
        return block

    def __repr__(self):
        lines = [f"{type(self).__name__}("]
        for key, child in self._children.items():
            child_text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({key}): {child_text}")
        return "\n".join(lines) + "\n)" if self._children else f"{type(self).__name__}()"

    def _own_params(self):
        """(key, Parameter) pairs this block holds itself: by attribute, then those only in
        its params (key: the name without the params' prefix), each once."""
        seen = {}
        for key, param in self._reg_params.items():
            seen.setdefault(id(param), (key, param))
        prefix = self._params.prefix
        for name, param in self._params.items():
            key = name[len(prefix):] if name.startswith(prefix) else name
            seen.setdefault(id(param), (key, param))
        return list(seen.values())

    def collect_params(self, select=None):
        """This block's and its descendants' parameters, keyed by full name
        (`hybridsequential0_dense0_weight`); with `select`, those whose name a regular
        expression matches from its start (`'.*weight|.*bias'`)."""
        self._warn_unregistered_containers()
        result = ParameterDict(self._params.prefix)
        self._collect_into(result, re.compile(select) if select else None)
        return result

    def _warn_unregistered_containers(self):
        """MXNet's warning for each attribute (of this block or a descendant) that is a list,
        tuple or dict holding a block that is not a child: its parameters are not collected."""
        for block in self._tree():
            children = {id(child) for child in block._children.values()}
            for key, value in block.__dict__.items():
                if key.startswith("__") or key == "_children" or \
                        not isinstance(value, (list, tuple, dict)):
                    continue
                if _holds_unregistered_block(value, children):
                    warnings.warn(
                        f'"{type(block).__name__}.{key}" is an unregistered container with '
                        "Blocks. Note that Blocks inside the list, tuple or dict will not be "
                        "registered automatically. Make sure to register them using "
                        "register_child() or switching to nn.Sequential/nn.HybridSequential "
                        "instead. ", stacklevel=3)

    def _tree(self):
        yield self
        for child in self._children.values():
            yield from child._tree()

    def _collect_into(self, result, pattern):
        result.update({name: param for name, param in self._params.items()
                       if pattern is None or pattern.match(name)})
        for child in self._children.values():
            child._collect_into(result, pattern)

    def _collect_params_with_prefix(self, prefix="", earlier=False):
        """Every parameter of the tree by its structural path (`0.weight`, `encoder.1.bias`),
        as save_parameters names them in MXNet 1.x: the same whatever the prefixes, so a
        file loads into the network built again; a shared parameter is under each path.
        `earlier`: the paths earlier versions of this package wrote, where they differ."""
        if prefix:
            prefix += "."
        result = OrderedDict((prefix + key, param)
                             for key, param in self._own_paths(earlier))
        for name, child in self._children.items():
            result.update(child._collect_params_with_prefix(prefix + name, earlier))
        return result

    def _own_paths(self, earlier):
        """(path, Parameter) of the parameters this block holds itself, below its own path."""
        return self._own_params()

    def _structural_params(self):
        """Each parameter of the tree once, by its first structural path: the compiler
        names a program's arguments after these (`p0_weight`)."""
        first = OrderedDict()
        for path, param in self._collect_params_with_prefix().items():
            first.setdefault(id(param), (path, param))
        return OrderedDict(first.values())

    def initialize(self, init=initializer.Uniform(), ctx=None, verbose=False,
                   force_reinit=False):
        self.collect_params().initialize(init, ctx, verbose, force_reinit)

    def apply(self, fn):
        """`fn(block)` on every block of the tree, children before their parent; returns self."""
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
        _checked_mode(kwargs.get("mode", "ast"))
        for child in self._children.values():
            child.hybridize(active, **kwargs)

    # ----- files
    def save_parameters(self, filename, deduplicate=False):
        """Write the parameters' values by structural path (`0.weight`); a shared parameter
        under each of its paths, or with `deduplicate` under its last one only."""
        paths = self._collect_params_with_prefix()
        if deduplicate:
            last = {id(param): path for path, param in paths.items()}
            paths = OrderedDict((path, param) for path, param in paths.items()
                                if last[id(param)] == path)
        save_arrays(filename, {path: param._reduce().asnumpy() for path, param in paths.items()})

    def load_parameters(self, filename, ctx=None, allow_missing=False, ignore_extra=False,
                        cast_dtype=False, dtype_source="current", **limits):
        """Values for the parameters from `filename`. Names with a '.' are structural paths
        (save_parameters'). A file without any holds full names: export's `arg:`/`aux:`
        names and collect_params().save's are read as they are; if none is a parameter's
        name, they are read after this block's prefix, as MXNet 1.x reads names saved with
        the prefix stripped. The names are checked against the network before any array
        is inflated; `limits` raise those of ast_hybrid.limits.LoadLimits."""
        def match(names):
            if any("." in name for name in names):
                paths = self._collect_params_with_prefix()
                if not set(names) <= set(paths):
                    earlier = self._collect_params_with_prefix(earlier=True)
                    if set(names) <= set(earlier):
                        paths = earlier        # a file an earlier version wrote
                return match_names(filename, names, paths, allow_missing, ignore_extra)
            params = self.collect_params()
            restore_prefix = "" if any(name in params for name in names) else self.prefix
            return params._match(filename, names, allow_missing, ignore_extra, restore_prefix)

        load_parameter_file(filename, LoadLimits.given(limits), match, cast_dtype,
                            dtype_source)

    def save_params(self, filename):
        """MXNet 1.x's older save: full names without this block's prefix, which
        load_params (load_parameters) reads back after the prefix."""
        self.collect_params().save(filename, strip_prefix=self.prefix)

    load_params = load_parameters

    # ----- running
    def summary(self, *inputs):
        """Print MXNet's table of the blocks' output shapes and parameter counts on `inputs`."""
        from ..viz.block_summary import block_summary
        block_summary(self, *inputs)

    def register_forward_pre_hook(self, hook):
        """`hook(block, inputs)` before each call of this block (`inputs`: the tuple of
        positional arguments); returns a HookHandle."""
        return HookHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """`hook(block, inputs, output)` after each call of this block; returns a HookHandle.
        A hybridized block runs its own hooks around its program; a child's hooks do not
        run when its hybridized parent's program (which inlines the child) runs."""
        return HookHandle(self._forward_hooks, hook)

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            hook(self, args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            hook(self, args, output)
        return output

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # ----- the compiler's view (compiler.block_view.BlockView)
    def _forward_function(self):
        return type(self).hybrid_forward

    def _argument_parameters(self):
        return self._reg_params

    def _child_blocks(self):
        return self._children.values()

    def _is_hybrid(self):
        return False

    def _tree_parameters(self):
        return self.collect_params()


def _holds_unregistered_block(value, children):
    """Whether a (nested) list, tuple or dict holds a block whose id is not in `children`."""
    if isinstance(value, (list, tuple)):
        return any(_holds_unregistered_block(item, children) for item in value)
    if isinstance(value, dict):
        return any(_holds_unregistered_block(item, children) for item in value.values())
    return isinstance(value, Block) and id(value) not in children


def _first_array_context(args):
    pending = list(args)
    while pending:
        value = pending.pop(0)
        if isinstance(value, (list, tuple)):
            pending[:0] = value
        elif isinstance(value, NDArray):
            return value.context
    return None


def _input_kind(args):
    """NDArray or Symbol: the kind of array among (nested lists of) the inputs, refused as
    MXNet refuses them where there is none or both."""
    kinds = set()
    pending = list(args)
    while pending:
        value = pending.pop()
        if isinstance(value, (list, tuple)):
            pending.extend(value)
        elif isinstance(value, (NDArray, Symbol)):
            kinds.add(Symbol if isinstance(value, Symbol) else NDArray)
    if not kinds:
        raise ValueError("In HybridBlock, there must be one NDArray or one Symbol in the "
                         "input. Please check the type of the args.")
    if len(kinds) > 1:
        raise ValueError("In HybridBlock, we do not support mixed NDArrays and Symbols types "
                         "for the input. Please check the type of the args.")
    return kinds.pop()


class HybridBlock(Block):
    """A block whose `hybrid_forward(F, x, ...)` runs with F=nd, or compiled once hybridized."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix, params)
        object.__setattr__(self, "_active", False)
        object.__setattr__(self, "_options", None)
        object.__setattr__(self, "_program_cache", ProgramCache())

    @property
    def _programs(self):
        """The compiled programs by cache key (None when there are none)."""
        return self._program_cache.programs

    def register_child(self, block, name=None):
        if not isinstance(block, HybridBlock):
            raise ValueError(
                f"Children of HybridBlock must also be HybridBlock, but {block!r} has type "
                f"{type(block).__name__}. If you are using Sequential, please try "
                "HybridSequential instead.")
        return super().register_child(block, name)

    def hybridize(self, active=True, backend=None, clear=True, static_alloc=False,
                  static_shape=False, inline_limit=2, forward_bulk_size=None,
                  backward_bulk_size=None, mode="ast", fallback=True, check=False,
                  optimize=True, **backend_options):
        """Compile hybrid_forward on the next call. mode='ast' rewrites its source into a
        program; mode='trace' traces it with symbols as MXNet does. MXNet 1.9.1's options
        are taken in its order: `clear=False` keeps the programs built with the same
        options; `inline_limit` and the bulk sizes tune MXNet's engine, which numpy has
        not; `backend` and other keywords (MXNet's options of the backend's
        optimize_for) are taken and ignored with a warning, as there are no subgraph
        backends. fallback, check and optimize are this package's own."""
        if backend is not None or backend_options:
            given = ([f"backend={backend!r}"] if backend is not None else []) + sorted(
                backend_options)
            warnings.warn(f"{type(self).__name__}.hybridize: {', '.join(given)} ignored: "
                          "ast_hybrid has no subgraph backends", stacklevel=2)
        options = HybridizeOptions(_checked_mode(mode), bool(static_alloc),
                                   bool(static_shape), bool(fallback), bool(check),
                                   bool(optimize))
        if clear or options != self._options:
            self._program_cache.clear()
        object.__setattr__(self, "_active", bool(active))
        object.__setattr__(self, "_options", options)
        if active and (self._forward_hooks or self._forward_pre_hooks):
            warnings.warn(f'"{self}" is being hybridized while still having forward '
                          f'hook/pre-hook. If "{self}" is a child of HybridBlock, the hooks '
                          "will not take effect.", stacklevel=2)
        super().hybridize(active, clear=clear, static_alloc=static_alloc,
                          static_shape=static_shape, inline_limit=inline_limit,
                          forward_bulk_size=forward_bulk_size,
                          backward_bulk_size=backward_bulk_size, mode=mode,
                          fallback=fallback, check=check, optimize=optimize)

    def __call__(self, *args):
        if self._forward_pre_hooks or self._forward_hooks:
            return super().__call__(*args)
        cache = self._program_cache
        if cache.programs is not None and type(self).forward is HybridBlock.forward and \
                not any_on_several_contexts(self._all_params):
            entry = cached_entry(cache, args)
            if entry is not None:       # a hybridized block's hot path: straight to its program
                return entry(args)
        return self.forward(*args)

    def forward(self, x, *args):
        if _input_kind((x,) + args) is Symbol:
            if trace_names_active():
                return self._call_symbolic(x, *args)
            # called on a symbol by the user (net(sym.var('data'))): parameters become
            # variables named by their full names, as export writes them
            previous = set_trace_names({id(p): k for k, p in self.collect_params().items()})
            try:
                return self._call_symbolic(x, *args)
            finally:
                set_trace_names(previous)
        if not self._active and self._options is None and \
                getattr(type(self).hybrid_forward, "_ast_hybrid_compile", False):
            self.hybridize()
        if self._active and not any_on_several_contexts(self._all_params):
            return call_compiled(self, (x,) + args)
        return self._call_imperative(x, *args)

    def _all_params(self):
        return self.collect_params().values()

    def _param_values(self, make):
        return {key: make(param) for key, param in self._reg_params.items()}

    def _call_imperative(self, *args):
        # each parameter's copy on its inputs' context, as MXNet's forward takes them
        context = _first_array_context(args)

        def on_context(param):
            return param.data(context if param._copies else None)
        try:
            params = self._param_values(on_context)
        except DeferredInitializationError:
            self.infer_and_initialize(args)
            params = self._param_values(on_context)
        return self.hybrid_forward(ndarray, *args, **params)

    def _call_symbolic(self, *args):
        with self.name_scope():
            return self.hybrid_forward(symbol, *args, **self._param_values(Parameter.var))

    def infer_and_initialize(self, args):
        """Finish deferred initialization: trace with symbols, infer every parameter's shape."""
        infer_parameter_shapes(self, args)

    def infer_shape(self, *args):
        self.infer_and_initialize(args)

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define hybrid_forward()")

    def _is_hybrid(self):
        return True

    def _overrides_forward(self):
        return type(self).forward is not HybridBlock.forward

    def _hybridize_options(self):
        return self._options

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Write `path-symbol.json` (the graph) and `path-%04d.params` (the parameters)."""
        return export_block(self, path, epoch)

    def export_onnx(self, path, *example_inputs, **options):
        """Write the block as an ONNX model at `path`, traced on `example_inputs` (see
        ast_hybrid.onnx.export_model for `options`); needs the onnx package."""
        from ..onnx.block_export import export_onnx
        return export_onnx(self, path, *example_inputs, **options)
