"""Specializing expressions: each evaluates to a value now (Static) or to code for run time."""
import ast
import builtins
import functools
import types

import numpy as np

from .. import runtime
from .. import toolkit
from ..backend import constant
from ..block_view import BlockView
from .values import ANY, ARRAY, NUMPY, Dynamic, FRef, Seq, Static, Table, is_static, static_value
from .lower import describe
from .callee import is_user_function
from .specialize_core import SpecializerCore
from ...ndarray import NDArray



class ExpressionSpecializer(SpecializerCore):
    """The expression part of the Specializer: each expression to a value."""

    def expr(self, node):
        handler = getattr(self, "expr_" + type(node).__name__, None)
        if handler is None:
            raise self.unsupported(f"a {type(node).__name__} expression", node=node)
        return handler(node)

    def shown(self, value):
        """The expression of `value` as the user's code sees it: arrays that stand for
        NDArrays wrapped as NDArrays (`show`), plain numpy values (`x.asnumpy()`) as they are."""
        if is_static(value) or isinstance(value, FRef) or isinstance(value, Dynamic) and (
                value.kind == NUMPY or isinstance(value.expr, (ast.JoinedStr, ast.Constant))):
            return self.expr_of(value)
        if isinstance(value, (Seq, Table)):
            return self.container_code(value, self.shown)
        return ast.Call(self.context.constant_ref(runtime.show, "show"), [self.expr_of(value)], [])

    def raised_at_run_time(self, error):
        """What evaluating an expression now raised is raised when the program reaches it, as
        imperative mode raises it there (on a branch not taken, never)."""
        raiser = self.context.constant_ref(runtime.raise_error, "raise_error")
        error_type = self.context.constant_ref(type(error), type(error).__name__)
        return Dynamic(ast.Call(raiser, [error_type, self.expr_of(Static(error.args))], []), ANY)

    def expr_Constant(self, node):
        return Static(node.value)

    def expr_Name(self, node):
        frame = self.frame
        if node.id in frame.env:
            return frame.env[node.id]
        if node.id in frame.own_names:
            return self.raised_at_run_time(UnboundLocalError(
                f"cannot access local variable {node.id!r} where it is not associated with a "
                "value"))
        while frame.enclosing is not None:
            frame = frame.enclosing
            if node.id in frame.env:
                return frame.env[node.id]
            if node.id in frame.own_names:
                return self.raised_at_run_time(NameError(
                    f"cannot access free variable {node.id!r} where it is not associated "
                    "with a value in enclosing scope"))
        parsed = frame.parsed
        if node.id in parsed.closure:
            value = parsed.closure[node.id]
            cells = dict(zip(parsed.function.__code__.co_freevars, parsed.function.__closure__))
            self.context.guards.cell(cells[node.id], value)
            return Static(value)
        if node.id in parsed.globals:
            value = parsed.globals[node.id]
            self.context.guards.global_name(parsed.globals, node.id, value)
            return Static(value)
        if hasattr(builtins, node.id):
            return Static(getattr(builtins, node.id))
        return self.raised_at_run_time(NameError(f"name {node.id!r} is not defined"))

    def expr_Attribute(self, node):
        base = self.expr(node.value)
        if isinstance(base, FRef):
            return FRef(f"{base.path}.{node.attr}" if base.path else node.attr)
        if isinstance(base, Static):
            self.context.watch(base.value, node.attr)
            getter = _property_getter(base.value, node.attr)
            if getter is not None:
                # the getter's body is specialized like a helper method, so the attributes
                # it reads are watched (`return self._base` follows `net._base = 5.0`)
                return self.inline_call(getter, base.value, [], {}, node.attr)
            try:
                value = getattr(base.value, node.attr)
            except AttributeError as error:
                return self.raised_at_run_time(error)
            if not is_block(base.value):      # blocks tell their watchers of changes
                self.context.guards.attribute(base.value, node.attr, value)
            return Static(value)
        if isinstance(base, Dynamic) and base.kind == NUMPY:
            # a plain numpy value's attributes are numpy's (`plain.T` is a numpy array)
            kind = ANY if node.attr in ("shape", "ndim", "size", "dtype") else NUMPY
            return Dynamic(ast.Attribute(base.expr, node.attr, ast.Load()), kind)
        if isinstance(base, Dynamic):
            try:
                return self.lowerer.attribute(base, node.attr)
            except LookupError:
                return Dynamic(ast.Attribute(base.expr, node.attr, ast.Load()), ANY)
        raise self.unsupported(f"attribute {node.attr!r} of {describe(base)}", node=node)

    def expr_Subscript(self, node):
        base = self.expr(node.value)
        index = self.expr(node.slice)
        if isinstance(base, Static) and is_static(index):
            self.context.watch(base.value, "[]")
            try:
                return Static(base.value[static_value(index)])
            except (KeyError, IndexError, TypeError) as error:
                return self.raised_at_run_time(error)
        if isinstance(base, Seq) and is_static(index):
            key = static_value(index)
            try:
                picked = base.items[key]
            except (IndexError, TypeError) as error:
                return self.raised_at_run_time(error)
            return Seq(picked, base.container) if isinstance(key, slice) else picked
        if isinstance(base, Table) and is_static(index):
            try:
                return base.items[static_value(index)]
            except (KeyError, TypeError) as error:
                return self.raised_at_run_time(error)
        if isinstance(base, Dynamic):
            if isinstance(index, Dynamic) and index.is_array:
                return self.lowerer.call_operator("take", (base, index), {"axis": Static(0),
                                                                           "mode": Static("wrap")})
            if base.is_array:
                return self.lowerer.subscript(
                    base, Static(static_value(index)) if is_static(index) else index)
            return Dynamic(ast.Subscript(base.expr, self.index_expr(index), ast.Load()), base.kind)
        raise self.unsupported(f"indexing {describe(base)} with a run-time value", node=node)

    def index_expr(self, index):
        if isinstance(index, Seq):
            return ast.Tuple([self.index_expr(i) for i in index.items], ast.Load())
        if isinstance(index, Static) and isinstance(index.value, tuple):
            return ast.Tuple([self.index_expr(Static(v)) for v in index.value], ast.Load())
        if isinstance(index, Static) and isinstance(index.value, slice):
            value = index.value
            return ast.Slice(*(constant(v) if v is not None else None
                               for v in (value.start, value.stop, value.step)))
        if isinstance(index, Static) and index.value is Ellipsis:
            return ast.Constant(Ellipsis)
        return self.expr_of(index)

    def expr_Slice(self, node):
        parts = [self.expr(p) if p is not None else Static(None)
                 for p in (node.lower, node.upper, node.step)]
        if all(is_static(p) for p in parts):
            return Static(slice(*(static_value(p) for p in parts)))
        return Dynamic(ast.Slice(*(None if is_static(p) and static_value(p) is None
                                   else self.expr_of(p) for p in parts)), ANY)

    def expr_Tuple(self, node):
        return self.sequence(node, tuple)

    def expr_List(self, node):
        return self.sequence(node, list)

    def sequence(self, node, container):
        items = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                items.extend(self.static_items(self.expr(element.value)) or
                             self._raise(self.unsupported("* of a run-time value", node=element)))
            else:
                items.append(self.expr(element))
        if container is tuple and all(isinstance(i, Static) for i in items):
            return Static(tuple(i.value for i in items))
        if container is list:
            return self.new_list(items)     # a list stays a Seq: each call builds its own
        return Seq(items, container)

    def _raise(self, error):
        raise error

    def expr_Dict(self, node):
        keys = [self.expr(k) if k is not None else None for k in node.keys]
        values = [self.expr(v) for v in node.values]
        # a dict written out is the program's own, filled in place (`d = {}; d['a'] = x`)
        if all(k is None and isinstance(v, (Table, Static)) or k is not None and is_static(k)
               for k, v in zip(keys, values)):
            items = {}
            for key, value in zip(keys, values):
                if key is None:      # `**other`
                    items.update(value.items if isinstance(value, Table) else
                                 {k: Static(v) for k, v in value.value.items()})
                else:
                    items[static_value(key)] = self.as_name(value, "item")
            return self.made_here(Table(items))
        return Dynamic(ast.Dict([self.expr_of(k) if k is not None else None for k in keys],
                                [self.expr_of(v) for v in values]), ANY)

    def expr_BinOp(self, node):
        return self.binary(node.op, self.expr(node.left), self.expr(node.right), node)

    def binary(self, op, left, right, node):
        if is_static(left) and is_static(right):
            try:
                return Static(toolkit.BINARY[type(op)](static_value(left), static_value(right)))
            except Exception as error:
                return self.raised_at_run_time(error)
        if isinstance(op, ast.Mod) and isinstance(left, Static) and isinstance(left.value, str):
            # `"%s" % (x,)` formats what imperative code formats: NDArrays
            return Dynamic(ast.BinOp(self.expr_of(left), op, self.shown(right)), ANY)
        if isinstance(left, Seq) or isinstance(right, Seq):
            if isinstance(op, ast.Add) and isinstance(left, Seq) and isinstance(right, Seq):
                return Seq(left.items + right.items, left.container)
        arrays = [isinstance(v, Dynamic) and v.is_array for v in (left, right)]
        if any(arrays) and not all(a or _array_operand(v) for a, v in zip(arrays, (left, right))):
            # NDArray takes only arrays and numbers (`x * (1, 2)` is Python's TypeError):
            # the operation runs on the NDArray itself, to raise or compute as it does
            left_expr, right_expr = (self.shown(v) if a else self.expr_of(v)
                                     for a, v in zip(arrays, (left, right)))
            return Dynamic(ast.BinOp(left_expr, op, right_expr), ANY)
        plain = any(isinstance(v, Dynamic) and v.kind == NUMPY for v in (left, right))
        kind = ARRAY if any(arrays) else NUMPY if plain else ANY
        return Dynamic(ast.BinOp(self.expr_of(left), op, self.expr_of(right)), kind)

    def expr_UnaryOp(self, node):
        operand = self.expr(node.operand)
        if is_static(operand):
            return Static(toolkit.UNARY[type(node.op)](static_value(operand)))
        kind = operand.kind if isinstance(operand, Dynamic) and not isinstance(node.op, ast.Not) \
            else ANY
        return Dynamic(ast.UnaryOp(node.op, self.expr_of(operand)), kind)

    def expr_Compare(self, node):
        if len(node.ops) > 1:
            return self.chained_comparison(self.expr(node.left), node.ops, node.comparators,
                                           node)
        values = [self.expr(node.left)] + [self.expr(c) for c in node.comparators]
        if isinstance(values[1], Table) and isinstance(node.ops[0], (ast.In, ast.NotIn)) \
                and is_static(values[0]):
            found = static_value(values[0]) in values[1].items
            return Static(found == isinstance(node.ops[0], ast.In))
        if all(is_static(v) for v in values):
            result = True
            for op, left, right in zip(node.ops, values, values[1:]):
                compare = toolkit.COMPARE[type(op)]
                result = result and compare(static_value(left), static_value(right))
            return Static(result)
        arrays = any(isinstance(v, Dynamic) and v.is_array for v in values)
        if arrays and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)) \
                and any(is_static(v) for v in values):
            # an array made at run time is never a value that exists while compiling
            return Static(isinstance(node.ops[0], ast.IsNot))
        if arrays:
            if len(node.ops) != 1 or type(node.ops[0]) not in (ast.Eq, ast.NotEq, ast.Gt,
                                                                ast.GtE, ast.Lt, ast.LtE):
                raise self.unsupported("a chained or identity comparison of arrays", node=node)
            return self.lowerer.compare(type(node.ops[0]), values[0], values[1])
        # comparing a plain numpy array gives one (`(plain > 0).sum()` is numpy's)
        plain = any(isinstance(v, Dynamic) and v.kind == NUMPY for v in values)
        return Dynamic(ast.Compare(self.expr_of(values[0]), list(node.ops),
                                   [self.expr_of(v) for v in values[1:]]), NUMPY if plain else ANY)

    def chained_comparison(self, left, ops, comparators, node):
        """`a < b < c` as Python evaluates it: `a < b and b < c` with b evaluated once, and c
        only when `a < b` holds (on arrays, by NDArray's truth value)."""
        right = self.expr(comparators[0])
        if len(ops) > 1:
            right = self.as_name(right, "operand")
        pair = ast.Compare(_Value(left), [ops[0]], [_Value(right)])
        ast.copy_location(pair, node)
        if len(ops) == 1:
            return self.expr(pair)
        rest = functools.partial(self.chained_comparison, right, ops[1:], comparators[1:], node)
        return self.bool_operands(ast.And(), [pair, rest])

    def expr__Value(self, node):
        return node.value

    def expr_BoolOp(self, node):
        return self.bool_operands(node.op, node.values)

    def bool_operands(self, op, operands):
        """`a and b ...` / `a or b ...` as Python evaluates it: left to right, stopping at
        the first operand that decides, which is the value; the operands after a run-time one
        are evaluated only when it does not decide (as run-time code where they compute)."""
        value = operands[0]() if callable(operands[0]) else self.expr(operands[0])
        if len(operands) == 1:
            return value
        if is_static(value):
            decides = bool(static_value(value)) == isinstance(op, ast.Or)
            return value if decides else self.bool_operands(op, operands[1:])
        first = self.as_name(value, "operand")
        code = []
        self.bodies.append(code)
        self.frame.dynamic_depth += 1
        try:
            rest = self.bool_operands(op, operands[1:])
        finally:
            self.frame.dynamic_depth -= 1
            self.bodies.pop()
        arrays = [isinstance(v, Dynamic) and v.is_array for v in (first, rest)]
        if not code and not any(arrays):
            return Dynamic(ast.BoolOp(op, [self.expr_of(first), self.expr_of(rest)]), ANY)
        # a choice by bool(first), as control flow the reverse pass replays
        chosen = self.context.namer.fresh("operand")
        self.frame.owned.add(chosen)
        self.bodies.append(code)
        self.emit(ast.Assign([ast.Name(chosen, ast.Store())], self.expr_of(rest)))
        self.bodies.pop()
        keep = [ast.Assign([ast.Name(chosen, ast.Store())], self.expr_of(first))]
        test = self.expr_of(first)
        self.emit(ast.If(test, code, keep) if isinstance(op, ast.And)
                  else ast.If(test, keep, code))
        return Dynamic(ast.Name(chosen, ast.Load()), ARRAY if all(arrays) else ANY)

    def choice(self, test_expr, body, orelse, hint):
        """The value of `body() if test else orelse()` as statements: the operand chosen is
        the one evaluated, and the choice is control flow the reverse pass replays."""
        chosen = self.context.namer.fresh(hint)
        self.frame.owned.add(chosen)
        codes, kinds = [], set()
        for make in (body, orelse):
            code = []
            self.bodies.append(code)
            self.frame.dynamic_depth += 1
            try:
                value = make()
                self.emit(ast.Assign([ast.Name(chosen, ast.Store())], self.expr_of(value)))
            finally:
                self.frame.dynamic_depth -= 1
                self.bodies.pop()
            codes.append(code)
            kinds.add(value.kind if isinstance(value, Dynamic) else ANY)
        self.emit(ast.If(test_expr, codes[0], codes[1]))
        return Dynamic(ast.Name(chosen, ast.Load()), ARRAY if kinds == {ARRAY} else ANY)

    def expr_IfExp(self, node):
        test = self.expr(node.test)
        if is_static(test):
            return self.expr(node.body if static_value(test) else node.orelse)
        return self.choice(self.condition(test), lambda: self.expr(node.body),
                           lambda: self.expr(node.orelse), "chosen")

    def expr_JoinedStr(self, node):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                inner = self.expr(value.value)
                spec = self.expr(value.format_spec) if value.format_spec is not None else None
                parts.append((inner, value.conversion, spec))
            else:
                parts.append((Static(value.value), None, None))
        if all(is_static(p[0]) and (p[2] is None or is_static(p[2])) for p in parts):
            text = []
            for inner, conversion, spec in parts:
                item = static_value(inner)
                item = {115: str, 114: repr, 97: ascii}.get(conversion, lambda v: v)(item)
                text.append(format(item, static_value(spec) if spec is not None else ""))
            return Static("".join(text))
        values = []
        for inner, conversion, spec in parts:
            if conversion is None and spec is None and is_static(inner) \
                    and isinstance(static_value(inner), str):
                values.append(ast.Constant(static_value(inner)))
                continue
            spec_node = ast.JoinedStr([self.expr_of(spec)]) if spec is not None else None
            values.append(ast.FormattedValue(self.shown(inner),
                                             conversion if conversion is not None else -1,
                                             spec_node))
        return Dynamic(ast.JoinedStr(values), ANY)

    def expr_ListComp(self, node):
        """`[e for t in items if c]` as the loop Python runs, appending under the filter: a
        filter or items known only at run time make the list a run-time one."""
        frame = self.frame
        result = f"comprehension.{self.context.namer.fresh('items')}"
        located = lambda statement: ast.copy_location(statement, node)   # its line, node's
        body = [located(ast.Expr(ast.Call(ast.Attribute(ast.Name(result, ast.Load()), "append",
                                                        ast.Load()), [node.elt], [])))]
        for generator in reversed(node.generators):
            if generator.is_async:
                raise self.unsupported("an async comprehension", node=node)
            for condition in reversed(generator.ifs):
                body = [located(ast.If(condition, body, []))]
            body = [located(ast.For(generator.target, generator.iter, body, []))]
        saved = dict(frame.env)
        try:
            self.assign_name(result, self.new_list([]))
            self.block(body)
            value = frame.env[result]
        finally:
            # the loop variables are the comprehension's own: the names outside keep their
            # values (other names keep what the loop made of them: a materialized list)
            for name in _comprehension_targets(node) | {result}:
                if name in saved:
                    frame.env[name] = saved[name]
                else:
                    frame.env.pop(name, None)
        return value

    def expr_SetComp(self, node):
        items = self.comprehension(node, [node.elt])
        if not all(is_static(item) for item in items):
            raise self.unsupported("a set comprehension of run-time values", node=node)
        return Static({static_value(item) for item in items})

    def expr_DictComp(self, node):
        flat = self.comprehension(node, [node.key, node.value])
        table = {}
        for key, value in zip(flat[::2], flat[1::2]):
            if not is_static(key):
                raise self.unsupported("a dict comprehension with run-time keys", node=node)
            table[static_value(key)] = self.as_name(value, "item")
        if all(is_static(v) for v in table.values()):
            return Static({k: static_value(v) for k, v in table.items()})
        return self.made_here(Table(table))

    def expr_GeneratorExp(self, node):
        raise self.unsupported("a generator expression here",
                               "one given to sum, list, tuple, sorted, min, max, set, dict, "
                               "zip or enumerate is evaluated eagerly, as they consume it all",
                               node)

    def comprehension(self, node, parts):
        """The values of `parts` for each binding of the comprehension's for clauses (in
        order, nested left to right) whose filters hold; the loop variables stay local."""
        frame = self.frame
        saved = dict(frame.env)
        results = []

        def generate(generators):
            if not generators:
                results.extend(self.expr(part) for part in parts)
                return
            generator = generators[0]
            if generator.is_async:
                raise self.unsupported("an async comprehension", node=node)
            items = self.static_items(self.expr(generator.iter))
            if items is None:
                raise self.unsupported("a comprehension over run-time values", node=node)
            for item in items:
                self.assign(generator.target, item)
                conditions = [self.expr(c) for c in generator.ifs]
                if not all(is_static(c) for c in conditions):
                    raise self.unsupported("a comprehension filtered on run-time values",
                                           node=node)
                if all(static_value(c) for c in conditions):
                    generate(generators[1:])

        try:
            generate(node.generators)
        finally:
            frame.env = saved
        return results

    def expr_Starred(self, node):
        raise self.unsupported("a starred expression here", node=node)


def _comprehension_targets(node):
    return {n.id for generator in node.generators for n in ast.walk(generator.target)
            if isinstance(n, ast.Name)}


def is_block(obj):
    return isinstance(obj, BlockView)


class _Value(ast.expr):
    """An operand already evaluated (the middle of a chained comparison, evaluated once)."""
    _fields = ()

    def __init__(self, value):
        super().__init__()
        self.value = value


def _property_getter(obj, attribute):
    """The Python getter of a property `attribute` of a block, else None."""
    if not is_block(obj):
        return None
    descriptor = getattr(type(obj), attribute, None)
    if isinstance(descriptor, property) and isinstance(descriptor.fget, types.FunctionType) \
            and is_user_function(descriptor.fget):
        return descriptor.fget
    return None


def _array_operand(value):
    """Whether NDArray's operators take `value` as their other operand: a number, an array, or
    a run-time value (its type is checked when it runs)."""
    if isinstance(value, Static):
        data = value.value
        return isinstance(data, (bool, int, float, np.number, np.ndarray, NDArray))
    return isinstance(value, Dynamic)
