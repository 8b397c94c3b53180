"""Specializing calls: operators are lowered, blocks, helpers and the user's functions inlined,
pure builtins evaluated now, `print` emitted with real values, anything else called at run time."""
import ast
import builtins
import logging
import math
import os
import sysconfig
import types
import warnings

from .. import runtime
from ...ops.python_operators import ARRAY_BUILTINS
from .values import ANY, ARRAY, NUMPY, Dynamic, FRef, Seq, Static, is_static, static_value

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
                if not receiver.is_array and receiver.kind != NUMPY \
                        and _holds_plain_numpy(list(args) + list(kwargs.values())):
                    raise self.unsupported(f".{func.attr}() given a plain numpy array on a "
                                           "run-time value (read back, it could not be told "
                                           "from an NDArray)", node=node)
                if receiver.kind != NUMPY:      # a plain numpy value's methods are numpy's
                    try:
                        return self.lowerer.method(receiver, func.attr, args, kwargs)
                    except LookupError:
                        if receiver.is_array:
                            raise self.unsupported(f"the array method .{func.attr}()",
                                                   node=node) from None
                call = ast.Call(ast.Attribute(receiver.expr, func.attr, ast.Load()),
                                [self.expr_of(a) for a in args],
                                [ast.keyword(k, self.expr_of(v)) for k, v in kwargs.items()])
                # a plain numpy value's methods give plain numpy values
                return Dynamic(call, NUMPY if receiver.kind == NUMPY else ANY)
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
        path = _nd_path(function)
        if path is not None and not (all(is_static(a) for a in args)
                                     and all(is_static(v) for v in kwargs.values())):
            # `nd.relu(x)` in hybrid_forward is what `F.relu(x)` is imperatively
            if path == "array":
                return self.nd_array(args, kwargs, node)
            return self.call(FRef(path), args, kwargs, node)
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
            return self.zero_argument_super(node)
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
        if _builtin_name(function) in ARRAY_BUILTINS and any(
                _holds_array(a) for a in list(args) + list(kwargs.values())):
            return self.builtin_on_arrays(function, args, kwargs, node)
        if function is isinstance and len(args) == 2 and is_static(args[1]) \
                and isinstance(args[0], (Seq, Dynamic)) and _known_type(args[0]) is not None:
            return Static(issubclass(_known_type(args[0]), static_value(args[1])))
        if all(is_static(a) for a in args) and all(is_static(v) for v in kwargs.values()) \
                and _evaluable_now(function):
            try:
                return Static(function(*[static_value(a) for a in args],
                                       **{k: static_value(v) for k, v in kwargs.items()}))
            except Exception as error:
                return self.raised_at_run_time(error)
        if function in (len,) and len(args) == 1 and isinstance(args[0], Seq):
            return Static(len(args[0].items))
        if function in (tuple, list) and len(args) == 1 and isinstance(args[0], Seq):
            return Seq(list(args[0].items), function)
        if function in (zip, enumerate, reversed) and any(isinstance(a, Seq) for a in args):
            return self.sequence_builtin(function, args, node)
        # what turns its arguments into text must see NDArrays, as imperatively
        argument = self.shown if _writes_text(function) else self.expr_of
        call = ast.Call(self.expr_of(callee), [argument(a) for a in args],
                        [ast.keyword(k, argument(v)) for k, v in kwargs.items()])
        return Dynamic(call, ANY)

    def zero_argument_super(self, node):
        """`super()` in a method: `super(C, self)`, with C the class the method is defined in
        (its `__class__` cell) and self the method's first argument, as Python binds it."""
        parsed = self.frame.parsed
        arguments = parsed.node.args.args
        owner = self.frame.env.get(arguments[0].arg) if arguments else None
        if "__class__" not in parsed.closure or not is_static(owner):
            raise self.unsupported("super() without arguments outside a method",
                                   "write super(Class, self)", node)
        return Static(super(parsed.closure["__class__"], static_value(owner)))

    def builtin_on_arrays(self, function, args, kwargs, node):
        """A builtin given arrays does what Python's dispatch to NDArray's special methods
        does, so that values and gradients are imperative mode's (see ARRAY_BUILTINS)."""
        kind, operator_name = ARRAY_BUILTINS[function.__name__]
        if kind == "unary" and len(args) == 1 and not kwargs:
            return self.lowerer.call_operator(operator_name, (args[0],), {})
        if kind == "binary" and len(args) == 2 and not kwargs:
            return self.lowerer.binary(operator_name, args[0], args[1])
        if kind == "fold_add" and len(args) in (1, 2) and set(kwargs) <= {"start"}:
            items = self.static_items(args[0])
            if items is not None:
                total = args[1] if len(args) == 2 else kwargs.get("start", Static(0))
                for item in items:
                    total = self.as_name(self.binary(ast.Add(), total, item, node), "total")
                return total
        if kind == "select" and not kwargs:
            items = list(args) if len(args) > 1 else self.static_items(args[0])
            if items:
                return self.select(operator_name, items, function.__name__)
        if kind == "plain":
            call = ast.Call(ast.Name(function.__name__, ast.Load()),
                            [self.shown(a) for a in args],
                            [ast.keyword(k, self.shown(v)) for k, v in kwargs.items()])
            return Dynamic(call, ANY)
        raise self.unsupported(f"{function.__name__}() with these arguments on arrays",
                               node=node)

    def nd_array(self, args, kwargs, node):
        """`nd.array(value, dtype=...)` of a run-time value: a new array outside the graph,
        made by nd.array's rules for an NDArray or for a plain (numpy) value."""
        given = dict(zip(("source_array", "ctx", "dtype"), args), **kwargs)
        value = given.get("source_array")
        if not isinstance(value, Dynamic) or value.kind == ANY:
            raise self.unsupported("nd.array() of a run-time value that may be an NDArray or "
                                   "a plain value", node=node)
        helper = self.context.constant_ref(runtime.array, "array")
        dtype = self.expr_of(given.get("dtype", Static(None)))
        return Dynamic(ast.Call(helper, [value.expr, dtype, ast.Constant(value.is_array)], []),
                       ARRAY)

    def select(self, comparison, items, hint):
        """min/max as CPython computes them: the first item, replaced by each later item
        that compares greater (max) or lesser (min) than the best so far."""
        best = self.context.namer.fresh(f"{hint}imum")
        self.frame.owned.add(best)
        self.emit(ast.Assign([ast.Name(best, ast.Store())], self.expr_of(items[0])))
        kinds = {item.kind if isinstance(item, Dynamic) else ANY for item in items}
        best_value = Dynamic(ast.Name(best, ast.Load()), ARRAY if kinds == {ARRAY} else ANY)
        for item in items[1:]:
            item = self.as_name(item, "item")
            if isinstance(item, Dynamic) and item.is_array or best_value.is_array \
                    or kinds & {ARRAY}:
                test = self.lowerer.binary(comparison, item, best_value)
            else:
                test = Dynamic(ast.Compare(self.expr_of(item), [_COMPARISON_NODES[comparison]()],
                                           [best_value.expr]), ANY)
            self.emit(ast.If(self.expr_of(test),
                             [ast.Assign([ast.Name(best, ast.Store())], self.expr_of(item))], []))
        return best_value

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
        exprs = [self.shown(a) for a in args]
        keywords = [ast.keyword(k, self.expr_of(v)) for k, v in kwargs.items()]
        self.emit(ast.Expr(ast.Call(ast.Name("print", ast.Load()), exprs, keywords)))
        return Static(None)


