"""Specializing calls: operators are lowered, blocks, helpers and the user's functions inlined,
pure builtins evaluated now, `print` emitted with real values, anything else called at run time."""
import ast
import math
import os
import sysconfig
import types

from .. import runtime
from .values import ANY, ARRAY, Dynamic, FRef, Seq, Static, is_static, static_value

_LIBRARY_DIRS = tuple(os.path.abspath(sysconfig.get_paths()[key]) + os.sep
                      for key in ("stdlib", "platstdlib", "purelib", "platlib")) + (
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep,)
_STATIC_BUILTINS = {len, range, zip, enumerate, isinstance, issubclass, int, float, bool, str,
                    tuple, list, dict, min, max, abs, sum, sorted, reversed, getattr, hasattr,
                    round, divmod, pow, type, repr, set, frozenset, all, any, callable}
_STATIC_TYPES = (dict, list, tuple, str, int, float, range, set, frozenset, bytes)
_MUTABLE_TYPES = (list, dict, set, bytearray)
MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault",
            "popitem", "add", "discard", "sort", "reverse"}


class CallSpecializer:
    """The call half of the Specializer (see specialize.py)."""

    def expr_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute):
            receiver = self.expr(func.value)
            if isinstance(receiver, Dynamic):
                args, kwargs = self.call_arguments(node)
                try:
                    return self.lowerer.method(receiver, func.attr, args, kwargs)
                except LookupError:
                    if receiver.is_array:
                        raise self.unsupported(f"the array method .{func.attr}()",
                                               node=node) from None
                call = ast.Call(ast.Attribute(receiver.expr, func.attr, ast.Load()),
                                [self.expr_of(a) for a in args],
                                [ast.keyword(k, self.expr_of(v)) for k, v in kwargs.items()])
                return Dynamic(call, ANY)
            if isinstance(receiver, Seq):
                args, kwargs = self.call_arguments(node)
                if func.attr in ("append", "extend") and receiver.container is list \
                        and len(args) == 1 and not kwargs:
                    if self.frame.dynamic_depth:
                        # a list built before run-time control flow is materialized there
                        # (see specialize.py); one reaching here was not, so it cannot grow
                        raise self.unsupported(f".{func.attr}() under a run-time condition "
                                               "or loop on a list not named by a variable",
                                               node=node)
                    if func.attr == "append":
                        receiver.items.append(self.as_name(args[0], "item"))
                    else:
                        items = self.static_items(args[0])
                        if items is None:
                            raise self.unsupported(".extend() with a run-time value", node=node)
                        receiver.items.extend(self.as_name(i, "item") for i in items)
                    return Static(None)
                raise self.unsupported(f".{func.attr}() of a list holding run-time values",
                                       node=node)
            callee = self.expr_Attribute(func)
        else:
            callee = self.expr(func)
        args, kwargs = self.call_arguments(node)
        return self.call(callee, args, kwargs, node)

    def call_arguments(self, node):
        args = []
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                items = self.static_items(self.expr(argument.value))
                if items is None:
                    raise self.unsupported("*args of a run-time value", node=argument)
                args.extend(items)
            else:
                args.append(self.expr(argument))
        kwargs = {}
        for keyword in node.keywords:
            value = self.expr(keyword.value)
            if keyword.arg is None:
                if not isinstance(value, Static) or not isinstance(value.value, dict):
                    raise self.unsupported("**kwargs of a run-time value", node=node)
                kwargs.update({k: Static(v) for k, v in value.value.items()})
            else:
                kwargs[keyword.arg] = value
        return args, kwargs

    def call(self, callee, args, kwargs, node):
        from ...gluon.block import Block, HybridBlock
        from ...gluon.parameter import Parameter
        if isinstance(callee, FRef):
            try:
                return self.lowerer.call_namespace(callee.path, args, kwargs)
            except LookupError:
                raise self.unsupported(f"F.{callee.path}", "not an operator of the table",
                                       node) from None
            except (TypeError, ValueError) as error:
                raise self.compile_error(f"F.{callee.path}: {error}", node) from None
        if not isinstance(callee, Static):
            call = ast.Call(self.expr_of(callee), [self.expr_of(a) for a in args],
                            [ast.keyword(k, self.expr_of(v)) for k, v in kwargs.items()])
            return Dynamic(call, ANY)
        function = callee.value
        if isinstance(function, HybridBlock):
            return self.call_block(function, args, kwargs, node)
        if isinstance(function, Block):
            raise self.unsupported(f"calling the non-hybrid block {type(function).__name__}",
                                   node=node)
        owner = getattr(function, "__self__", None)
        if isinstance(owner, Block) and inspect_function(function) is not None:
            return self.inline_call(inspect_function(function), owner, args, kwargs,
                                    function.__name__)
        if isinstance(owner, Parameter) and function.__name__ == "data":
            return Dynamic(self.context.parameter_ref(owner), ARRAY)
        if function is super and not args:
            raise self.unsupported("super() without arguments in an inlined method",
                                   "write super(Class, self)", node)
        if function is print:
            return self.call_print(args, kwargs)
        if isinstance(owner, _MUTABLE_TYPES) and getattr(function, "__name__", "") in MUTATORS:
            raise self.unsupported(f"changing a {type(owner).__name__} that exists before the "
                                   "call (a global, closure or block attribute)", node=node)
        if function is getattr and len(args) == 2 and isinstance(args[0], FRef) \
                and is_static(args[1]):
            return FRef(f"{args[0].path}.{static_value(args[1])}".lstrip("."))
        receives_f = any(isinstance(v, FRef) for v in list(args) + list(kwargs.values()))
        if _is_user_function(function) or (receives_f and isinstance(function, types.FunctionType)):
            # a function given F must be compiled: at run time there is no F to give it
            return self.inline_call(function, None, args, kwargs, function.__name__,
                                    bind_self=False)
        if function is isinstance and len(args) == 2 and is_static(args[1]) \
                and isinstance(args[0], (Seq, Dynamic)) and _known_type(args[0]) is not None:
            return Static(issubclass(_known_type(args[0]), static_value(args[1])))
        if all(is_static(a) for a in args) and all(is_static(v) for v in kwargs.values()) \
                and _evaluable_now(function):
            try:
                return Static(function(*[static_value(a) for a in args],
                                       **{k: static_value(v) for k, v in kwargs.items()}))
            except Exception as error:
                raise self.compile_error(f"{type(error).__name__}: {error}", node) from None
        if function in (len,) and len(args) == 1 and isinstance(args[0], Seq):
            return Static(len(args[0].items))
        if function in (tuple, list) and len(args) == 1 and isinstance(args[0], Seq):
            return Seq(list(args[0].items), function)
        if function in (zip, enumerate, reversed) and any(isinstance(a, Seq) for a in args):
            return self.sequence_builtin(function, args, node)
        call = ast.Call(self.expr_of(callee), [self.expr_of(a) for a in args],
                        [ast.keyword(k, self.expr_of(v)) for k, v in kwargs.items()])
        return Dynamic(call, ANY)

    def sequence_builtin(self, function, args, node):
        lists = []
        for a in args:
            items = self.static_items(a)
            if items is None:
                raise self.unsupported(f"{function.__name__}() of run-time values", node=node)
            lists.append(items)
        if function is reversed:
            return Seq(list(reversed(lists[0])), list)
        if function is enumerate:
            return Seq([Seq([Static(i), item], tuple) for i, item in enumerate(lists[0])], list)
        return Seq([Seq(list(group), tuple) for group in zip(*lists)], list)

    def call_block(self, block, args, kwargs, node):
        from ...gluon.block import HybridBlock
        if type(block).forward is not HybridBlock.forward or \
                getattr(block, "_build_program", None) is not None:
            raise self.unsupported(f"the block {type(block).__name__}, which defines its own "
                                   "forward", node=node)
        self.context.watch(block, "_children")
        params = {key: Dynamic(self.context.parameter_ref(param), ARRAY)
                  for key, param in block._reg_params.items()}
        overlap = set(params) & set(kwargs)
        if overlap:
            raise self.compile_error(f"{', '.join(overlap)} given both as argument and parameter",
                                     node)
        return self.inline_call(type(block).hybrid_forward, block, [FRef()] + list(args),
                                {**kwargs, **params}, type(block).__name__.lower())

    def call_print(self, args, kwargs):
        show = self.context.constant_ref(runtime.show, "show")
        exprs = [self.expr_of(a) if is_static(a) or isinstance(a, FRef)
                 else ast.Call(show, [self.expr_of(a)], [])
                 for a in args]
        keywords = [ast.keyword(k, self.expr_of(v)) for k, v in kwargs.items()]
        self.emit(ast.Expr(ast.Call(ast.Name("print", ast.Load()), exprs, keywords)))
        return Static(None)


def _is_user_function(function):
    """A plain Python function of the user's, to inline; library code is called instead."""
    if not isinstance(function, types.FunctionType):
        return False
    filename = os.path.abspath(function.__code__.co_filename)
    return not filename.startswith(_LIBRARY_DIRS)


def _known_type(value):
    """The type a value has at run time as the user's code sees it, where that is certain."""
    from ...ndarray import NDArray
    if isinstance(value, Seq):
        return value.container
    return NDArray if value.is_array else None


def inspect_function(bound_method):
    function = getattr(bound_method, "__func__", None)
    return function if isinstance(function, types.FunctionType) else None


def _evaluable_now(function):
    """Calls with only compile-time arguments that may run while compiling: pure builtins,
    methods of plain containers, and numpy/math functions."""
    if function in _STATIC_BUILTINS or isinstance(function, type):
        return True
    owner = getattr(function, "__self__", None)
    if isinstance(function, types.BuiltinMethodType) and isinstance(owner, _STATIC_TYPES):
        return True
    module = getattr(function, "__module__", "") or ""
    if module.startswith("numpy.random") or getattr(owner, "__class__", None).__name__ in (
            "Generator", "RandomState"):
        return False
    return module == "math" or module.startswith("numpy") or function in vars(math).values()
