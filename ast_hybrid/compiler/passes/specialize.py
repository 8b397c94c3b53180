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
import copy
import importlib
import operator
import warnings

import numpy as np

from .. import runtime
from .. import toolkit
from ... import autograd
from . import inline, loop_exits, source
from .errors import UnsupportedConstruct
from .lower import describe
from .callee import MUTATORS
from .specialize_calls import CallSpecializer
from .specialize_expressions import ExpressionSpecializer
from .values import (ANY, ARRAY, NUMPY, Dynamic, Local, Seq, Static, Table, is_literal,
                     is_static, static_value)

MAX_UNROLL = 1000
MAX_RECURSION = 32   # nested inlined calls of one function
_IN_PLACE_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)   # NDArray's __iadd__ ... __itruediv__
_NUMPY_IN_PLACE = {ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul,
                   ast.Div: operator.itruediv, ast.FloorDiv: operator.ifloordiv,
                   ast.Mod: operator.imod, ast.Pow: operator.ipow}


class _Frame:
    """One function being specialized: the root hybrid_forward or an inlined callee."""

    def __init__(self, parsed, env, inlined, enclosing=None):
        self.parsed = parsed
        self.env = env
        self.inlined = inlined
        # a function defined in the compiled code reads its definer's names, except those
        # it assigns itself (Python's scoping: they are its own, unbound until assigned)
        self.enclosing = enclosing
        if parsed.local_names is None:      # an inlined function has a frame per call
            parsed.local_names = frozenset(_local_names(parsed.node))
        self.own_names = parsed.local_names
        self.owned = set()
        self.unbound_on_some_paths = set()   # identifiers a run-time branch may leave unset
        self.dynamic_depth = 0
        self.hint = parsed.node.name     # what an inlined call's result is named after
        self.result = None
        self.result_name = None
        self.loop_carried = []   # stack of {variable: identifier} for enclosing dynamic loops


