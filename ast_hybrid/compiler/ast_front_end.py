"""The AST front end: hybrid_forward's source -> passes -> one readable program, cached per block."""
import ast
import functools
import inspect

from ..gluon.block import Block
from .backend import compile_program
from .dispatch import AUTO, CompiledEntry, Invalidator, build_lock, cache_key, with_entry
from .naming import Namer
from .passes import specialize
from .passes.errors import CompileError, UnsupportedConstruct
from .passes.values import ARRAY, Dynamic, FRef, Static
from .trace import is_array

__all__ = ["UnsupportedConstruct", "CompileError", "build_ast_entry", "hybrid", "to_source"]


def _parameter_hint(key):
    hint = key.replace(".", "_")
    return "p" + hint if hint[:1].isdigit() else hint


def _argument_values(args):
    return [Dynamic(None, ARRAY) if is_array(a) else Static(a) for a in args]


def build_program(function, leading, args, root_block=None, label=None, options=None):
    """(Program, parameters in argument order) for `function(*leading, *args)`; with
    `options.optimize` (the default) the optimization passes rewrite the program."""
    namer = Namer()
    owner = root_block
    invalidator = Invalidator.of(owner) if owner is not None else None

    def watch(obj, attribute):
        if invalidator is not None and isinstance(obj, Block):
            invalidator.watch(obj, attribute)

    from .passes.program_context import ProgramContext
    context = ProgramContext(namer, watch)
    function_name = namer.fresh(label or function.__name__)
    params = {}
    if root_block is not None:
        context.parameter_hints = {id(p): _parameter_hint(key)
                                   for key, p in root_block._structural_params().items()}
        watch(root_block, "_children")
        params = {key: Dynamic(context.parameter_ref(p), ARRAY)
                  for key, p in root_block._reg_params.items()}
    arguments, body, parsed = specialize.transform(context, function, leading, args, params)
    arguments += [ast.arg(name) for name, _ in context.parameters.values()]
    definition = ast.FunctionDef(function_name,
                                 ast.arguments([], arguments, None, [], [], None, []),
                                 context.training_setup() + body, [], None)
    pseudo_file = f"{label}.{function.__name__}" if label else function.__name__
    optimized = definition
    if options is None or options.optimize:
        from .optimize import OptimizeInfo, optimize
        info = OptimizeInfo(dict(context.kernel_ops), context.namespace, namer,
                            tuple(a.arg for a in arguments),
                            {name: param for name, param in context.parameters.values()},
                            options)
        optimized = optimize(definition, info)
    program = compile_program([optimized], context.namespace, pseudo_file,
                              kernel_ops=context.kernel_ops, namer=namer,
                              differentiable=definition)
    if context.guards:
        program.guards = context.guards
    return program, [param for _, param in context.parameters.values()]


def build_ast_entry(block, args):
    program, params = build_program(type(block).hybrid_forward, [Static(block), FRef()],
                                    _argument_values(args), root_block=block,
                                    label=type(block).__name__, options=block._options)
    positions = [i for i, a in enumerate(args) if is_array(a)]
    return CompiledEntry(program, params, positions, AUTO, "ast", block)


class HybridFunction:
    """A function `f(F, *arrays)` compiled by the AST front end on its first call."""

    def __init__(self, function):
        functools.update_wrapper(self, function)
        self._function = function
        self._programs = {}

    def _entry(self, args):
        key = cache_key(args)
        entry = self._programs.get(key)
        if entry is not None and not entry.stale():
            return entry
        with build_lock:       # simultaneous first calls compile once
            entry = self._programs.get(key)
            if entry is None or entry.stale():
                program, _ = build_program(self._function, [FRef()], _argument_values(args))
                positions = [i for i, a in enumerate(args) if is_array(a)]
                entry = CompiledEntry(program, [], positions, AUTO, "ast")
                self._programs = with_entry(self._programs, key, entry)
        return entry

    def __call__(self, *args):
        return self._entry(args)(args)

    def entry_for(self, args=None):
        if args is None:
            from ..ndarray import NDArray
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
    programs = getattr(obj, "_programs", None) or {}
    if not args and programs:
        return list(programs.values())[-1]
    from ..ndarray import NDArray
    if not args:
        signature = inspect.signature(type(obj).hybrid_forward)
        names = list(signature.parameters)[2:]
        args = [NDArray(None) for name in names
                if name not in obj._reg_params
                and signature.parameters[name].default is inspect.Parameter.empty
                and signature.parameters[name].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    builder = getattr(obj, "_build_program", None)
    return builder(tuple(args)) if builder is not None else build_ast_entry(obj, tuple(args))
