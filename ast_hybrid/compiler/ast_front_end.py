"""The AST front end: hybrid_forward's source -> passes -> one readable program, cached."""
import ast
import functools
import inspect
import weakref

from ..base import garbage_collection_paused
from .backend import compile_program
from .block_view import CHILDREN, BlockView, with_entry
from .entry import AUTO, CompiledEntry, argument_leaves, build_lock, cache_key
from .naming import Namer
from ..ndarray import NDArray
from .optimize import OptimizeInfo, optimize
from .passes.program_context import ProgramContext
from .passes import specialize
from .passes.errors import CompileError, UnsupportedConstruct
from .passes.values import ARRAY, Dynamic, FRef, Seq, Static
from .trace import is_array

__all__ = ["UnsupportedConstruct", "CompileError", "build_ast_entry", "hybrid", "to_source"]


def _parameter_hint(key):
    hint = key.replace(".", "_")
    return "p" + hint if hint[:1].isdigit() else hint


def _argument_values(args):
    return [_argument_value(a) for a in args]


def _argument_value(value):
    if is_array(value):
        return Dynamic(None, ARRAY)
    if isinstance(value, (list, tuple)) and any(is_array(leaf) for leaf in argument_leaves(value)):
        # the caller holds this list: the program may read it, not change it
        return Seq([_argument_value(item) for item in value], type(value), external=True)
    return Static(value)


def _entry(program, params, args, block=None):
    """The cache entry that calls `program` with the arrays among `args` (nested included)."""
    nested = any(isinstance(a, (list, tuple)) for a in args)
    leaves = argument_leaves(args) if nested else args
    positions = [i for i, a in enumerate(leaves) if is_array(a)]
    return CompiledEntry(program, params, positions, AUTO, "ast", block, nested=nested)


@garbage_collection_paused()
def build_program(function, leading, args, root_block=None, label=None, options=None,
                  keywords=None):
    """(Program, parameters in argument order) for `function(*leading, *args, **keywords)`;
    with `options.optimize` (the default) the optimization passes rewrite the program."""
    namer = Namer()
    cache = root_block._program_cache if root_block is not None else None

    def watch(obj, attribute):
        if cache is not None and isinstance(obj, BlockView):
            cache.watch(obj, attribute)

    context = ProgramContext(namer, watch)
    function_name = namer.fresh(label or function.__name__)
    params = dict(keywords or {})
    if root_block is not None:
        context.parameter_hints = {id(p): _parameter_hint(key)
                                   for key, p in root_block._structural_params().items()}
        watch(root_block, CHILDREN)
        params.update({key: Dynamic(context.parameter_ref(p), ARRAY)
                       for key, p in root_block._argument_parameters().items()})
    arguments, body, parsed = specialize.transform(context, function, leading, args, params)
    arguments += [ast.arg(name) for name, _ in context.parameters.values()]
    definition = ast.FunctionDef(function_name,
                                 ast.arguments([], arguments, None, [], [], None, []),
                                 context.training_setup() + body, [], None)
    pseudo_file = f"{label}.{function.__name__}" if label else function.__name__
    optimized = definition
    # the optimization passes do not model `with` (its body runs under another mode) or
    # `try` (its body may stop anywhere)
    if (options is None or options.optimize) and not context.unoptimizable:
        info = OptimizeInfo(dict(context.kernel_ops), context.namespace, namer,
                            tuple(a.arg for a in arguments),
                            {name: param for name, param in context.parameters.values()},
                            options)
        optimized = optimize(definition, info)
    program = compile_program([optimized], context.namespace, pseudo_file,
                              kernel_ops=context.kernel_ops, namer=namer,
                              differentiable=definition)
    program.optimized = optimized is not definition
    if context.guards:
        program.guards = context.guards
    program.maybe_unbound = frozenset(context.maybe_unbound)
    if context.self_reference is not None:
        # a handler converts what it caught through the program's own source (no cycle)
        program.namespace[context.self_reference] = weakref.ref(program)
    return program, [param for _, param in context.parameters.values()]


