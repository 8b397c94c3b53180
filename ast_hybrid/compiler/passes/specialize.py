"""Pass 3: partial evaluation of hybrid_forward into a program.

Walks the function's AST with an environment that knows, for each name, either its value now
(`Static`: self, constants, child blocks, loop variables over static iterables) or the code
that computes it at run time (`Dynamic`). Static work is done here and disappears: attribute
look-ups, `if self.use_bias:`, loops over children, child lookups. Calls of child blocks and
helper methods are inlined (see inline.py); operator applications are lowered to kernel calls
(see lower.py). What depends on array values is emitted as real Python: `if`/`while`/`for` on
arrays stay control flow of the program, evaluated on every call, and `print` prints real
values on every call.
"""
import ast
import builtins
import math
import operator
import os
import sysconfig
import types

import numpy as np

from .. import runtime
from ..backend import constant, origin_marker
from . import fence, inline, source
from .errors import CompileError, UnsupportedConstruct
from .lower import Lowerer, describe
from .values import ANY, ARRAY, Dynamic, FRef, Seq, Static, is_literal, is_static, static_value

MAX_UNROLL = 1000
_LIBRARY_DIRS = tuple(os.path.abspath(sysconfig.get_paths()[key]) + os.sep
                      for key in ("stdlib", "platstdlib", "purelib", "platlib")) + (
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep,)

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.BitAnd: operator.and_,
           ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift,
           ast.RShift: operator.rshift}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_,
          ast.Invert: operator.invert}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Is: operator.is_, ast.IsNot: operator.is_not,
            ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
_STATIC_BUILTINS = {len, range, zip, enumerate, isinstance, issubclass, int, float, bool, str,
                    tuple, list, dict, min, max, abs, sum, sorted, reversed, getattr, hasattr,
                    round, divmod, pow, type, repr, set, frozenset, all, any, callable}
_STATIC_TYPES = (dict, list, tuple, str, int, float, range, set, frozenset, bytes)


class _Frame:
    """One function being specialized: the root hybrid_forward or an inlined callee."""

    def __init__(self, parsed, env, inlined):
        self.parsed = parsed
        self.env = env
        self.inlined = inlined
        self.owned = set()
        self.dynamic_depth = 0
        self.result = None
        self.result_name = None
        self.loop_carried = []   # stack of {variable: identifier} for enclosing dynamic loops


class ProgramContext:
    """What the whole program shares: names, the constant pool, parameters, the training flag."""

    def __init__(self, namer, watch):
        self.namer = namer
        self.namespace = {}
        self._pooled = {}
        self.parameters = {}        # id(param) -> (identifier, param), in first-use order
        self.parameter_hints = {}
        self._training = None
        self.kernel_ops = {}        # identifier of a kernel in the program -> its operator
        self.watch = watch
        self.specializer = None

    def constant_ref(self, value, hint):
        key = id(value)
        if key not in self._pooled:
            name = self.namer.fresh(hint)
            self.namespace[name] = value
            self._pooled[key] = (name, value)
        return ast.Name(self._pooled[key][0], ast.Load())

    def kernel_ref(self, op):
        """The name a kernel is called by; the operator is remembered for differentiation."""
        name = self.constant_ref(op.kernel, op.name.lstrip("_"))
        self.kernel_ops[name.id] = op
        return name

    def parameter_ref(self, param):
        if id(param) not in self.parameters:
            hint = self.parameter_hints.get(id(param), param.name)
            self.parameters[id(param)] = (self.namer.fresh(hint), param)
        return ast.Name(self.parameters[id(param)][0], ast.Load())

    def training_flag(self):
        if self._training is None:
            self._training = self.namer.fresh("training")
        return ast.Name(self._training, ast.Load())

    def training_setup(self):
        if self._training is None:
            return []
        from ... import autograd
        reader = self.constant_ref(autograd.is_training, "is_training")
        return [ast.Assign([ast.Name(self._training, ast.Store())], ast.Call(reader, [], []))]

    def temporary(self, expr, hint):
        return self.specializer.temporary(expr, hint)

    def expr_of(self, value):
        return self.specializer.expr_of(value)


