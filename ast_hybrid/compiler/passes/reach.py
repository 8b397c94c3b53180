"""Which arguments of a program each of its outputs may, and must, be computed from through
operations that imperative mode records.

Imperative mode attaches an array to the autograd graph when an operator recorded it from an
input that needs a gradient; `asnumpy()`, `detach()`, `nd.array(...)`, shapes and plain
builtins leave the graph, and a constructor (`F.zeros`) has no input. A compiled block runs
as one recorded node, so it must attach exactly the outputs imperative mode would attach: an
output is attached when, whichever way the run goes, an argument it then surely comes from
needs a gradient, and left out of the graph when none of those it may come from does. Where
the two disagree for a call (an output that a run-time branch computes from the input or
from a constant), only imperative mode knows.

The analysis runs forward over the program backward programs derive from: a value is a
Reach of argument names (those it may come from, and for each way the run may go, those it
then surely comes from), or a Sequence of them for a tuple or list written out; branches
join, loops iterate to a fixed point, and everything a list grows by is joined into whatever
is read out of any list.
"""
import ast
import builtins
import dataclasses
import functools

import numpy as np

from .. import runtime
from .reverse import _PLAIN_ATTRIBUTES, callee_in, leaves_graph

_LIST_GROWERS = {"append", "extend", "insert"}


_MOST_ALTERNATIVES = 16
_MOST_ROUNDS = 64


@dataclasses.dataclass(frozen=True)
class Reach:
    """may: every argument the value may come from. musts: one set per way the run may go,
    of arguments the value then surely comes from (None: no value can be here, as for an
    element of an empty list)."""
    may: frozenset
    musts: frozenset = None


@dataclasses.dataclass(frozen=True)
class Sequence:
    items: tuple


NOTHING = Reach(frozenset(), frozenset([frozenset()]))
_EMPTY = Reach(frozenset(), None)


class _Unknown(Exception):
    """A construct the analysis does not follow: every output may come from anything."""


def _bounded(musts):
    """At most _MOST_ALTERNATIVES sets: past that, their intersection, which each contains."""
    if len(musts) <= _MOST_ALTERNATIVES:
        return frozenset(musts)
    return frozenset([frozenset.intersection(*musts)])


def join(a, b):
    if isinstance(a, Sequence) and isinstance(b, Sequence) and len(a.items) == len(b.items):
        return Sequence(tuple(join(x, y) for x, y in zip(a.items, b.items)))
    a, b = _collapse(a), _collapse(b)
    if a.musts is None or b.musts is None:
        return Reach(a.may | b.may, b.musts if a.musts is None else a.musts)
    return Reach(a.may | b.may, _bounded(a.musts | b.musts))


def _collapse(value):
    if isinstance(value, Reach):
        return value
    out = _EMPTY
    for item in value.items:
        out = join(out, item)
    return out


def _combine(values):
    """An operation recorded with these inputs: attached when any input is."""
    may, musts = frozenset(), frozenset([frozenset()])
    for value in values:
        value = _collapse(value)
        may |= value.may
        if value.musts is not None:     # None: an empty list, which adds nothing
            musts = _bounded({m | n for m in musts for n in value.musts})
    return Reach(may, musts)