def build_ast_entry(block, args):
    program, params = build_program(block._forward_function(), [Static(block), FRef()],
                                    _argument_values(args), root_block=block,
                                    label=type(block).__name__,
                                    options=block._hybridize_options())
    return _entry(program, params, args, block)


class HybridFunction:
    """A function `f(F, *arrays)` compiled by the AST front end on its first call."""
    takes_f = True      # called from compiled code, it is inlined with F supplied

    def __init__(self, function):
        functools.update_wrapper(self, function)
        self._function = function
        self._signature = inspect.signature(function)
        self._programs = {}

    @property
    def python_function(self):
        return self._function

    def _entry(self, args, keywords=()):
        key = (cache_key(args), keywords) if keywords else cache_key(args)
        entry = self._programs.get(key)
        if entry is not None and not entry.stale():
            return entry
        with build_lock:       # simultaneous first calls compile once
            entry = self._programs.get(key)
            if entry is None or entry.stale():
                values = _argument_values(args)
                named = dict(zip(keywords, values[len(values) - len(keywords):]))
                positional = values[:len(values) - len(keywords)]
                program, _ = build_program(self._function, [FRef()], positional,
                                           keywords=named)
                entry = _entry(program, [], args)
                self._programs = with_entry(self._programs, key, entry)
        return entry

    def __call__(self, *args, **kwargs):
        if kwargs:
            # the keywords' values follow the positional arguments; their names are part of
            # the cache key, each order of them one program
            try:
                self._signature.bind(None, *args, **kwargs)
            except TypeError as error:
                raise TypeError(f"{self.__name__}(): {error}") from None
            # in the order the program takes them: named parameters, then **kwargs
            order = list(self._signature.parameters)
            names = sorted(kwargs, key=lambda k: order.index(k) if k in order else len(order))
            kwargs = {name: kwargs[name] for name in names}
            args = args + tuple(kwargs.values())
            return self._entry(args, tuple(kwargs))(args)
        return self._entry(args)(args)

    def entry_for(self, args=None):
        if args is None:
            parameters = list(inspect.signature(self._function).parameters.values())[1:]
            args = [NDArray(None) for p in parameters if p.default is inspect.Parameter.empty]
        return self._entry(tuple(args))


def hybrid(function):
    """Compile with the AST front end: on `f(F, x, ...)` the decorator supplies F=nd's
    compiled form; on a block's `hybrid_forward` the block compiles from its first call."""
    parameters = list(inspect.signature(function).parameters)
    if parameters[:1] == ["self"]:
        function._ast_hybrid_compile = True
        return function
    if parameters[:1] != ["F"]:
        raise TypeError(f"@hybrid needs a function whose first parameter is F (or a "
                        f"hybrid_forward method); {function.__name__} starts with "
                        f"{parameters[:1] or 'nothing'}")
    return HybridFunction(function)


def to_source(obj, *args, backward=False):
    """The generated program of a hybridized block or an @hybrid function, as Python source;
    with backward=True, its recording forward and backward programs.

    Before the first call, array inputs are assumed for the parameters without defaults."""
    entry = _entry_for(obj, args)
    return entry.differentiated().source if backward else entry.program.source


def _entry_for(obj, args):
    if isinstance(obj, HybridFunction):
        return obj.entry_for(args or None)
    cache = getattr(obj, "_program_cache", None)
    programs = (cache.programs if cache is not None else None) or {}
    if not args and programs:
        return list(programs.values())[-1]
    if not args:
        signature = inspect.signature(obj._forward_function())
        names = list(signature.parameters)[2:]
        args = [NDArray(None) for name in names
                if name not in obj._argument_parameters()
                and signature.parameters[name].default is inspect.Parameter.empty
                and signature.parameters[name].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    builder = obj._build_program
    return builder(tuple(args)) if builder is not None else build_ast_entry(obj, tuple(args))