class Specializer:
    def __init__(self, context):
        self.context = context
        context.specializer = self
        self.lowerer = Lowerer(context)
        self.frames = []
        self.bodies = []
        self.line = None
        self._parsed = {}

    # ----- frames, emission
    @property
    def frame(self):
        return self.frames[-1]

    def unsupported(self, construct, detail="", node=None):
        line = getattr(node, "lineno", None) or self.line or self.frame.parsed.node.lineno
        return UnsupportedConstruct(construct, self.frame.parsed.filename, line, detail)

    def compile_error(self, message, node=None):
        line = getattr(node, "lineno", None) or self.line or self.frame.parsed.node.lineno
        return CompileError(message, self.frame.parsed.filename, line)

    def emit(self, statement):
        body = self.bodies[-1]
        body.append(origin_marker(self.frame.parsed.filename, self.line))
        body.append(statement)

    def temporary(self, expr, hint):
        name = self.context.namer.fresh(hint)
        self.frame.owned.add(name)
        self.emit(ast.Assign([ast.Name(name, ast.Store())], expr))
        return ast.Name(name, ast.Load())

    def parsed(self, function):
        key = getattr(function, "__func__", function)
        if key not in self._parsed:
            parsed = fence.transform(source.transform(key))
            inline.reject_loop_returns(parsed)
            parsed.node = inline.transform(parsed.node)
            self._parsed[key] = parsed
        return self._parsed[key]

    # ----- values to code
    def expr_of(self, value):
        if isinstance(value, Dynamic):
            return value.expr
        if isinstance(value, Seq):
            items = [self.expr_of(v) for v in value.items]
            return (ast.List if value.container is list else ast.Tuple)(items, ast.Load())
        if isinstance(value, FRef):
            # F as a value (printed, passed on) is the namespace imperative code sees: nd
            from ... import ndarray
            target = ndarray
            for part in filter(None, value.path.split(".")):
                target = getattr(target, part)
            return self.context.constant_ref(target, value.path.split(".")[-1] or "F")
        data = value.value
        if is_literal(data):
            if isinstance(data, slice):
                return ast.Call(ast.Name("slice", ast.Load()),
                                [constant(v) for v in (data.start, data.stop, data.step)], [])
            return constant(data)
        if isinstance(data, np.generic):
            return constant(data.item())
        hint = getattr(data, "__name__", None) or type(data).__name__.lower()
        return self.context.constant_ref(data, hint)

    def as_name(self, value, hint):
        """A value that may be used several times: simple names and statics stay, the rest
        is computed once into a temporary."""
        if isinstance(value, Dynamic) and not isinstance(value.expr, ast.Name):
            return Dynamic(self.temporary(value.expr, hint), value.kind)
        if isinstance(value, Seq):
            return Seq([self.as_name(v, hint) for v in value.items], value.container)
        return value

    # ----- entry points
    def root(self, function, leading, args, params):
        """The program's function for `function(*leading, *args, **params)`; the arguments are
        Values, and `Dynamic(None, kind)` marks one the program receives at run time."""
        parsed = self.parsed(function)
        names = [a.arg for a in parsed.node.args.args]
        env = {}
        frame = _Frame(parsed, env, inlined=False)
        self.frames.append(frame)
        arguments = []
        try:
            bound = inline.bind_arguments(parsed, list(leading) + list(args), params,
                                          skip_self=False)
        except TypeError as error:
            raise self.compile_error(str(error)) from None
        for name in names:
            value = bound[name]
            if isinstance(value, Dynamic) and value.expr is None:
                identifier = self.context.namer.fresh(name)
                frame.owned.add(identifier)
                arguments.append(ast.arg(identifier))
                value = Dynamic(ast.Name(identifier, ast.Load()), value.kind)
            env[name] = value
        if parsed.node.args.vararg is not None:
            items = []
            for i, value in enumerate(bound[parsed.node.args.vararg.arg]):
                if isinstance(value, Dynamic) and value.expr is None:
                    identifier = self.context.namer.fresh(f"{parsed.node.args.vararg.arg}{i}")
                    arguments.append(ast.arg(identifier))
                    value = Dynamic(ast.Name(identifier, ast.Load()), value.kind)
                items.append(value)
            env[parsed.node.args.vararg.arg] = Seq(items, tuple)
        body = []
        self.bodies.append(body)
        self.line = parsed.node.lineno
        ending = self.block(parsed.node.body)
        if ending is None:
            self.emit(ast.Return(ast.Constant(None)))
        self.bodies.pop()
        self.frames.pop()
        return arguments, body, parsed

    def inline_call(self, function, self_object, args, kwargs, hint, bind_self=True):
        """The value of `function(self_object, *args, **kwargs)` (or, without `bind_self`,
        of `function(*args, **kwargs)`), its body emitted inline."""
        parsed = self.parsed(function)
        leading = [Static(self_object)] if bind_self else []
        try:
            bound = inline.bind_arguments(parsed, leading + list(args), kwargs, skip_self=False)
        except TypeError as error:
            raise self.compile_error(str(error)) from None
        env = {}
        for name, value in bound.items():
            if isinstance(value, list):
                value = Seq([self.as_name(v, name) for v in value], tuple)
            elif isinstance(value, dict):
                if value:
                    raise self.unsupported("**kwargs receiving values")
                value = Static({})
            env[name] = self.as_name(value, name)
        frame = _Frame(parsed, env, inlined=True)
        caller_line = self.line
        self.frames.append(frame)
        self.line = parsed.node.lineno
        try:
            self.block(parsed.node.body)
        finally:
            self.frames.pop()
            self.line = caller_line
        result = frame.result if frame.result is not None else Static(None)
        return self.as_name(result, hint)

    # ----- statements
    def block(self, statements):
        """Specialize statements; returns 'return', 'break', 'continue' or None (falls through)."""
        for statement in statements:
            self.line = statement.lineno
            ending = self.statement(statement)
            if ending is not None:
                return ending
        return None

    def statement(self, node):
        handler = getattr(self, "stmt_" + type(node).__name__, None)
        if handler is None:
            raise self.unsupported(f"a {type(node).__name__} statement", node=node)
        return handler(node)

    def stmt_Pass(self, node):
        return None

    def stmt_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None
        value = self.expr(node.value)
        if isinstance(value, Dynamic):
            self.emit(ast.Expr(value.expr))
        return None

    def stmt_Assign(self, node):
        value = self.expr(node.value)
        if len(node.targets) > 1:
            value = self.as_name(value, "value")
        for target in node.targets:
            self.assign(target, value)
        return None

    def stmt_AnnAssign(self, node):
        if node.value is not None:
            self.assign(node.target, self.expr(node.value))
        return None

    def stmt_AugAssign(self, node):
        load = _as_load(node.target)
        value = self.binary(node.op, self.expr(load), self.expr(node.value), node)
        self.assign(node.target, value)
        return None

    def assign(self, target, value):
        if isinstance(target, ast.Name):
            self.assign_name(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(t, ast.Starred) for t in target.elts):
                raise self.unsupported("starred assignment", node=target)
            items = self.unpack(value, len(target.elts), target)
            for element, item in zip(target.elts, items):
                self.assign(element, item)
        elif isinstance(target, ast.Subscript):
            base = self.expr(target.value)
            if not isinstance(base, Dynamic):
                raise self.unsupported("assigning into a compile-time value", node=target)
            index = self.index_expr(self.expr(target.slice))
            self.emit(ast.Assign([ast.Subscript(base.expr, index, ast.Store())],
                                 self.expr_of(value)))
        else:
            raise self.unsupported(f"assigning to {type(target).__name__}",
                                   "hybrid_forward must not change the block's state", target)

    def unpack(self, value, count, node):
        if isinstance(value, Seq):
            items = value.items
        elif isinstance(value, Static):
            try:
                items = [Static(v) for v in value.value]
            except TypeError:
                raise self.compile_error(f"cannot unpack {describe(value)}", node) from None
        else:
            holder = self.temporary(value.expr, "unpacked")
            return [Dynamic(ast.Subscript(holder, ast.Constant(i), ast.Load()), ANY)
                    for i in range(count)]
        if len(items) != count:
            raise self.compile_error(f"cannot unpack {len(items)} values into {count}", node)
        return items

    def assign_name(self, name, value):
        frame = self.frame
        if isinstance(value, Dynamic) and not isinstance(value.expr, ast.Name):
            current = frame.env.get(name)
            if (isinstance(current, Dynamic) and isinstance(current.expr, ast.Name)
                    and current.expr.id in frame.owned):
                identifier = current.expr.id
            else:
                identifier = self.context.namer.fresh(name)
                frame.owned.add(identifier)
            self.emit(ast.Assign([ast.Name(identifier, ast.Store())], value.expr))
            value = Dynamic(ast.Name(identifier, ast.Load()), value.kind)
        frame.env[name] = value

    def stmt_Return(self, node):
        value = self.expr(node.value) if node.value is not None else Static(None)
        frame = self.frame
        if not frame.inlined:
            self.emit(ast.Return(self.expr_of(value)))
        elif frame.dynamic_depth == 0:
            frame.result = value
        else:
            if frame.result_name is None:
                frame.result_name = self.context.namer.fresh(f"{frame.parsed.node.name}_result")
                frame.owned.add(frame.result_name)
            self.emit(ast.Assign([ast.Name(frame.result_name, ast.Store())],
                                 self.expr_of(value)))
            kind = value.kind if isinstance(value, Dynamic) else ANY
            frame.result = Dynamic(ast.Name(frame.result_name, ast.Load()), kind)
        return "return"

    def stmt_Raise(self, node):
        if node.exc is None:
            raise self.unsupported("a bare raise", node=node)
        self.emit(ast.Raise(self.expr_of(self.expr(node.exc)), None))
        return "return"

    def stmt_Assert(self, node):
        test = self.expr(node.test)
        message = self.expr_of(self.expr(node.msg)) if node.msg is not None else None
        if is_static(test) and static_value(test):
            return None
        self.emit(ast.Assert(self.expr_of(test), message))
        return None

    def stmt_If(self, node):
        test = self.expr(node.test)
        if is_static(test):
            return self.block(node.body if static_value(test) else node.orelse)
        return self.dynamic_branches(self.condition(test), node.body, node.orelse)

    def condition(self, test):
        return self.expr_of(test)

    def dynamic_branches(self, test_expr, body, orelse):
        frame = self.frame
        line = self.line
        before = dict(frame.env)
        branches = []
        frame.dynamic_depth += 1
        try:
            for statements in (body, orelse):
                frame.env = dict(before)
                emitted = []
                self.bodies.append(emitted)
                ending = self.block(statements)
                self.bodies.pop()
                branches.append((frame.env, emitted, ending))
        finally:
            frame.dynamic_depth -= 1
        self.line = line
        self.merge(before, branches)
        (_, body_code, body_end), (_, else_code, else_end) = branches
        self.emit(ast.If(test_expr, body_code or [ast.Pass()], else_code))
        if body_end == else_end == "return":
            return "return"
        if body_end is not None and else_end is not None:
            if frame.dynamic_depth == 0 and frame.loop_carried:
                return None
            return body_end if body_end == else_end else None
        return None

    def merge(self, before, branches):
        """After a run-time branch: give every variable one identifier on all flowing paths."""
        frame = self.frame
        flowing = [b for b in branches if b[2] is None]
        if not flowing:
            frame.env = dict(before)
            return
        if len(flowing) == 1:
            frame.env = flowing[0][0]
            return
        merged = {}
        names = set().union(*(env.keys() for env, _, _ in flowing))
        for name in names:
            values = [env.get(name) for env, _, _ in flowing]
            first = values[0]
            if all(_same(first, v) for v in values[1:]):
                merged[name] = first
                continue
            previous = before.get(name)
            target = (previous.expr.id if isinstance(previous, Dynamic)
                      and isinstance(previous.expr, ast.Name) and previous.expr.id in frame.owned
                      else None)
            if target is None:
                target = self.context.namer.fresh(name)
                frame.owned.add(target)
            kinds = {v.kind if isinstance(v, Dynamic) else ANY for v in values if v is not None}
            for (env, emitted, _), value in zip(flowing, values):
                if value is None or _is_name(value, target):
                    continue
                self.bodies.append(emitted)
                self.emit(ast.Assign([ast.Name(target, ast.Store())], self.expr_of(value)))
                self.bodies.pop()
            merged[name] = Dynamic(ast.Name(target, ast.Load()),
                                   ARRAY if kinds == {ARRAY} else ANY)
        frame.env = merged

    def stmt_For(self, node):
        iterable = self.expr(node.iter)
        items = self.static_items(iterable)
        if items is not None and len(items) <= MAX_UNROLL:
            for item in items:
                self.assign(node.target, item)
                ending = self.block(node.body)
                if ending == "break":
                    return None
                if ending == "return":
                    return "return"
            return self.block(node.orelse)
        loop_target_kind = ARRAY if isinstance(iterable, Dynamic) and iterable.is_array else ANY
        return self.dynamic_loop(node, iterable, loop_target_kind)

    def static_items(self, value):
        if isinstance(value, Seq):
            return list(value.items)
        if isinstance(value, Static):
            try:
                return [Static(v) for v in value.value]
            except TypeError:
                raise self.compile_error(f"cannot iterate over {describe(value)}") from None
        return None

    def stmt_While(self, node):
        for _ in range(MAX_UNROLL):
            test = self.expr(node.test)
            if not is_static(test):
                break
            if not static_value(test):
                return self.block(node.orelse)
            ending = self.block(node.body)
            if ending == "break":
                return None
            if ending == "return":
                return "return"
        else:
            raise self.unsupported("a while loop running over 1000 iterations at compile time",
                                   node=node)
        return self.dynamic_loop(node, None, None)

    def dynamic_loop(self, node, iterable, target_kind):
        """A loop that runs at run time: variables it assigns get one identifier throughout."""
        frame = self.frame
        line = self.line
        if node.orelse:
            raise self.unsupported("else on a loop over run-time values", node=node)
        carried = {}
        for name in sorted(_assigned_names(node.body) | _assigned_names([node.target])
                           if isinstance(node, ast.For) else _assigned_names(node.body)):
            value = frame.env.get(name)
            if value is None:
                continue
            if isinstance(value, Dynamic) and isinstance(value.expr, ast.Name) \
                    and value.expr.id in frame.owned:
                carried[name] = value.expr.id
                continue
            identifier = self.context.namer.fresh(name)
            frame.owned.add(identifier)
            self.emit(ast.Assign([ast.Name(identifier, ast.Store())], self.expr_of(value)))
            kind = value.kind if isinstance(value, Dynamic) else ANY
            frame.env[name] = Dynamic(ast.Name(identifier, ast.Load()), kind)
            carried[name] = identifier
        body_code = []
        frame.loop_carried.append(carried)
        frame.dynamic_depth += 1
        self.bodies.append(body_code)
        try:
            if isinstance(node, ast.For):
                target = self.loop_target(node.target, target_kind)
                iterator = self.expr_of(iterable)
            else:
                test_code = []
                self.bodies.append(test_code)
                test = self.expr(node.test)
                self.bodies.pop()
                if test_code:
                    raise self.unsupported("a while condition that calls a block", node=node)
            ending = self.block(node.body)
            if ending == "return":
                raise self.unsupported("return inside a loop over run-time values", node=node)
            if ending is None:
                self.reconcile(carried)
        finally:
            self.bodies.pop()
            frame.dynamic_depth -= 1
            frame.loop_carried.pop()
        for name, identifier in carried.items():
            value = frame.env.get(name)
            kind = value.kind if isinstance(value, Dynamic) else ANY
            frame.env[name] = Dynamic(ast.Name(identifier, ast.Load()), kind)
        self.line = line
        if isinstance(node, ast.For):
            self.emit(ast.For(target, iterator, body_code or [ast.Pass()], []))
        else:
            self.emit(ast.While(self.condition(test), body_code or [ast.Pass()], []))
        return None

    def loop_target(self, target, kind):
        if isinstance(target, ast.Name):
            current = self.frame.env.get(target.id)
            if isinstance(current, Dynamic) and isinstance(current.expr, ast.Name) \
                    and current.expr.id in self.frame.owned:
                identifier = current.expr.id
            else:
                identifier = self.context.namer.fresh(target.id)
                self.frame.owned.add(identifier)
            self.frame.env[target.id] = Dynamic(ast.Name(identifier, ast.Load()), kind)
            return ast.Name(identifier, ast.Store())
        if isinstance(target, (ast.Tuple, ast.List)):
            return ast.Tuple([self.loop_target(t, ANY) for t in target.elts], ast.Store())
        raise self.unsupported(f"a loop target {type(target).__name__}", node=target)

    def reconcile(self, carried):
        """Before the loop repeats (or leaves): carried variables back in their identifiers."""
        env = self.frame.env
        for name, identifier in carried.items():
            value = env.get(name)
            if value is not None and not _is_name(value, identifier):
                self.emit(ast.Assign([ast.Name(identifier, ast.Store())], self.expr_of(value)))
                kind = value.kind if isinstance(value, Dynamic) else ANY
                env[name] = Dynamic(ast.Name(identifier, ast.Load()), kind)

    def stmt_Break(self, node):
        return self.loop_exit(node, ast.Break)

    def stmt_Continue(self, node):
        return self.loop_exit(node, ast.Continue)

    def loop_exit(self, node, statement):
        frame = self.frame
        ending = "break" if statement is ast.Break else "continue"
        if frame.loop_carried:
            self.reconcile(frame.loop_carried[-1])
            self.emit(statement())
            return ending
        if frame.dynamic_depth:
            raise self.unsupported(f"{ending} under a run-time condition in a loop unrolled at "
                                   "compile time", node=node)
        return ending

    # ----- expressions
    def expr(self, node):
        handler = getattr(self, "expr_" + type(node).__name__, None)
        if handler is None:
            raise self.unsupported(f"a {type(node).__name__} expression", node=node)
        return handler(node)

    def expr_Constant(self, node):
        return Static(node.value)

    def expr_Name(self, node):
        frame = self.frame
        if node.id in frame.env:
            return frame.env[node.id]
        if node.id in frame.parsed.closure:
            return Static(frame.parsed.closure[node.id])
        if node.id in frame.parsed.globals:
            return Static(frame.parsed.globals[node.id])
        if hasattr(builtins, node.id):
            return Static(getattr(builtins, node.id))
        raise self.compile_error(f"name {node.id!r} is not defined", node)

    def expr_Attribute(self, node):
        base = self.expr(node.value)
        if isinstance(base, FRef):
            return FRef(f"{base.path}.{node.attr}" if base.path else node.attr)
        if isinstance(base, Static):
            self.context.watch(base.value, node.attr)
            try:
                return Static(getattr(base.value, node.attr))
            except AttributeError as error:
                raise self.compile_error(str(error), node) from None
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
                raise self.compile_error(f"{type(error).__name__}: {error}", node) from None
        if isinstance(base, Seq) and is_static(index):
            key = static_value(index)
            picked = base.items[key]
            return Seq(picked, base.container) if isinstance(key, slice) else picked
        if isinstance(base, Dynamic):
            if isinstance(index, Dynamic) and index.is_array:
                return self.lowerer.call_operator("take", (base, index), {"axis": Static(0),
                                                                           "mode": Static("wrap")})
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
        if all(isinstance(i, Static) for i in items):
            return Static(container(i.value for i in items))
        return Seq(items, container)

    def _raise(self, error):
        raise error

    def expr_Dict(self, node):
        keys = [self.expr(k) if k is not None else None for k in node.keys]
        values = [self.expr(v) for v in node.values]
        if all(k is not None and is_static(k) for k in keys) and all(is_static(v) for v in values):
            return Static({static_value(k): static_value(v) for k, v in zip(keys, values)})
        return Dynamic(ast.Dict([self.expr_of(k) if k is not None else None for k in keys],
                                [self.expr_of(v) for v in values]), ANY)

    def expr_BinOp(self, node):
        return self.binary(node.op, self.expr(node.left), self.expr(node.right), node)

    def binary(self, op, left, right, node):
        if is_static(left) and is_static(right):
            try:
                return Static(_BINARY[type(op)](static_value(left), static_value(right)))
            except Exception as error:
                raise self.compile_error(f"{type(error).__name__}: {error}", node) from None
        if isinstance(left, Seq) or isinstance(right, Seq):
            if isinstance(op, ast.Add) and isinstance(left, Seq) and isinstance(right, Seq):
                return Seq(left.items + right.items, left.container)
        kind = ARRAY if any(isinstance(v, Dynamic) and v.is_array for v in (left, right)) else ANY
        return Dynamic(ast.BinOp(self.expr_of(left), op, self.expr_of(right)), kind)

    def expr_UnaryOp(self, node):
        operand = self.expr(node.operand)
        if is_static(operand):
            return Static(_UNARY[type(node.op)](static_value(operand)))
        kind = operand.kind if isinstance(operand, Dynamic) and not isinstance(node.op, ast.Not) \
            else ANY
        return Dynamic(ast.UnaryOp(node.op, self.expr_of(operand)), kind)

    def expr_Compare(self, node):
        values = [self.expr(node.left)] + [self.expr(c) for c in node.comparators]
        if all(is_static(v) for v in values):
            result = True
            for op, left, right in zip(node.ops, values, values[1:]):
                result = result and _COMPARE[type(op)](static_value(left), static_value(right))
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
        return Dynamic(ast.Compare(self.expr_of(values[0]), list(node.ops),
                                   [self.expr_of(v) for v in values[1:]]), ANY)

    def expr_BoolOp(self, node):
        values = []
        for operand in node.values:
            value = self.expr(operand)
            if is_static(value):
                truth = bool(static_value(value))
                if isinstance(node.op, ast.And) and not truth:
                    return value if not values else self._bool_chain(node.op, values + [value])
                if isinstance(node.op, ast.Or) and truth:
                    return value if not values else self._bool_chain(node.op, values + [value])
                continue
            values.append(value)
        if not values:
            return self.expr(node.values[-1])
        return self._bool_chain(node.op, values)

    def _bool_chain(self, op, values):
        if len(values) == 1:
            return values[0]
        return Dynamic(ast.BoolOp(op, [self.expr_of(v) for v in values]), ANY)

    def expr_IfExp(self, node):
        test = self.expr(node.test)
        if is_static(test):
            return self.expr(node.body if static_value(test) else node.orelse)
        body, orelse = self.expr(node.body), self.expr(node.orelse)
        kind = ARRAY if all(isinstance(v, Dynamic) and v.is_array for v in (body, orelse)) else ANY
        return Dynamic(ast.IfExp(self.expr_of(test), self.expr_of(body), self.expr_of(orelse)),
                       kind)

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
        show = self.context.constant_ref(runtime.show, "show")
        for inner, conversion, spec in parts:
            if conversion is None and spec is None and is_static(inner) \
                    and isinstance(static_value(inner), str):
                values.append(ast.Constant(static_value(inner)))
                continue
            spec_node = ast.JoinedStr([self.expr_of(spec)]) if spec is not None else None
            values.append(ast.FormattedValue(ast.Call(show, [self.expr_of(inner)], []),
                                             conversion if conversion is not None else -1,
                                             spec_node))
        return Dynamic(ast.JoinedStr(values), ANY)

    def expr_ListComp(self, node):
        if len(node.generators) != 1 or node.generators[0].is_async:
            raise self.unsupported("a comprehension with several for clauses", node=node)
        generator = node.generators[0]
        iterable = self.expr(generator.iter)
        items = self.static_items(iterable)
        if items is None:
            raise self.unsupported("a comprehension over run-time values", node=node)
        frame = self.frame
        saved = dict(frame.env)
        results = []
        try:
            for item in items:
                self.assign(generator.target, item)
                conditions = [self.expr(c) for c in generator.ifs]
                if not all(is_static(c) for c in conditions):
                    raise self.unsupported("a comprehension filtered on run-time values",
                                           node=node)
                if all(static_value(c) for c in conditions):
                    results.append(self.as_name(self.expr(node.elt), "item"))
        finally:
            frame.env = saved
        if all(isinstance(r, Static) for r in results):
            return Static([r.value for r in results])
        return Seq(results, list)

    def expr_Starred(self, node):
        raise self.unsupported("a starred expression here", node=node)

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
                if func.attr == "append" and receiver.container is list and len(args) == 1:
                    receiver.items.append(self.as_name(args[0], "item"))
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
        if function is print:
            return self.call_print(args, kwargs)
        if function is getattr and len(args) == 2 and isinstance(args[0], FRef) \
                and is_static(args[1]):
            return FRef(f"{args[0].path}.{static_value(args[1])}".lstrip("."))
        if _is_user_function(function):
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