class _Analysis:
    def __init__(self, function, kernel_ops, callee):
        self.kernel_ops = kernel_ops
        self.callee = callee
        self.arguments = [a.arg for a in function.args.args]
        self.grown = _EMPTY        # everything any list grew by
        self.returned = None

    def run(self, function):
        for _ in range(_MOST_ROUNDS):
            grown = self.grown
            self.returned = None
            state = {a: Reach(frozenset([a]), frozenset([frozenset([a])]))
                     for a in self.arguments}
            end = self.block(function.body, state)
            if end is not None:
                self.returned = join(self.returned, NOTHING) if self.returned else NOTHING
            if self.grown == grown:
                return self.returned
        raise _Unknown("lists whose reach does not settle")

    def read(self, value):
        """A value read out of a container, which any list growth may have put there."""
        return join(value, self.grown) if self.grown != _EMPTY else value

    # ----- statements
    def block(self, body, state):
        for statement in body:
            state = self.statement(statement, state)
            if state is None:
                return None
        return state

    def statement(self, node, state):
        if isinstance(node, ast.Assign):
            value = self.expr(node.value, state)
            state = dict(state)
            for target in node.targets:
                self.bind(target, value, state)
            return state
        if isinstance(node, ast.Return):
            value = self.expr(node.value, state) if node.value is not None else NOTHING
            self.returned = value if self.returned is None else join(self.returned, value)
            return None
        if isinstance(node, ast.If):
            return _join_states(self.block(node.body, dict(state)),
                                self.block(node.orelse, dict(state)))
        if isinstance(node, (ast.While, ast.For)):
            return self.loop(node, state)
        if isinstance(node, ast.Expr):
            self.effect(node.value, state)
            return state
        if isinstance(node, (ast.Pass, ast.Assert, ast.Raise)):
            return state if not isinstance(node, ast.Raise) else None
        raise _Unknown(type(node).__name__)

    def loop(self, node, state):
        head = state
        for _ in range(_MOST_ROUNDS):
            inner = dict(head)
            if isinstance(node, ast.For):
                self.bind(node.target, self.read(_collapse(self.expr(node.iter, head))), inner)
            end = self.block(node.body, inner)
            widened = _join_states(head, end)
            if widened == head:
                break
            head = widened
        else:
            raise _Unknown("a loop whose reach does not settle")
        if node.orelse:
            return _join_states(head, self.block(node.orelse, dict(head)))
        return head

    def bind(self, target, value, state):
        if isinstance(target, ast.Name):
            state[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, Sequence) and len(value.items) == len(target.elts) \
                    and not any(isinstance(t, ast.Starred) for t in target.elts):
                for t, v in zip(target.elts, value.items):
                    self.bind(t, v, state)
            else:
                for t in target.elts:
                    self.bind(t.value if isinstance(t, ast.Starred) else t,
                              self.read(_collapse(value)), state)
        else:
            raise _Unknown("a store into a container")

    def effect(self, call, state):
        if not isinstance(call, ast.Call):
            return
        function = call.func
        if isinstance(function, ast.Attribute) and function.attr in _LIST_GROWERS \
                and isinstance(function.value, ast.Name):
            added = [self.expr(a, state) for a in call.args]
            if function.attr == "extend":
                added = [_collapse(a) for a in added]
            for value in added[-1:]:
                self.grown = join(self.grown, _collapse(value))
                state[function.value.id] = join(_collapse(state.get(function.value.id, _EMPTY)),
                                                value)
            return
        if isinstance(function, ast.Name) and (function.id in self.kernel_ops
                                               or self.callee(function) is print):
            return
        if isinstance(function, ast.Name) and (self.callee(function) in runtime.GRAPH_EXITS
                                               or self.callee(function) is runtime.raise_error):
            return
        raise _Unknown("a call that may change its arguments")

    # ----- expressions
    def expr(self, node, state):
        if isinstance(node, ast.Name):
            if node.id in state:
                return state[node.id]
            # a constant of the program is outside the graph; an unbound variable has no
            # value (reading it raises)
            return NOTHING if self.callee(node) is not None else _EMPTY
        if isinstance(node, ast.Constant):
            return NOTHING
        if isinstance(node, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                return _combine(self.read(self.expr(e, state)) for e in node.elts)
            return Sequence(tuple(self.expr(e, state) for e in node.elts))
        if isinstance(node, ast.Starred):
            return self.read(_collapse(self.expr(node.value, state)))
        if isinstance(node, ast.Attribute):
            if node.attr in _PLAIN_ATTRIBUTES:
                return NOTHING
            return Reach(_collapse(self.expr(node.value, state)).may, NOTHING.musts)
        if isinstance(node, ast.Subscript):
            container = self.expr(node.value, state)
            index = node.slice
            if isinstance(container, Sequence) and isinstance(index, ast.Constant) \
                    and isinstance(index.value, int) \
                    and -len(container.items) <= index.value < len(container.items):
                return self.read(container.items[index.value])
            return self.read(_collapse(container))
        if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.IfExp)):
            operands = [self.expr(child, state) for child in ast.iter_child_nodes(node)
                        if isinstance(child, ast.expr)]
            if isinstance(node, (ast.BoolOp, ast.IfExp)):
                # the value is one of the operands (an IfExp's test is not among them)
                if isinstance(node, ast.IfExp):
                    operands = operands[1:]
                out = _EMPTY
                for operand in operands:
                    out = join(out, operand)
                return out
            return _combine(operands)
        if isinstance(node, ast.Call):
            return self.call(node, state)
        return self.unknown(node, state)

    def call(self, node, state):
        function = node.func
        target = self.callee(function)
        arguments = list(node.args) + [k.value for k in node.keywords]
        if isinstance(function, ast.Name) and function.id in self.kernel_ops \
                or target is runtime.getitem:
            return _combine(self.expr(a, state) for a in arguments)
        if target is builtins.sum:      # additions of the items, recorded imperatively
            return _combine(self.read(self.expr(a, state)) for a in arguments)
        if target is runtime.variadic:  # an operator of the list's items
            return _combine([self.read(self.expr(node.args[0], state))])
        if leaves_graph(node, self.callee, self.kernel_ops):
            return NOTHING
        return self.unknown(node, state)

    def unknown(self, node, state):
        """A value the analysis does not follow: it may come from any name it reads, and
        need not come from any."""
        may = frozenset()
        if isinstance(node, (ast.Call, ast.Compare, ast.JoinedStr, ast.FormattedValue,
                             ast.Dict, ast.Set)):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    may |= _collapse(self.read(self.expr(child, state))).may
                elif isinstance(child, ast.keyword):
                    may |= _collapse(self.read(self.expr(child.value, state))).may
        else:
            for name in ast.walk(node):
                if isinstance(name, ast.Name):
                    may |= _collapse(self.read(state.get(name.id, NOTHING))).may
        return Reach(may, NOTHING.musts)


