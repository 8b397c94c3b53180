"""Specializing calls: operators are lowered, blocks, helpers and the user's functions inlined,
pure builtins evaluated now, `print` emitted with real values, anything else called at run time;
which of these a call is, callee.decide says, and one method per kind here makes it."""
import ast

from .. import runtime
from ... import ops
from ...ops.python_operators import ARRAY_BUILTINS
from ..block_view import CHILDREN
from .callee import (CalleeKind, decide, known_type, leading_keys, nd_path,
                     writes_text)
from .specialize_core import SpecializerCore
from .values import ANY, ARRAY, NUMPY, Dynamic, FRef, Seq, Static, Table, is_static, static_value


class RunTimeItems:
    """`*items` in a call, of a list whose length only run time knows."""
    def __init__(self, value):
        self.value = value


class CallSpecializer(SpecializerCore):
    """The call part of the Specializer: a call's arguments, then what callee.decide says."""

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
            nd_path(callee.value) if isinstance(callee, Static) else None)
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
        target = decide(callee, args, kwargs)
        return getattr(self, _HANDLERS[target.kind])(target, callee, args, kwargs, node)

    def call_operator(self, target, callee, args, kwargs, node):
        try:
            return self.lowerer.call_namespace(target.path, args, kwargs)
        except LookupError:
            raise self.unsupported(f"F.{target.path}", "not an operator of the table",
                                   node) from None
        except (TypeError, ValueError) as error:
            raise self.compile_error(f"F.{target.path}: {error}", node) from None

    def call_nd_array(self, target, callee, args, kwargs, node):
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

    def call_local_function(self, target, callee, args, kwargs, node):
        return self.inline_local(target.function, args, kwargs, node)

    def call_run_time_callee(self, target, callee, args, kwargs, node):
        call = ast.Call(self.expr_of(callee), [self.expr_of(a) for a in args],
                        [ast.keyword(k, self.expr_of(v)) for k, v in kwargs.items()])
        return Dynamic(call, ANY)

    def call_hybrid_block(self, target, callee, args, kwargs, node):
        block = target.function
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

    def call_hybrid_function(self, target, callee, args, kwargs, node):
        function = target.function
        return self.inline_call(function.python_function, None, [FRef()] + list(args), kwargs,
                                function.__name__, bind_self=False)

    def call_other_block(self, target, callee, args, kwargs, node):
        raise self.unsupported(f"calling the non-hybrid block {type(target.function).__name__}",
                               node=node)

    def call_block_method(self, target, callee, args, kwargs, node):
        return self.inline_call(target.function, target.owner, args, kwargs,
                                target.function.__name__)

    def call_parameter_data(self, target, callee, args, kwargs, node):
        return Dynamic(self.context.parameter_ref(target.owner), ARRAY)

    def call_zero_argument_super(self, target, callee, args, kwargs, node):
        """`super()` in a method: `super(C, self)`, with C the class the method is defined in
        (its `__class__` cell) and self the method's first argument, as Python binds it."""
        parsed = self.frame.parsed
        arguments = parsed.node.args.args
        owner = self.frame.env.get(arguments[0].arg) if arguments else None
        if "__class__" not in parsed.closure or not is_static(owner):
            raise self.unsupported("super() without arguments outside a method",
                                   "write super(Class, self)", node)
        return Static(super(parsed.closure["__class__"], static_value(owner)))

    def call_print(self, target, callee, args, kwargs, node):
        exprs = [self.shown(a) for a in args]
        keywords = [ast.keyword(k, self.expr_of(v)) for k, v in kwargs.items()]
        self.emit(ast.Expr(ast.Call(ast.Name("print", ast.Load()), exprs, keywords)))
        return Static(None)

    def call_outside_mutation(self, target, callee, args, kwargs, node):
        raise self.unsupported(f"changing a {type(target.owner).__name__} that exists before "
                               "the call (a global, closure or block attribute)", node=node)

    def call_f_attribute(self, target, callee, args, kwargs, node):
        return FRef(target.path)

    def call_user_function(self, target, callee, args, kwargs, node):
        return self.inline_call(target.function, None, args, kwargs, target.function.__name__,
                                bind_self=False)

    def call_known_length(self, target, callee, args, kwargs, node):
        return Static(len(args[0].items))

    def call_numpy_on_array(self, target, callee, args, kwargs, node):
        name = target.function.__name__
        raise self.unsupported(f"numpy's {name}() on an array",
                               "given an NDArray, numpy calls the NDArray's own method: "
                               f"write x.{name}(...) or np.{name}(x.asnumpy())", node)

    def call_builtin_on_arrays(self, target, callee, args, kwargs, node):
        """A builtin given arrays does what Python's dispatch to NDArray's special methods
        does, so that values and gradients are imperative mode's (see ARRAY_BUILTINS)."""
        function = target.function
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

    def call_known_isinstance(self, target, callee, args, kwargs, node):
        return Static(issubclass(known_type(args[0]), static_value(args[1])))

    def call_evaluated_now(self, target, callee, args, kwargs, node):
        try:
            return Static(target.function(*[static_value(a) for a in args],
                                          **{k: static_value(v) for k, v in kwargs.items()}))
        except Exception as error:
            return self.raised_at_run_time(error)

    def call_sorted_pairs(self, target, callee, args, kwargs, node):
        """`sorted(params.items())`: pairs told apart by their keys, known now."""
        keys = leading_keys(args[0].items)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        return Seq([args[0].items[i] for i in order], list)

    def call_dict_copy(self, target, callee, args, kwargs, node):
        return self.made_here(Table(dict(args[0].items)))

    def call_keys_of_dict(self, target, callee, args, kwargs, node):
        keys = [Static(k) for k in args[0].items]
        if target.function is tuple:
            return Seq(keys, tuple)
        if target.function is sorted:
            return Seq([Static(k) for k in sorted(args[0].items)], list)
        return Seq(keys, list)

    def call_sequence_copy(self, target, callee, args, kwargs, node):
        return Seq(list(args[0].items), target.function)

    def call_sequence_builtin(self, target, callee, args, kwargs, node):
        function = target.function
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

    def call_run_time_call(self, target, callee, args, kwargs, node):
        # what turns its arguments into text must see NDArrays, as imperatively
        argument = self.shown if writes_text(target.function) else self.expr_of
        call = ast.Call(self.expr_of(callee), [argument(a) for a in args],
                        [ast.keyword(k, argument(v)) for k, v in kwargs.items()])
        # numpy's functions give plain numpy values, whose methods are numpy's
        module = getattr(target.function, "__module__", None) or ""
        return Dynamic(call, NUMPY if module == "numpy" or module.startswith("numpy.") else ANY)

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



_CONSUME_ALL = (sum, list, tuple, sorted, min, max, set, frozenset, dict, zip, enumerate)


def _as_list_comprehension(node):
    if isinstance(node, ast.GeneratorExp):
        return ast.copy_location(ast.ListComp(node.elt, node.generators), node)
    return node


def _holds_plain_numpy(values):
    return any(isinstance(v, Dynamic) and v.kind == NUMPY
               or isinstance(v, Seq) and _holds_plain_numpy(v.items) for v in values)


_COMPARISON_NODES = {"greater": ast.Gt, "lesser": ast.Lt}

# the method of CallSpecializer that makes the call of each kind
_HANDLERS = {kind: f"call_{kind.name.lower()}" for kind in CalleeKind}
