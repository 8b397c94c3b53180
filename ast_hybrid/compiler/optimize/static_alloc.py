"""hybridize(static_alloc=True): internal temporaries reuse their buffers from call to call.

A kernel call `t = fully_connected(a, w, b)` becomes a call of a per-site function that holds
the site's last result and computes into it (`np.dot(..., out=buffer)`) when it has the shape
and dtype this call needs; numpy refuses any other buffer (ValueError, before writing), and the
site then allocates afresh and keeps the new array. The buffers live in the program's namespace,
so with the compiled entry that holds the program.

A site qualifies only where reusing its buffer cannot be observed:
- it runs at most once per call (it is not inside a loop), so within a call its buffer holds
  only this call's value, and the previous call's value is overwritten only by the next call;
- no value that may refer to its buffer escapes the call: a forward analysis over the program
  follows every name that may share the site's memory (views, `out=` results, containers) and
  rejects the site if any of them is returned, handed to a function that is not a kernel, a
  random or stateful kernel, stored into a container or attribute, or raised;
- inputs and parameters are never written: only the site's own buffer is.

Programs that record gradients derive from the unoptimized definition, so this is forward-only.
Each thread has its own buffers, so calls of one program from several threads at once are
correct (MXNet's static_alloc shares them).
"""
import ast
import threading

import numpy as np

from ...ops.nn import fully_connected, fully_connected_nd
from .analysis import is_random_or_stateful, kernel_op, names_read
from .inplace import _is_fresh


def _fully_connected_site(flatten):
    """A fully_connected kernel that computes into the buffer its previous call in this
    thread returned; whatever that buffer cannot take (a first call, another shape or dtype,
    inputs that do not fit) goes to the table's kernel, which checks its inputs as
    imperative mode does."""
    kept = threading.local()    # one buffer per thread: threads calling one block never share
    kernel = fully_connected if flatten else fully_connected_nd

    def fully_connected_static(data, weight, bias=None):
        buffer = getattr(kept, "buffer", None)
        if buffer is not None and (bias is None or bias.shape == buffer.shape[-1:]):
            rows = data.reshape(data.shape[0], -1) if flatten and data.ndim != 2 else data
            try:
                out = np.dot(rows, weight.T, out=buffer)
            except ValueError:      # numpy refuses before writing anything
                out = None
            if out is not None:
                if bias is not None:
                    out += bias
                return out
        kept.buffer = kernel(data, weight, bias)
        return kept.buffer
    return fully_connected_static


FACTORIES = {id(fully_connected): lambda: _fully_connected_site(True),
             id(fully_connected_nd): lambda: _fully_connected_site(False)}

_EMPTY = frozenset()


def _join(a, b):
    if a is b:
        return a
    joined = dict(a)
    for name, refs in b.items():
        joined[name] = joined.get(name, _EMPTY) | refs
    return joined