def _join_states(a, b):
    if a is None or b is None:
        return b if a is None else a
    # a variable one path leaves unbound has no value there: reading it raises
    return {k: join(a.get(k, _EMPTY), b.get(k, _EMPTY)) for k in a.keys() | b.keys()}


class OutputReach:
    """What a program's result reaches. With `needs[i]` telling whether argument i needs a
    gradient, `decided(needs)` says whether imperative mode's choice is known for every
    array the program may return, and `attached(needs, result)` gives that choice for each
    array of a result (tuples and lists walked in order, as autograd sees them)."""

    def __init__(self, function, kernel_ops, namespace):
        analysis = _Analysis(function, kernel_ops, functools.partial(callee_in, namespace))
        position = {a: i for i, a in enumerate(analysis.arguments)}
        try:
            self._result = _mapped(analysis.run(function), analysis.read, position)
        except _Unknown:
            self._result = Reach(frozenset(position.values()), NOTHING.musts)

    def decided(self, needs):
        return all(_attached(reach, needs) is not None for reach in _reaches(self._result))

    def attached(self, needs, result):
        if isinstance(self._result, Reach) and isinstance(result, np.ndarray):
            return [_attached(self._result, needs)]     # the common case: one array
        out = []
        _walk(self._result, result, needs, out)
        return out


def _mapped(value, read, position):
    if isinstance(value, Sequence):
        return Sequence(tuple(_mapped(v, read, position) for v in value.items))
    value = _collapse(read(value))
    musts = value.musts if value.musts is not None else NOTHING.musts
    return Reach(frozenset(position[a] for a in value.may),
                 frozenset(frozenset(position[a] for a in must) for must in musts))


def _reaches(value):
    if isinstance(value, Sequence):
        for item in value.items:
            yield from _reaches(item)
    else:
        yield value


def _walk(value, result, needs, out):
    if isinstance(result, (tuple, list)):
        if isinstance(value, Sequence) and len(value.items) == len(result):
            for v, r in zip(value.items, result):
                _walk(v, r, needs, out)
        else:
            for r in result:
                _walk(_collapse(value), r, needs, out)
    elif isinstance(result, np.ndarray):
        out.append(_attached(_collapse(value), needs))


def _attached(reach, needs):
    if all(any(needs[i] for i in must) for must in reach.musts):
        return True
    if not any(needs[i] for i in reach.may):
        return False
    return None