class Specializer(ExpressionSpecializer, CallSpecializer):
    """Partial evaluation of a function and everything it calls into one program body: the
    statement part, with the expression and call parts (their shared state and the methods
    they give each other: specialize_core.SpecializerCore)."""

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
        def received(value, hint):
            """The value with each run-time argument in it (lists' items too) named."""
            if isinstance(value, Dynamic) and value.expr is None:
                identifier = self.context.namer.fresh(hint)
                frame.owned.add(identifier)
                arguments.append(ast.arg(identifier))
                return Dynamic(ast.Name(identifier, ast.Load()), value.kind)
            if isinstance(value, Seq):
                return Seq([received(item, f"{hint}{i}") for i, item in enumerate(value.items)],
                           value.container, value.external)
            return value

        for name in names:
            env[name] = received(bound[name], name)
        if parsed.node.args.vararg is not None:
            name = parsed.node.args.vararg.arg
            env[name] = received(Seq(bound[name], tuple), name)
        if parsed.node.args.kwarg is not None:
            env[parsed.node.args.kwarg.arg] = Table(
                {key: received(value, key) for key, value in
                 bound[parsed.node.args.kwarg.arg].items()})
        body = []
        self.bodies.append(body)
        self.line = parsed.node.lineno
        ending = self.block(parsed.node.body)
        if ending is None:
            self.emit(ast.Return(ast.Constant(None)))
        self.bodies.pop()
        self.frames.pop()
        return arguments, body, parsed

    def stmt_FunctionDef(self, node):
        if node.decorator_list:
            raise self.unsupported("a decorated function defined in the compiled code",
                                   node=node)
        self.assign_name(node.name, self.local_function(node, node.args))
        return None

    def expr_Lambda(self, node):
        body = ast.Return(node.body, lineno=node.body.lineno, col_offset=node.body.col_offset)
        definition = ast.FunctionDef("_lambda", node.args, [body], [], None,
                                     lineno=node.lineno, col_offset=node.col_offset)
        return self.local_function(definition, node.args)

    def local_function(self, definition, arguments):
        """A `def` or `lambda` of the compiled code: its defaults evaluated now, as Python
        evaluates them at the definition; its body inlined at each call."""
        if arguments.posonlyargs or arguments.kwonlyargs:
            raise self.unsupported("positional-only or keyword-only parameters",
                                   node=definition)
        defaults = [self.as_name(self.expr(d), "default") for d in arguments.defaults]
        defining = self.frame.parsed
        parsed = source.ParsedFunction(inline.transform(loop_exits.transform(definition)),
                                       defining.filename,
                                       defining.globals, defining.closure, defining.function,
                                       defaults)
        return Local(parsed, self.frame)

    def inline_local(self, local, args, kwargs, node):
        parsed = local.parsed
        return self.inline_call(None, None, args, kwargs, parsed.node.name.strip("_"),
                                bind_self=False, parsed=parsed, enclosing=local.frame)

    def inline_call(self, function, self_object, args, kwargs, hint, bind_self=True,
                    parsed=None, enclosing=None):
        """The value of `function(self_object, *args, **kwargs)` (or, without `bind_self`,
        of `function(*args, **kwargs)`), its body emitted inline."""
        parsed = parsed or self.parsed(function)
        if sum(f.parsed is parsed for f in self.frames) >= MAX_RECURSION:
            raise self.unsupported(f"{parsed.node.name}() calling itself more than "
                                   f"{MAX_RECURSION} times deep while inlining",
                                   "recursion on run-time values cannot be unrolled")
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
                value = Table(dict(value))
            env[name] = self.as_name(value, name)
        frame = _Frame(parsed, env, inlined=True, enclosing=enclosing)
        frame.hint = hint
        caller_line = self.line
        self.call_sites.append((self.frame.parsed.filename, caller_line))
        self.frames.append(frame)
        self.line = parsed.node.lineno
        try:
            self.block(parsed.node.body)
        finally:
            self.frames.pop()
            self.call_sites.pop()
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

    def stmt_Import(self, node):
        """`import m` binds the module, imported now (Python imports it once per process)."""
        for alias in node.names:
            try:
                module = importlib.import_module(alias.name)
            except ImportError as error:
                self.emit(ast.Expr(self.raised_at_run_time(error).expr))
                return None
            if alias.asname is not None:
                self.assign_name(alias.asname, Static(module))
            else:
                top = alias.name.split(".")[0]
                self.assign_name(top, Static(importlib.import_module(top)))
        return None

    def stmt_ImportFrom(self, node):
        if node.level:
            raise self.unsupported("a relative import", node=node)
        for alias in node.names:
            if alias.name == "*":
                raise self.unsupported("import *", node=node)
            try:
                module = importlib.import_module(node.module)
                value = getattr(module, alias.name)
            except (ImportError, AttributeError) as error:
                failure = error if isinstance(error, ImportError) else ImportError(
                    f"cannot import name {alias.name!r} from {node.module!r}")
                self.emit(ast.Expr(self.raised_at_run_time(failure).expr))
                return None
            self.assign_name(alias.asname or alias.name, Static(value))
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
        if len(node.targets) > 1 or isinstance(node.targets[0], (ast.Tuple, ast.List)):
            # Python evaluates the whole right side before binding any target
            # (`a, b = a * 2, a` gives b the old a): nothing left to compute may read a name
            # that a binding below reuses
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
        current = self.expr(load)
        operand = self.expr(node.value)
        if isinstance(current, Seq) and current.container is list and isinstance(node.op, ast.Add):
            items = self.static_items(operand)
            if items is not None:
                self.check_growable(current, node)
                current.items.extend(items)     # `items += more` extends the list itself
                self.assign(node.target, current)
                return None
        if isinstance(node.op, ast.Add) and any(current is held for held in self.run_time_lists) \
                and not (isinstance(operand, Dynamic) and operand.kind in (ARRAY, NUMPY)):
            # a list this program built: `items += more` is items.extend(more), a growth
            # the reverse pass follows
            self.emit(ast.Expr(ast.Call(ast.Attribute(current.expr, "extend", ast.Load()),
                                        [self.expr_of(operand)], [])))
            return None
        if isinstance(current, Dynamic) and current.kind == NUMPY \
                and type(node.op) in _NUMPY_IN_PLACE:
            # a plain numpy array's `a += b` is numpy's own, in place
            in_place = _NUMPY_IN_PLACE[type(node.op)]
            value = Dynamic(ast.Call(self.context.constant_ref(in_place, in_place.__name__),
                                     [current.expr, self.expr_of(operand)], []), NUMPY)
            self.assign(node.target, value)
            return None
        value = self.binary(node.op, current, operand, node)
        if isinstance(current, Dynamic) and type(node.op) in _IN_PLACE_OPERATORS:
            # NDArray's `x += y` writes the result into x itself: every name and list
            # holding that array sees it, and x keeps its shape and dtype; a value that
            # may be an array or a number is told apart when the program runs
            helper, kind = ((runtime.update, ARRAY) if current.is_array
                            else (runtime.update_or_rebind, ANY))
            update = self.context.constant_ref(helper, helper.__name__)
            value = Dynamic(ast.Call(update, [current.expr, self.expr_of(value)], []), kind)
        self.assign(node.target, value)
        return None

    def assign(self, target, value):
        if isinstance(target, ast.Name):
            self.assign_name(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            starred = [i for i, t in enumerate(target.elts) if isinstance(t, ast.Starred)]
            if not starred:
                items = self.unpack(value, len(target.elts), target)
                for element, item in zip(target.elts, items):
                    self.assign(element, item)
                return
            if not isinstance(value, (Seq, Static)):
                raise self.unsupported("starred assignment from a run-time value", node=target)
            items = self.unpack(value, None, target)
            before, after = starred[0], len(target.elts) - starred[0] - 1
            if len(items) < before + after:
                raise self.compile_error(f"not enough values to unpack (expected at least "
                                         f"{before + after}, got {len(items)})", target)
            rest = Seq(list(items[before:len(items) - after]), list)
            spread = items[:before] + [rest] + items[len(items) - after:]
            for element, item in zip(target.elts, spread):
                self.assign(element.value if isinstance(element, ast.Starred) else element, item)
        elif isinstance(target, ast.Subscript):
            base = self.expr(target.value)
            if isinstance(base, Table):
                self.assign_item(base, self.expr(target.slice), value, target)
                return
            if isinstance(base, Seq):
                self.assign_list_item(base, self.expr(target.slice), value, target)
                return
            if not isinstance(base, Dynamic):
                raise self.unsupported("assigning into a compile-time value", node=target)
            index = self.expr(target.slice)
            if base.is_array:
                helper = self.context.constant_ref(runtime.setitem, "setitem")
                self.emit(ast.Expr(ast.Call(helper, [base.expr, self.expr_of(index),
                                                     self.expr_of(value)], [])))
            else:
                self.emit(ast.Assign([ast.Subscript(base.expr, self.index_expr(index),
                                                    ast.Store())], self.expr_of(value)))
        else:
            raise self.unsupported(f"assigning to {type(target).__name__}",
                                   "hybrid_forward must not change the block's state", target)

    def assign_item(self, table, key, value, target):
        if not is_static(key):
            raise self.unsupported("a dict item assigned under a key known only at run time",
                                   node=target)
        if not self.made_on_this_path(table):
            raise self.unsupported("a dict item assigned under a run-time condition or loop",
                                   node=target)
        table.items[static_value(key)] = self.as_name(value, "item")

    def assign_list_item(self, seq, index, value, target):
        """`items[i] = v` on a list this program builds, at an index known now."""
        if not is_static(index):
            raise self.unsupported("a list item assigned at an index known only at run time",
                                   node=target)
        if seq.container is not list:
            self.emit(ast.Expr(self.raised_at_run_time(TypeError(
                f"'{seq.container.__name__}' object does not support item assignment")).expr))
            return
        self.check_growable(seq, target)
        key = static_value(index)
        try:
            if isinstance(key, slice):
                items = self.static_items(value)
                if items is None:
                    raise self.unsupported("a list slice assigned from a run-time value",
                                           node=target)
                seq.items[key] = [self.as_name(item, "item") for item in items]
            else:
                seq.items[key] = self.as_name(value, "item")
        except (IndexError, TypeError, ValueError) as error:
            self.emit(ast.Expr(self.raised_at_run_time(error).expr))

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
        if count is not None and len(items) != count:
            raise self.compile_error(f"cannot unpack {len(items)} values into {count}", node)
        return items

    def assign_name(self, name, value):
        frame = self.frame
        if isinstance(value, Dynamic) and not isinstance(value.expr, ast.Name):
            current = frame.env.get(name)
            if (isinstance(current, Dynamic) and isinstance(current.expr, ast.Name)
                    and current.expr.id in frame.owned
                    and not self.aliased(current.expr.id, name)):
                identifier = current.expr.id
            else:
                identifier = self.context.namer.fresh(name)
                frame.owned.add(identifier)
            self.emit(ast.Assign([ast.Name(identifier, ast.Store())], value.expr))
            frame.unbound_on_some_paths.discard(identifier)
            value = Dynamic(ast.Name(identifier, ast.Load()), value.kind)
        frame.env[name] = value

    def aliased(self, identifier, name, env=None):
        """Whether a value other than `name`'s reads `identifier`: then assigning `name` must
        not overwrite it (`prev = h; h = f(h)` keeps prev's value, as does a list holding h
        or the items a loop has still to bind)."""
        env = self.frame.env if env is None else env
        held = [value for other, value in env.items() if other != name]
        held += [value for frame in self.frames[:-1] for value in frame.env.values()]
        return any(_reads_name(value, identifier) for value in held + self.pending_items)

    def may_be_unbound(self, identifier):
        """A variable some run-time path leaves unset: reading it there raises."""
        self.frame.unbound_on_some_paths.add(identifier)
        self.context.maybe_unbound.add(identifier)

    def check_growable(self, seq, node):
        """A list this program builds may grow while compiling; the caller's may not."""
        if seq.external:
            raise self.unsupported("changing a list the caller passed in",
                                   "the caller would not see the change", node=node)
        if not self.made_on_this_path(seq):
            # a list built before run-time control flow is materialized there; one reaching
            # here was not, so it cannot grow (one built on this same path may)
            raise self.unsupported("growing a list not named by a variable under a run-time "
                                   "condition or loop", node=node)

    def made_on_this_path(self, container):
        """Whether a list or dict the compiler holds may change now: outside run-time
        control flow, or on the run-time path that built it."""
        made = self.containers_made.get(id(container))
        return not self.frame.dynamic_depth or (
            made is not None and made[0] is container
            and made[1:] == (self.frame, self.frame.dynamic_depth))

    def made_here(self, container):
        """A list or dict the program builds here, which may change on the path that builds it."""
        self.containers_made[id(container)] = (container, self.frame, self.frame.dynamic_depth)
        return container

    def new_list(self, items):
        return self.made_here(Seq(items, list))

    def materialize_lists(self, statements):
        """Lists that run-time control flow grows (`outs.append(y)` in a loop over arrays)
        become run-time lists before it: the number of items is known only when it runs."""
        frame = self.frame
        for name in sorted(_mutated_names(statements)):
            value = frame.env.get(name)
            if isinstance(value, Seq) and value.container is list:
                if value.external:
                    raise self.unsupported(f"changing the list {name!r} the caller passed in",
                                           "the caller would not see the change")
                if any(isinstance(v, Dynamic) and v.kind == NUMPY for v in value.items):
                    raise self.unsupported(f"the list {name!r}, holding a plain numpy array, "
                                           "grown by run-time control flow")
                identifier = self.context.namer.fresh(name)
                frame.owned.add(identifier)
                self.emit(ast.Assign([ast.Name(identifier, ast.Store())], self.expr_of(value)))
                materialized = Dynamic(ast.Name(identifier, ast.Load()), ANY)
                self.run_time_lists.append(materialized)
                self.replace_everywhere(value, materialized)

    def replace_everywhere(self, seq, dynamic):
        """Every name and container of every frame that holds the list `seq` now holds the
        run-time list instead: all of them see what run-time code appends to it."""
        seen = set()

        def replaced(value):
            if value is seq:
                return dynamic
            if isinstance(value, Seq) and id(value) not in seen:
                seen.add(id(value))
                value.items[:] = [replaced(item) for item in value.items]
            if isinstance(value, Table) and id(value) not in seen:
                seen.add(id(value))
                value.items.update({k: replaced(v) for k, v in value.items.items()})
            return value

        for frame in self.frames:
            for name, value in list(frame.env.items()):
                frame.env[name] = replaced(value)
        if self.frame.result is not None:
            self.frame.result = replaced(self.frame.result)

    def stmt_Return(self, node):
        value = self.expr(node.value) if node.value is not None else Static(None)
        frame = self.frame
        if not frame.inlined:
            self.emit(ast.Return(self.expr_of(value)))
        elif frame.dynamic_depth == 0:
            # computed here, so that an error in it names the callee's `return` line
            frame.result = self.as_name(value, frame.hint)
        else:
            if frame.result_name is None:
                frame.result_name = self.context.namer.fresh(f"{frame.parsed.node.name}_result")
                frame.owned.add(frame.result_name)
            self.emit(ast.Assign([ast.Name(frame.result_name, ast.Store())],
                                 self.expr_of(value)))
            kind = value.kind if isinstance(value, Dynamic) else ANY
            frame.result = Dynamic(ast.Name(frame.result_name, ast.Load()), kind)
        return "return"

    def stmt_With(self, node):
        """`with m:` for the context managers known not to swallow an exception of their
        body (autograd's modes, warnings.catch_warnings, numpy.errstate): the manager made
        and entered where Python makes it, the body inlined in the program's `with`. Under
        autograd's modes, operators inside read the training mode anew."""
        items, modal = [], False
        for item in node.items:
            expr = item.context_expr
            callee = self.expr(expr.func) if isinstance(expr, ast.Call) else None
            if not isinstance(callee, Static) or not any(
                    callee.value is m for m in _non_suppressing_managers()):
                raise self.unsupported("a with statement on this context manager",
                                       "only autograd.pause/train_mode/predict_mode/record, "
                                       "warnings.catch_warnings and numpy.errstate are "
                                       "compiled: another may swallow its body's exception",
                                       node)
            modal = modal or callee.value.__module__.endswith("autograd")
            # made as the program runs: a manager is entered once
            args, kwargs = self.call_arguments(expr)
            manager = ast.Call(self.expr_of(callee), [self.expr_of(a) for a in args],
                               [ast.keyword(k, self.expr_of(v)) for k, v in kwargs.items()])
            target = None
            if item.optional_vars is not None:
                if not isinstance(item.optional_vars, ast.Name):
                    raise self.unsupported("a with target other than a name", node=node)
                identifier = self.context.namer.fresh(item.optional_vars.id)
                self.frame.owned.add(identifier)
                self.frame.env[item.optional_vars.id] = Dynamic(ast.Name(identifier, ast.Load()),
                                                                ANY)
                target = ast.Name(identifier, ast.Store())
            items.append(ast.withitem(manager, target))
        self.context.unoptimizable = True
        body = []
        self.bodies.append(body)
        saved_flag = self.context.fresh_training_flag() if modal else None
        try:
            ending = self.block(node.body)
        finally:
            self.bodies.pop()
            if modal:
                body[:0] = self.context.restore_training_flag(saved_flag)
        self.line = node.lineno
        self.emit(ast.With(items, body or [ast.Pass()]))
        return ending

    def stmt_Try(self, node):
        """`try` as Python runs it. The body may stop after any statement, so every name it
        or a handler binds lives in one variable that each statement of the body leaves
        current (as in a run-time loop), lists they grow are run-time lists, and what a
        handler catches is first made the operator's own error, as imperative mode raises
        it. A `return`, `break` or `continue` inside is refused."""
        frame = self.frame
        statements = node.body + node.orelse + node.finalbody + [
            s for handler in node.handlers for s in handler.body]
        for inner in statements:
            for n in ast.walk(inner):
                if isinstance(n, (ast.Return, ast.Break, ast.Continue)):
                    raise self.unsupported(f"{type(n).__name__.lower()} inside try",
                                           node=n)
        self.context.unoptimizable = True
        self.materialize_lists(statements)
        for handler in node.handlers:
            value = frame.env.get(handler.name) if handler.name else None
            placeholder = isinstance(value, Dynamic) and isinstance(value.expr, ast.Name) \
                and value.expr.id in frame.unbound_on_some_paths   # a loop's, still unset
            if value is not None and not placeholder:
                raise self.unsupported(f"except ... as {handler.name}, a name bound before",
                                       "Python unbinds it after the handler, only if it ran",
                                       handler)
        carried = self.carry(_bound_names(statements)
                             - {h.name for h in node.handlers if h.name})
        unset_before = [i for i in carried.values() if i in frame.unbound_on_some_paths]
        line = node.lineno
        paths = []          # the carried names' kinds at the end of each path
        frame.dynamic_depth += 1
        try:
            body, body_flows = self.carried_block(node.body, carried)
            orelse, orelse_flows = self.carried_block(node.orelse, carried)
            if body_flows and orelse_flows:
                paths.append(self.kinds(carried))
            caught = self.context.namer.fresh("caught")
            frame.owned.add(caught)
            handlers = self.handlers(node.handlers, caught, carried, paths)
        finally:
            frame.dynamic_depth -= 1
        for name, identifier in carried.items():
            kinds = {path[name] for path in paths}
            frame.env[name] = Dynamic(ast.Name(identifier, ast.Load()),
                                      kinds.pop() if len(kinds) == 1 else ANY)
        finalbody, final_flows = self.carried_block(node.finalbody, carried)
        flows = paths and final_flows
        for identifier in unset_before:
            self.may_be_unbound(identifier)     # still, if the body stopped before binding it
        self.line = line
        try_node = ast.Try(body or [ast.Pass()], handlers, orelse, finalbody)
        if not handlers and not finalbody:
            try_node.finalbody = [ast.Pass()]
        self.emit(try_node)
        return None if flows else "return"     # every path raises: nothing after runs

    def carry(self, names):
        """{name: identifier} for names whose value must stay in one variable (through a
        run-time loop or a try): the variable a name is already in where nothing else reads
        it, else a new one given its value, or left unset for a name with none yet."""
        frame = self.frame
        carried = {}
        for name in sorted(names):
            value = frame.env.get(name)
            if isinstance(value, Dynamic) and isinstance(value.expr, ast.Name) \
                    and value.expr.id in frame.owned and not self.aliased(value.expr.id, name):
                carried[name] = value.expr.id
                continue
            identifier = self.context.namer.fresh(name)
            frame.owned.add(identifier)
            if value is None:
                self.may_be_unbound(identifier)
            else:
                self.emit(ast.Assign([ast.Name(identifier, ast.Store())], self.expr_of(value)))
            kind = value.kind if isinstance(value, Dynamic) else ANY
            frame.env[name] = Dynamic(ast.Name(identifier, ast.Load()), kind)
            carried[name] = identifier
        return carried

    def carried_block(self, statements, carried):
        """(code, whether it flows on, not ending in a raise): the statements emitted apart,
        each followed by the moves that put the carried names' values back in their
        variables."""
        code = []
        self.bodies.append(code)
        try:
            for statement in statements:
                self.line = statement.lineno
                ending = self.statement(statement)
                if ending is not None:
                    if not isinstance(statement, ast.Raise):
                        raise self.unsupported("an exit inside try", node=statement)
                    return code, False      # what follows a raise never runs
                self.reconcile(carried)
        finally:
            self.bodies.pop()
        return code, True

    def kinds(self, carried):
        env = self.frame.env
        return {name: env[name].kind if isinstance(env.get(name), Dynamic) else ANY
                for name in carried}

    def handlers(self, handlers, caught, carried, paths):
        """The program's one handler: what it caught, made the operator's error, goes to
        the first of the user's handlers whose types match it, or is raised again."""
        if not handlers:
            return []
        convert = self.context.constant_ref(runtime.operator_error, "operator_error")
        chain = [ast.Raise(ast.Name(caught, ast.Load()), None)]
        at_exception = dict(self.frame.env)
        for handler in reversed(handlers):
            self.frame.env = dict(at_exception)
            self.line = handler.lineno
            code = []
            if handler.name:
                self.frame.env[handler.name] = Dynamic(ast.Name(caught, ast.Load()), ANY)
            self.handling.append(caught)
            try:
                handled, flows = self.carried_block(handler.body, carried)
            finally:
                self.handling.pop()
            code += handled
            if flows:
                paths.append(self.kinds(carried))
            if handler.name:
                self.frame.env.pop(handler.name, None)    # Python unbinds it after the handler
            if handler.type is None:
                chain = code or [ast.Pass()]
                continue
            types = self.expr(handler.type)
            if not is_static(types):
                raise self.unsupported("an except clause whose types are known only at run "
                                       "time", node=handler)
            test = ast.Call(ast.Name("isinstance", ast.Load()),
                            [ast.Name(caught, ast.Load()), self.expr_of(types)], [])
            chain = [ast.If(test, code or [ast.Pass()], chain)]
        first = handlers[0]
        self.line = first.lineno
        program = self.context.program_ref()
        conversion = ast.Assign([ast.Name(caught, ast.Store())],
                                ast.Call(convert, [program, ast.Name(caught, ast.Load())], []))
        return [ast.ExceptHandler(ast.Name("BaseException", ast.Load()), caught,
                                  [conversion] + chain)]

    def stmt_Raise(self, node):
        if node.exc is None and self.handling:
            # in a handler: what it caught, raised again
            self.emit(ast.Raise(ast.Name(self.handling[-1], ast.Load()), None))
            return "return"
        if node.exc is None:
            raise self.unsupported("a bare raise outside an except clause", node=node)
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
        self.materialize_lists(body + orelse)
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
        branch_moves = [[] for _ in flowing]
        names = set().union(*(env.keys() for env, _, _ in flowing))
        for name in sorted(names):
            values = [env.get(name) for env, _, _ in flowing]
            first = values[0]
            if all(_same(first, v) for v in values[1:]):
                merged[name] = first
                continue
            # a move must not read a variable some path left unset (imperatively, only a
            # read of it raises): such a variable is the one all paths then write
            unset = {v.expr.id for v in values if isinstance(v, Dynamic)
                     and isinstance(v.expr, ast.Name)
                     and v.expr.id in frame.unbound_on_some_paths}
            if len(unset) > 1:
                raise self.unsupported(f"{name!r}, which branches leave unset on different "
                                       "paths and then merge")
            previous = before.get(name)
            target = (unset.pop() if unset else
                      previous.expr.id if isinstance(previous, Dynamic)
                      and isinstance(previous.expr, ast.Name) and previous.expr.id in frame.owned
                      and not self.aliased(previous.expr.id, name, before)
                      else None)
            if target is None:
                target = self.context.namer.fresh(name)
                frame.owned.add(target)
            if any(v is None for v in values) or target in frame.unbound_on_some_paths:
                self.may_be_unbound(target)
            kinds = {v.kind if isinstance(v, Dynamic) else ANY for v in values if v is not None}
            run_time_kinds = {v.kind for v in values if isinstance(v, Dynamic)}
            if NUMPY in run_time_kinds and len(run_time_kinds) > 1:
                raise self.unsupported(f"{name!r}, a plain numpy array on one path and another "
                                       "value on another (they print and update differently)")
            for moves, value in zip(branch_moves, values):
                if value is not None and not _is_name(value, target):
                    moves.append((target, self.expr_of(value)))
            # a plain numpy value or a constant (a number): shown and updated as Python does
            merged[name] = Dynamic(ast.Name(target, ast.Load()), ARRAY if kinds == {ARRAY}
                                   else NUMPY if run_time_kinds == {NUMPY} else ANY)
        for (_, emitted, _), moves in zip(flowing, branch_moves):
            self.bodies.append(emitted)
            self.emit_moves(moves)
            self.bodies.pop()
        frame.env = merged

    def stmt_For(self, node):
        iterable = self.expr(node.iter)
        items = self.static_items(iterable)
        # a long loop over numbers runs as a loop; one over blocks or other objects (a
        # Sequential of 2000 layers) has bodies that only unrolling can inline
        if items is not None and (len(items) <= MAX_UNROLL or not all(
                isinstance(i, Static) and is_literal(i.value) for i in items)):
            self.pending_items.append(Seq(items, tuple))
            try:
                for item in items:
                    self.assign(node.target, item)
                    ending = self.block(node.body)
                    if ending == "break":
                        return None
                    if ending == "return":
                        return "return"
            finally:
                self.pending_items.pop()
            return self.block(node.orelse)
        if isinstance(iterable, Dynamic) and iterable.is_array:
            return self.block([self.rows_loop(node, iterable)])
        return self.dynamic_loop(node, iterable, ANY)

    def rows_loop(self, node, array):
        """`for row in x` iterates as NDArray does, `x[i]` for i in range(len(x)), so rows
        have NDArray's shapes and the loop runs over range() (which the reverse pass replays)."""
        rows = f"_{self.context.namer.fresh('rows')}"
        index = f"_{self.context.namer.fresh('index')}"
        self.frame.env[rows] = self.as_name(array, "rows")
        self.frame.env.setdefault("range", Static(range))
        self.frame.env.setdefault("len", Static(len))
        located = lambda tree: ast.copy_location(tree, node)
        rows_load = located(ast.Name(rows, ast.Load()))
        count = located(ast.Call(located(ast.Name("len", ast.Load())), [rows_load], []))
        bind = located(ast.Assign([node.target], located(ast.Subscript(
            rows_load, located(ast.Name(index, ast.Load())), ast.Load()))))
        return located(ast.For(located(ast.Name(index, ast.Store())),
                               located(ast.Call(located(ast.Name("range", ast.Load())),
                                                [count], [])),
                               [bind] + node.body, node.orelse, None))

    def static_items(self, value):
        if isinstance(value, Seq):
            return list(value.items)
        if isinstance(value, Table):
            return [Static(key) for key in value.items]
        if isinstance(value, Static):
            try:
                return [Static(v) for v in value.value]
            except TypeError:
                raise self.compile_error(f"cannot iterate over {describe(value)}") from None
        return None

    def stmt_While(self, node):
        for _ in range(MAX_UNROLL):
            test, emitted = self.probe(node.test)
            if not is_static(test):
                # evaluated in the loop's own header or body from here: once per pass, as
                # Python evaluates it
                break
            self.bodies[-1].extend(emitted)
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
        self.materialize_lists(node.body)
        assigned = set(toolkit.assigned_names(node.body))
        if isinstance(node, ast.For):
            assigned |= set(toolkit.assigned_names([node.target]))
        # names the body binds first are carried too, unbound until a pass binds them: a
        # read before that raises UnboundLocalError (as after a loop that ran no pass), a
        # read in a later pass sees the earlier pass's value
        carried = self.carry({n for n in assigned if n in frame.env}
                             | (_bound_names(node.body) - set(frame.env)))
        # unset before the loop: still so after it, if it ran no pass
        unset_before = [i for i in carried.values() if i in frame.unbound_on_some_paths]
        body_code = []
        frame.loop_carried.append(carried)
        frame.dynamic_depth += 1
        self.bodies.append(body_code)
        try:
            if isinstance(node, ast.For):
                target = self.loop_target(node.target, target_kind)
                iterator = self.expr_of(iterable)
            else:
                # with the carried variables as the loop sees them (a counter is a run-time
                # value now): a test that then needs statements moves into the body
                test, emitted = self.probe(node.test)
                if emitted:
                    raise _TestNeedsStatements()
            ending = self.block(node.body)
            if ending == "return":
                raise self.unsupported("return inside a loop over run-time values", node=node)
            if ending is None:
                self.reconcile(carried)
        except _TestNeedsStatements:
            test_in_body = True
        else:
            test_in_body = False
        finally:
            self.bodies.pop()
            frame.dynamic_depth -= 1
            frame.loop_carried.pop()
        for identifier in unset_before:
            self.may_be_unbound(identifier)
        if test_in_body:
            return self.block(self.with_test_in_body(node))
        for name, identifier in carried.items():
            value = frame.env.get(name)
            kind = value.kind if isinstance(value, Dynamic) else ANY
            frame.env[name] = Dynamic(ast.Name(identifier, ast.Load()), kind)
        self.line = line
        if isinstance(node, ast.For):
            self.emit(ast.For(target, iterator, body_code or [ast.Pass()], []))
        else:
            self.emit(ast.While(self.condition(test), body_code or [ast.Pass()], []))
        # a loop that breaks was rewritten with flags (loop_exits): this one's else always runs
        return self.block(node.orelse)

    def probe(self, test):
        """(value of `test`, the statements evaluating it emits), emitted nowhere yet: a
        `while` header cannot hold statements (`and`/`or` or a ternary on arrays, a block
        call), and a test evaluated at run time must not also run here."""
        scratch = []
        self.bodies.append(scratch)
        saved = dict(self.frame.env)
        try:
            value = self.expr(test)
        finally:
            self.bodies.pop()
        if not is_static(value):
            self.frame.env = saved
        return value, scratch

    def with_test_in_body(self, node):
        """`while test: body` as `going = test; while going: body; going = test`: the
        test's statements run where Python evaluates it, before each pass and after the last."""
        going = f"while.{self.context.namer.fresh('going')}"
        located = lambda statement: ast.copy_location(statement, node)   # its line, node's
        evaluate = lambda: located(ast.Assign([ast.Name(going, ast.Store())],
                                              copy.deepcopy(node.test)))
        return [evaluate(), located(ast.While(ast.Name(going, ast.Load()),
                                              node.body + [evaluate()], []))]

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
        moves = []
        for name, identifier in carried.items():
            value = env.get(name)
            if value is not None and not _is_name(value, identifier):
                moves.append((identifier, self.expr_of(value)))
                kind = value.kind if isinstance(value, Dynamic) else ANY
                env[name] = Dynamic(ast.Name(identifier, ast.Load()), kind)
        self.emit_moves(moves)

    def emit_moves(self, moves):
        """Assign each (identifier, expression) pair as one parallel assignment would: every
        expression reads the values from before any of the assignments. Moves are ordered so
        that none overwrites a name a later one reads; a cycle (`h, c = c, h`) is emitted as
        one tuple assignment, which Python evaluates right side first."""
        pending = list(moves)
        while pending:
            for index, (identifier, expr) in enumerate(pending):
                if not any(identifier in _names_read(other)
                           for j, (_, other) in enumerate(pending) if j != index):
                    self.emit(ast.Assign([ast.Name(identifier, ast.Store())], expr))
                    del pending[index]
                    break
            else:
                self.emit(ast.Assign(
                    [ast.Tuple([ast.Name(i, ast.Store()) for i, _ in pending], ast.Store())],
                    ast.Tuple([e for _, e in pending], ast.Load())))
                return

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


def _non_suppressing_managers():
    """Context managers that never swallow an exception of their body."""
    return (autograd.pause, autograd.train_mode, autograd.predict_mode, autograd.record,
            warnings.catch_warnings, np.errstate)


class _TestNeedsStatements(Exception):
    """A run-time while test needs statements: the loop is built again with the test in its
    body (Specializer.with_test_in_body)."""


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
    if isinstance(a, Table) and isinstance(b, Table):
        return list(a.items) == list(b.items) and all(map(_same, a.items.values(),
                                                          b.items.values()))
    return False


def _reads_name(value, identifier, seen=None):
    if isinstance(value, Dynamic):
        return any(isinstance(n, ast.Name) and n.id == identifier for n in ast.walk(value.expr))
    if isinstance(value, (Seq, Table)):
        seen = set() if seen is None else seen
        if id(value) in seen:
            return False
        seen.add(id(value))
        items = value.items.values() if isinstance(value, Table) else value.items
        return any(_reads_name(item, identifier, seen) for item in items)
    return False


def _is_name(value, identifier):
    return isinstance(value, Dynamic) and isinstance(value.expr, ast.Name) \
        and value.expr.id == identifier


def _names_read(expr):
    return {node.id for node in ast.walk(expr) if isinstance(node, ast.Name)}


def _local_names(function):
    """The names local to a function by Python's rules: its parameters and every name its
    own statements bind."""
    arguments = function.args
    names = {a.arg for a in arguments.args + arguments.posonlyargs + arguments.kwonlyargs}
    names |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    return names | _bound_names(function.body)


def _bound_names(statements):
    """The names statements bind (assignments, loop targets, def, import, except ... as),
    not those bound inside nested functions or comprehensions."""
    names = set()
    pending = list(statements)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            pending.extend(node.decorator_list)
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        pending.extend(ast.iter_child_nodes(node))
    return names


def _mutated_names(statements):
    """Names whose value a statement may change in place (`outs.append(y)`, `outs += [y]`)."""
    names = set()
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.attr in MUTATORS:
                names.add(node.func.value.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)     # `items += more` extends a list in place
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) \
                    and isinstance(node.value, ast.Name):
                names.add(node.value.id)      # `items[i] = v`
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