class _Escapes:
    """Forward analysis: which sites each name's value may refer to, and which sites escape."""

    def __init__(self, info, sites):
        self.info = info
        self.sites = sites                  # id(statement) -> site identifier
        self.escaped = set()

    # ----------------------------------------------------------------- values
    def known(self, call):
        return isinstance(call.func, ast.Name) and (
            call.func.id in self.info.kernel_ops or call.func.id in self.info.pure_calls)

    def may_be_sequence(self, expr):
        """Whether `expr` may be a tuple or list (whose `+` and `*` keep references)."""
        if isinstance(expr, (ast.Constant, ast.UnaryOp, ast.Compare)):
            return False
        if isinstance(expr, ast.Name):
            return expr.id in self.sequences
        if isinstance(expr, ast.Call) and self.known(expr):
            if expr.func.id in self.info.pure_calls:
                return False
            op = self.info.kernel_ops[expr.func.id]
            return not (op.num_outputs == 1 or _is_fresh(expr, self.info))
        if isinstance(expr, ast.BinOp):
            return self.may_be_sequence(expr.left) or self.may_be_sequence(expr.right)
        return True

    def refs(self, expr, state):
        """The sites the value of `expr` may refer to (share memory with or contain)."""
        if expr is None or isinstance(expr, ast.Constant):
            return _EMPTY
        if isinstance(expr, ast.Name):
            return state.get(expr.id, _EMPTY)
        if isinstance(expr, ast.Call) and self.known(expr):
            out = [k.value for k in expr.keywords if k.arg == "out"]
            if out:
                return self.refs(out[0], state)
            if _is_fresh(expr, self.info):
                return _EMPTY
        elif isinstance(expr, ast.BinOp):
            # arithmetic allocates, unless it concatenates or repeats sequences
            return frozenset().union(*(self.refs(side, state) for side in (expr.left, expr.right)
                                       if self.may_be_sequence(side)))
        elif isinstance(expr, (ast.UnaryOp, ast.Compare)):
            return _EMPTY
        return frozenset().union(*(state.get(n, _EMPTY) for n in names_read(expr)))

    def escape(self, expr, state):
        self.escaped |= self.refs(expr, state)

    def calls(self, node, state):
        """Arguments of calls that might keep them escape."""
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            op = kernel_op(call, self.info)
            if not self.known(call) or (op is not None and is_random_or_stateful(op)):
                self.escaped |= frozenset().union(
                    *(state.get(n, _EMPTY) for n in names_read(call)))

    # ------------------------------------------------------------- statements
    def block(self, statements, state):
        """(state after the block, the join of the states at every point of it)."""
        seen = state
        for statement in statements:
            state, inner = self.statement(statement, state)
            seen = _join(_join(seen, inner), state)
        return state, seen

    def loop(self, body, state, head):
        entry = state
        while True:
            self.calls(head, entry)
            _, seen = self.block(body, entry)
            new = _join(entry, seen)
            if new == entry:
                return entry, entry
            entry = new

    def statement(self, s, state):
        if isinstance(s, ast.Assign):
            self.calls(s.value, state)
            site = self.sites.get(id(s))
            refs = frozenset([site]) if site is not None else self.refs(s.value, state)
            state = dict(state)
            for target in s.targets:
                if isinstance(target, ast.Name):
                    state[target.id] = refs
                    if self.may_be_sequence(s.value):
                        self.sequences.add(target.id)
                elif isinstance(target, (ast.Tuple, ast.List)) and all(
                        isinstance(e, ast.Name) for e in target.elts):
                    for element in target.elts:
                        state[element.id] = refs
                        self.sequences.add(element.id)
                else:                        # stored into a container or an attribute
                    self.escaped |= refs
                    self.escape(target, state)
            return state, state
        if isinstance(s, ast.AugAssign):
            self.calls(s.value, state)
            if isinstance(s.target, ast.Name):
                state = dict(state)
                state[s.target.id] = state.get(s.target.id, _EMPTY) | frozenset().union(
                    *(state.get(n, _EMPTY) for n in names_read(s.value)))
                self.sequences.add(s.target.id)
            else:
                self.escape(s, state)
            return state, state
        if isinstance(s, ast.Return):
            if s.value is not None:
                self.calls(s.value, state)
                self.escaped |= frozenset().union(
                    *(state.get(n, _EMPTY) for n in names_read(s.value)))
            return state, state
        if isinstance(s, ast.Expr):
            self.calls(s.value, state)
            return state, state
        if isinstance(s, ast.If):
            self.calls(s.test, state)
            body, seen_body = self.block(s.body, state)
            orelse, seen_else = self.block(s.orelse, state)
            return _join(body, orelse), _join(seen_body, seen_else)
        if isinstance(s, (ast.For, ast.While)):
            head = s.iter if isinstance(s, ast.For) else s.test
            if isinstance(s, ast.For):
                refs = self.refs(s.iter, state) | frozenset().union(
                    *(state.get(n, _EMPTY) for n in names_read(s.iter)))
                state = dict(state)
                for name in (n.id for n in ast.walk(s.target) if isinstance(n, ast.Name)):
                    state[name] = state.get(name, _EMPTY) | refs
                    self.sequences.add(name)
            entry, seen = self.loop(s.body, state, head)
            after, seen_else = self.block(s.orelse, entry)
            return _join(entry, after), _join(seen, seen_else)
        if isinstance(s, ast.Try):
            body, seen = self.block(s.body, state)
            handled = _join(state, seen)
            for handler in s.handlers:
                end, inner = self.block(handler.body, handled)
                body, seen = _join(body, end), _join(seen, inner)
            body, inner = self.block(s.orelse + s.finalbody, body)
            return body, _join(seen, inner)
        if isinstance(s, (ast.Pass, ast.Break, ast.Continue)):
            return state, state
        # anything else (raise, assert, del, with, ...): what it mentions escapes
        self.escaped |= frozenset().union(*(state.get(n, _EMPTY) for n in names_read(s)))
        return state, state

    def run(self, body):
        self.sequences = set()
        while True:                 # `sequences` only grows; rerun until it is stable
            before = len(self.sequences)
            self.escaped = set()
            self.block(body, {})
            if len(self.sequences) == before:
                return self.escaped



def _sites(statements, info, in_loop, found):
    for statement in statements:
        if isinstance(statement, ast.Assign) and not in_loop and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) \
                and isinstance(statement.value, ast.Call) \
                and isinstance(statement.value.func, ast.Name) \
                and statement.value.func.id in info.kernel_ops \
                and id(info.namespace.get(statement.value.func.id)) in FACTORIES \
                and not statement.value.keywords \
                and not any(isinstance(a, ast.Starred) for a in statement.value.args):
            found[id(statement)] = statement
        loop = in_loop or isinstance(statement, (ast.For, ast.While))
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(statement, name, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                _sites(inner, info, loop, found)
        for handler in getattr(statement, "handlers", ()):
            _sites(handler.body, info, loop, found)
    return found


def transform(function_def, info):
    if info.options is None or not getattr(info.options, "static_alloc", False):
        return function_def
    sites = _sites(function_def.body, info, False, {})
    if not sites:
        return function_def
    escaped = _Escapes(info, {key: key for key in sites}).run(function_def.body)
    for key, statement in sites.items():
        if key in escaped:
            continue
        call = statement.value
        kernel = info.namespace[call.func.id]
        name = info.namer.fresh(f"{getattr(kernel, '__name__', 'kernel')}_static")
        info.namespace[name] = FACTORIES[id(kernel)]()
        info.kernel_ops[name] = info.kernel_ops[call.func.id]
        call.func = ast.Name(name, ast.Load())
    return function_def