def _same(a, b):
    if a is b:
        return True
    if isinstance(a, Dynamic) and isinstance(b, Dynamic):
        return a.expr is b.expr or (isinstance(a.expr, ast.Name) and isinstance(b.expr, ast.Name)
                                    and a.expr.id == b.expr.id)
    if isinstance(a, Static) and isinstance(b, Static):
        return a.value is b.value or (is_literal(a.value) and is_literal(b.value)
                                      and type(a.value) is type(b.value) and a.value == b.value)
    if isinstance(a, Seq) and isinstance(b, Seq):
        return len(a.items) == len(b.items) and all(map(_same, a.items, b.items))
    return False


def _is_name(value, identifier):
    return isinstance(value, Dynamic) and isinstance(value.expr, ast.Name) \
        and value.expr.id == identifier


def _assigned_names(statements):
    names = set()
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names


def _as_load(target):
    if isinstance(target, ast.Name):
        return ast.Name(target.id, ast.Load())
    if isinstance(target, ast.Subscript):
        return ast.Subscript(target.value, target.slice, ast.Load())
    if isinstance(target, ast.Attribute):
        return ast.Attribute(target.value, target.attr, ast.Load())
    raise UnsupportedConstruct("augmented assignment to this target", "<unknown>", 0)


def transform(context, function, leading, args, params):
    """Entry point: (arguments, body, parsed root) of the program for `function`."""
    return Specializer(context).root(function, leading, args, params)
