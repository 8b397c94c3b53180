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
from ... import ops
from ... import ndarray
from ...ndarray import NDArray
from ..block_view import CHILDREN, BlockView, ParameterView
from ...ops.python_operators import ARRAY_BUILTINS
from .values import (ANY, ARRAY, NUMPY, Dynamic, FRef, Local, Seq, Static, Table, is_literal,
                     is_static, static_value)

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


class RunTimeItems:
    """`*items` in a call, of a list whose length only run time knows."""
    def __init__(self, value):
        self.value = value


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
                    self.check_growable(receiver, node)
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
            if isinstance(receiver, Table):
                args, kwargs = self.call_arguments(node)
                return self.table_method(receiver, func.attr, args, kwargs, node)
            callee = self.expr_Attribute(func)
        else:
            callee = self.expr(func)
        if isinstance(callee, Static) and any(callee.value is f for f in _CONSUME_ALL):
            # a generator they consume whole is evaluated as a list, in the same order
            node = ast.Call(node.func, [_as_list_comprehension(a) for a in node.args],
                            node.keywords, lineno=node.lineno, col_offset=node.col_offset)
        operator = callee.path if isinstance(callee, FRef) else (
            _nd_path(callee.value) if isinstance(callee, Static) else None)
        args, kwargs = self.call_arguments(node, run_time_items=operator is not None)
        if any(isinstance(a, RunTimeItems) for a in args):
            return self.variadic_call(operator, args, kwargs, node)
        return self.call(callee, args, kwargs, node)

    def variadic_call(self, operator, args, kwargs, node):
        """`F.concat(*items, dim=0)` of a list that run-time code grows: its length, so
        `num_args`, is known only when the program runs."""
        if len(args) != 1 or operator not in ops.REGISTRY \
                or ops.get(operator).inputs != ops.VARIADIC:
            raise self.unsupported("*args of a run-time value", "only an operator taking any "
                                   "number of inputs (concat, stack, add_n) takes them", node)
        try:
            return self.lowerer.variadic(operator, args[0].value, kwargs)
        except (TypeError, ValueError) as error:
            raise self.compile_error(f"F.{operator}: {error}", node) from None

    def call_arguments(self, node, run_time_items=False):
        """The positional and keyword argument values of a call; with `run_time_items`, a
        `*items` of a run-time list is one RunTimeItems among them."""
        args = []
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                value = self.expr(argument.value)
                items = self.static_items(value)
                if items is None and run_time_items and isinstance(value, Dynamic) \
                        and value.kind == ANY:
                    args.append(RunTimeItems(value))
                    continue
                if items is None:
                    raise self.unsupported("*args of a run-time value", node=argument)
                args.extend(items)
            else:
                args.append(self.expr(argument))
        kwargs = {}
        for keyword in node.keywords:
            value = self.expr(keyword.value)
            if keyword.arg is None and isinstance(value, Table):
                kwargs.update(value.items)
            elif keyword.arg is None:
                if not isinstance(value, Static) or not isinstance(value.value, dict):
                    raise self.unsupported("**kwargs of a run-time value", node=node)
                kwargs.update({k: Static(v) for k, v in value.value.items()})
            else:
                kwargs[keyword.arg] = value
        return args, kwargs

    def table_method(self, table, name, args, kwargs, node):
        """The methods that read a dict whose keys are known now (`params.items()`)."""
        items = table.items
        if name == "keys" and not args and not kwargs:
            return Seq([Static(k) for k in items], list)
        if name == "values" and not args and not kwargs:
            return Seq(list(items.values()), list)
        if name == "items" and not args and not kwargs:
            return Seq([Seq([Static(k), v], tuple) for k, v in items.items()], list)
        if name == "get" and 1 <= len(args) <= 2 and not kwargs and is_static(args[0]):
            default = args[1] if len(args) == 2 else Static(None)
            return items.get(static_value(args[0]), default)
        if name == "copy" and not args and not kwargs:
            return self.made_here(Table(dict(items)))
        raise self.unsupported(f".{name}() of a dict holding run-time values", node=node)

    def call(self, callee, args, kwargs, node):
        if isinstance(callee, FRef):
            try:
                return self.lowerer.call_namespace(callee.path, args, kwargs)
            except LookupError:
                raise self.unsupported(f"F.{callee.path}", "not an operator of the table",
                                       node) from None
            except (TypeError, ValueError) as error:
                raise self.compile_error(f"F.{callee.path}: {error}", node) from None
        if isinstance(callee, Local):
            return self.inline_local(callee, args, kwargs, node)
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
        if isinstance(function, BlockView) and function._is_hybrid():
            return self.call_block(function, args, kwargs, node)
        if getattr(type(function), "takes_f", False):
            # an @hybrid function called from compiled code: inlined, given F
            return self.inline_call(function.python_function, None, [FRef()] + list(args),
                                    kwargs, function.__name__, bind_self=False)
        if isinstance(function, BlockView):
            raise self.unsupported(f"calling the non-hybrid block {type(function).__name__}",
                                   node=node)
        owner = getattr(function, "__self__", None)
        if isinstance(owner, BlockView) and inspect_function(function) is not None:
            return self.inline_call(inspect_function(function), owner, args, kwargs,
                                    function.__name__)
        if isinstance(owner, ParameterView) and function.__name__ == "data":
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
        if function is len and len(args) == 1 and not kwargs and isinstance(args[0], (Seq, Table)):
            return Static(len(args[0].items))
        if _calls_array_method(function) and any(
                _holds_array(a) for a in list(args) + list(kwargs.values())):
            raise self.unsupported(f"numpy's {function.__name__}() on an array",
                                   "given an NDArray, numpy calls the NDArray's own method: "
                                   f"write x.{function.__name__}(...) or "
                                   f"np.{function.__name__}(x.asnumpy())", node)
        if _builtin_name(function) in ARRAY_BUILTINS and any(
                _holds_array(a) for a in list(args) + list(kwargs.values())):
            return self.builtin_on_arrays(function, args, kwargs, node)
        if function is isinstance and len(args) == 2 and is_static(args[1]) \
                and isinstance(args[0], (Seq, Table, Dynamic)) and _known_type(args[0]) is not None:
            return Static(issubclass(_known_type(args[0]), static_value(args[1])))
        if all(is_static(a) for a in args) and all(is_static(v) for v in kwargs.values()) \
                and _evaluable_now(function):
            try:
                return Static(function(*[static_value(a) for a in args],
                                       **{k: static_value(v) for k, v in kwargs.items()}))
            except Exception as error:
                return self.raised_at_run_time(error)
        if function is sorted and len(args) == 1 and not kwargs and isinstance(args[0], Seq) \
                and _leading_keys(args[0].items) is not None:
            # `sorted(params.items())`: pairs told apart by their keys, known now
            keys = _leading_keys(args[0].items)
            order = sorted(range(len(keys)), key=keys.__getitem__)
            return Seq([args[0].items[i] for i in order], list)
        if function is dict and len(args) == 1 and not kwargs and isinstance(args[0], Table):
            return self.made_here(Table(dict(args[0].items)))
        if function in (list, tuple, sorted) and len(args) == 1 and not kwargs \
                and isinstance(args[0], Table):
            keys = [Static(k) for k in args[0].items]
            return Seq(keys, tuple) if function is tuple else Seq(
                [Static(k) for k in sorted(args[0].items)] if function is sorted else keys, list)
        if function in (tuple, list) and len(args) == 1 and isinstance(args[0], Seq):
            return Seq(list(args[0].items), function)
        if function in (zip, enumerate, reversed) and any(isinstance(a, Seq) for a in args):
            return self.sequence_builtin(function, args, node)
        # what turns its arguments into text must see NDArrays, as imperatively
        argument = self.shown if _writes_text(function) else self.expr_of
        call = ast.Call(self.expr_of(callee), [argument(a) for a in args],
                        [ast.keyword(k, argument(v)) for k, v in kwargs.items()])
        # numpy's functions give plain numpy values, whose methods are numpy's
        module = getattr(function, "__module__", None) or ""
        return Dynamic(call, NUMPY if module == "numpy" or module.startswith("numpy.") else ANY)

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
        if block._overrides_forward() or block._build_program is not None:
            raise self.unsupported(f"the block {type(block).__name__}, which defines its own "
                                   "forward", node=node)
        self.context.watch(block, CHILDREN)
        params = {key: Dynamic(self.context.parameter_ref(param), ARRAY)
                  for key, param in block._argument_parameters().items()}
        overlap = set(params) & set(kwargs)
        if overlap:
            raise self.compile_error(f"{', '.join(overlap)} given both as argument and parameter",
                                     node)
        return self.inline_call(block._forward_function(), block, [FRef()] + list(args),
                                {**kwargs, **params}, type(block).__name__.lower())

    def call_print(self, args, kwargs):
        exprs = [self.shown(a) for a in args]
        keywords = [ast.keyword(k, self.expr_of(v)) for k, v in kwargs.items()]
        self.emit(ast.Expr(ast.Call(ast.Name("print", ast.Load()), exprs, keywords)))
        return Static(None)