def _holds_plain_numpy(values):
    return any(isinstance(v, Dynamic) and v.kind == NUMPY
               or isinstance(v, Seq) and _holds_plain_numpy(v.items) for v in values)


def _writes_text(function):
    """str's methods (`"{}".format(x)`), logging's functions and methods, warnings.warn."""
    owner = getattr(function, "__self__", None)
    return isinstance(owner, (str, logging.Logger, logging.LoggerAdapter)) \
        or getattr(function, "__module__", None) == "logging" or function is warnings.warn


_COMPARISON_NODES = {"greater": ast.Gt, "lesser": ast.Lt}


_ND_PATHS = {}


def _nd_path(function):
    """The name of `function` in the nd namespace (`relu`, `random.normal`), or None."""
    if not _ND_PATHS:
        from ... import ndarray
        for prefix, namespace in (("", ndarray), ("random.", ndarray.random)):
            for name, value in vars(namespace).items():
                if callable(value) and not isinstance(value, type) and not name.startswith("_"):
                    _ND_PATHS.setdefault(id(value), (prefix + name, value))
    entry = _ND_PATHS.get(id(function))
    return entry[0] if entry is not None and entry[1] is function else None


def _builtin_name(function):
    name = getattr(function, "__name__", None)
    return name if isinstance(name, str) and getattr(builtins, name, None) is function else None


def _holds_array(value):
    if isinstance(value, Dynamic):
        return value.is_array
    if isinstance(value, Seq):
        return any(_holds_array(item) for item in value.items)
    return False


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
    methods of plain containers, numpy/math functions and logging.getLogger."""
    if function in _STATIC_BUILTINS or isinstance(function, type) \
            or function is logging.getLogger:   # one logger per name, for the process's life
        return True
    owner = getattr(function, "__self__", None)
    if isinstance(function, types.BuiltinMethodType) and isinstance(owner, _STATIC_TYPES):
        return True
    module = getattr(function, "__module__", "") or ""
    if module.startswith("numpy.random") or getattr(owner, "__class__", None).__name__ in (
            "Generator", "RandomState"):
        return False
    return module == "math" or module.startswith("numpy") or function in vars(math).values()


def is_block(obj):
    from ...gluon.block import Block
    return isinstance(obj, Block)