_CONSUME_ALL = (sum, list, tuple, sorted, min, max, set, frozenset, dict, zip, enumerate)


def _leading_keys(items):
    """The distinct first items, known now, of tuples that sorting compares by them alone."""
    if not all(isinstance(i, Seq) and i.container is tuple and i.items
               and isinstance(i.items[0], Static) for i in items):
        return None
    keys = [i.items[0].value for i in items]
    if not all(is_literal(k) for k in keys) or len(set(keys)) != len(keys):
        return None
    try:
        sorted(keys)
    except TypeError:
        return None
    return keys


def _as_list_comprehension(node):
    if isinstance(node, ast.GeneratorExp):
        return ast.copy_location(ast.ListComp(node.elt, node.generators), node)
    return node


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
    """The name of `function` in the nd namespace (`relu`, `random.normal`,
    `contrib.div_sqrt_dim`, `image.resize`), or None."""
    if not _ND_PATHS:
        for prefix, namespace in (("", ndarray), ("random.", ndarray.random),
                                  ("contrib.", ndarray.contrib), ("image.", ndarray.image)):
            for name, value in vars(namespace).items():
                if callable(value) and not isinstance(value, type) and not name.startswith("_"):
                    _ND_PATHS.setdefault(id(value), (prefix + name, value))
    entry = _ND_PATHS.get(id(function))
    return entry[0] if entry is not None and entry[1] is function else None


def _numpy_delegating_functions():
    try:
        from numpy._core import fromnumeric
    except ImportError:      # numpy < 2
        from numpy.core import fromnumeric
    return {id(getattr(fromnumeric, name)) for name in fromnumeric.__all__}


_DELEGATING = _numpy_delegating_functions()


def _calls_array_method(function):
    """numpy's functions that call a non-numpy argument's own method (`np.sum(x)` is
    `x.sum()` on an NDArray), so that imperatively their result is NDArray's."""
    return id(function) in _DELEGATING


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
    filename = function.__code__.co_filename
    if filename.startswith("<frozen "):     # the standard library's frozen modules
        return False
    return not os.path.abspath(filename).startswith(_LIBRARY_DIRS)


def _known_type(value):
    """The type a value has at run time as the user's code sees it, where that is certain."""
    if isinstance(value, Seq):
        return value.container
    if isinstance(value, Table):
        return dict
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
