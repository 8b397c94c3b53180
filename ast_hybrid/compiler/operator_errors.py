"""The OpError imperative mode raises where a compiled program failed with another error.

A compiled program calls kernels without their shape rules and leaves Python's operators on
arrays to numpy, so inputs that do not fit fail there with numpy's error (`operands could not
be broadcast together ...`) where imperative mode raises the operator's own OpError. On the
error path only, this module finds the expression that failed in the generated source (from
the failing instruction's source position), works out the shapes of its operands from the
program frame's variables, nested operators by their shape rules, and applies the failing
operator's rule. No kernel runs again, so nothing random or stateful is repeated.

Everything evaluated before the failing expression succeeded, and a kernel refuses what its
rule refuses, so imperative mode would have reached that expression as well: where its rule
refuses the operands, that OpError is the one imperative mode raises. Whatever the analysis
cannot follow (an unknown callee, a value it cannot know) leaves the original error alone.
"""
import ast
import builtins
import functools
import operator

import numpy as np

from .. import ops
from ..ops.indexing_plan import plan_getitem
from ..ops.python_operators import BINARY_METHODS, is_scalar, resolve_binary

# Python's operators on arrays, by the NDArray method imperative mode calls for them
_SPECIAL_METHODS = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__",
                    ast.Div: "__truediv__", ast.Mod: "__mod__", ast.Pow: "__pow__",
                    ast.Eq: "__eq__", ast.NotEq: "__ne__", ast.Gt: "__gt__",
                    ast.GtE: "__ge__", ast.Lt: "__lt__", ast.LtE: "__le__"}
_UNARY_OPERATORS = {ast.USub: "negative"}
# arithmetic on plain numbers (shapes and sizes computed in the program: `x.shape[0] * 2`)
_NUMBER_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                     ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
                     ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Gt: operator.gt,
                     ast.GtE: operator.ge, ast.Lt: operator.lt, ast.LtE: operator.le}
_NUMBER_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class _CannotFollow(Exception):
    """The analysis meets something it cannot know: the original error stands."""


class _Shaped:
    """An array known by its shape alone (no kernel is run to find its values)."""
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(shape)


def imperative_error(program, entry, error):
    """The OpError imperative mode raises instead of `error`, or None where it is the same
    error or unknown; `entry` is the traceback entry of the program's innermost frame."""
    if isinstance(error, ops.OpError):
        return None                  # raised by an operator's own check: already the one
    try:
        failing = _failing_expression(_parsed(program.source), entry)
        if failing is not None:
            _Shapes(entry.tb_frame).value(failing)
    except ops.OpError as refusal:
        return refusal
    except Exception:       # noqa: BLE001 (_CannotFollow, or a value no rule expects)
        pass                # the user's error must never give way to this analysis' own
    return None


@functools.lru_cache(maxsize=32)
def _parsed(source):
    return ast.parse(source)


def _failing_expression(module, entry):
    """The expression whose evaluation raised: found by the failing instruction's source
    position (Python 3.11+); without positions, the innermost statement on the failing line,
    whose operators are then checked in evaluation order (the first refusal is taken)."""
    position = _instruction_position(entry)
    if position is not None:
        for node in ast.walk(module):
            if isinstance(node, (ast.expr, ast.AugAssign)) and _position(node) == position:
                return node
        return None
    return _checked_part(_innermost_statement(module, entry.tb_lineno))


def _instruction_position(entry):
    """(line, end line, column, end column) of the instruction that raised, or None."""
    code = entry.tb_frame.f_code
    if not hasattr(code, "co_positions"):          # before Python 3.11
        return None
    positions = list(code.co_positions())
    index = entry.tb_lasti // 2                     # one position per 2-byte code unit
    if not 0 <= index < len(positions) or None in positions[index]:
        return None
    return positions[index]


def _position(node):
    return (node.lineno, node.end_lineno, node.col_offset, node.end_col_offset)


def _innermost_statement(module, lineno):
    containing = [node for node in ast.walk(module) if isinstance(node, ast.stmt)
                  and node.lineno <= lineno <= node.end_lineno]
    return min(containing, key=lambda node: node.end_lineno - node.lineno, default=None)


def _checked_part(statement):
    """The part of a statement evaluated on its first line (a compound statement's header)."""
    if isinstance(statement, ast.AugAssign):
        return statement
    if isinstance(statement, (ast.Assign, ast.Expr, ast.Return)):
        return statement.value
    if isinstance(statement, (ast.If, ast.While)):
        return statement.test
    if isinstance(statement, ast.For):
        return statement.iter
    return None


def _operator_of(function):
    """The operator whose kernel `function` is (the first declared where operators share a
    kernel), or None: a call of anything else is not an operator application."""
    return next((op for op in ops.REGISTRY.values()
                 if function is op.kernel or function is op.view_kernel), None)


class _Shapes:
    """Evaluates an expression of a generated program to concrete values and _Shaped arrays,
    applying the shape rule of every operator on the way (in Python's evaluation order)."""

    def __init__(self, frame):
        self.frame = frame

    def value(self, node):
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise _CannotFollow(type(node).__name__)
        return method(node)

    # ----- names and literals
    def _Name(self, node):
        for scope in (self.frame.f_locals, self.frame.f_globals, vars(builtins)):
            if node.id in scope:
                value = scope[node.id]
                return _Shaped(value.shape) if isinstance(value, np.ndarray) else value
        raise _CannotFollow(node.id)

    def _Constant(self, node):
        return node.value

    def _Tuple(self, node):
        return tuple(self.value(item) for item in node.elts)

    def _List(self, node):
        return [self.value(item) for item in node.elts]

    def _Slice(self, node):
        return slice(*(None if part is None else self.value(part)
                       for part in (node.lower, node.upper, node.step)))

    # ----- operators
    def _BinOp(self, node):
        return self._binary(node.op, self.value(node.left), self.value(node.right))

    def _AugAssign(self, node):
        if not isinstance(node.target, ast.Name):
            raise _CannotFollow("augmented assignment to " + type(node.target).__name__)
        return self._binary(node.op, self._Name(node.target), self.value(node.value))

    def _Compare(self, node):
        if len(node.ops) != 1:
            raise _CannotFollow("a chained comparison")
        return self._binary(node.ops[0], self.value(node.left), self.value(node.comparators[0]))

    def _UnaryOp(self, node):
        operand = self.value(node.operand)
        if isinstance(operand, _Shaped):
            if isinstance(node.op, ast.UAdd):
                return operand
            if type(node.op) in _UNARY_OPERATORS:
                return _apply(ops.get(_UNARY_OPERATORS[type(node.op)]), [operand], {})
        elif _is_number(operand) and type(node.op) in _NUMBER_UNARY:
            return _NUMBER_UNARY[type(node.op)](operand)
        raise _CannotFollow(type(node.op).__name__)

    def _binary(self, op, lhs, rhs):
        if isinstance(lhs, _Shaped) or isinstance(rhs, _Shaped):
            special = _SPECIAL_METHODS.get(type(op))
            if special is None or not all(isinstance(v, _Shaped) or is_scalar(v)
                                          for v in (lhs, rhs)):
                raise _CannotFollow(type(op).__name__)
            name, inputs, attrs = resolve_binary(BINARY_METHODS[special][0], lhs, rhs)
            return _apply(ops.get(name), inputs, attrs)
        if _is_number(lhs) and _is_number(rhs) and type(op) in _NUMBER_OPERATORS:
            try:
                return _NUMBER_OPERATORS[type(op)](lhs, rhs)
            except ArithmeticError:
                raise _CannotFollow("arithmetic error") from None
        raise _CannotFollow(type(op).__name__)

    # ----- attributes, indexing, calls
    def _Attribute(self, node):
        base = self.value(node.value)
        if isinstance(base, _Shaped):
            if node.attr == "shape":
                return base.shape
            if node.attr == "ndim":
                return len(base.shape)
            if node.attr == "size":
                return int(np.prod(base.shape, dtype=np.int64))
            if node.attr == "T":
                return _apply(ops.get("transpose"), [base], {})
        raise _CannotFollow("attribute " + node.attr)

    def _Subscript(self, node):
        base, key = self.value(node.value), self.value(node.slice)
        if isinstance(base, _Shaped):
            return _getitem(base, key)
        if isinstance(base, (tuple, list)) and isinstance(key, (int, slice)):
            try:
                return base[key]
            except IndexError:
                raise _CannotFollow("index out of range") from None
        raise _CannotFollow("indexing " + type(base).__name__)

    def _IfExp(self, node):
        test = self.value(node.test)
        if not isinstance(test, (bool, int)):
            raise _CannotFollow("a condition on " + type(test).__name__)
        return self.value(node.body if test else node.orelse)

    def _Call(self, node):
        function = self.value(node.func)
        if any(isinstance(a, ast.Starred) for a in node.args) or \
                any(k.arg is None for k in node.keywords):
            raise _CannotFollow("*args or **kwargs")
        args = [self.value(a) for a in node.args]
        keywords = {k.arg: self.value(k.value) for k in node.keywords}
        # an in-place helper of optimize/inplace.py computes its `in_place_of`: an operator
        # of Python's on its two arguments, or a kernel on its one
        computed = getattr(function, "in_place_of", None)
        if isinstance(computed, type) and issubclass(computed, ast.operator):
            return self._binary(computed(), args[0], args[1])
        if computed is not None:
            function, keywords = computed, {}
        op = _operator_of(function)
        if op is not None:
            return _apply(op, args, {k: v for k, v in keywords.items() if k in op.attrs})
        if function is len and len(args) == 1 and isinstance(args[0], _Shaped) \
                and args[0].shape:
            return args[0].shape[0]
        raise _CannotFollow("a call of " + getattr(function, "__name__", "a function"))


def _is_number(value):
    return isinstance(value, (int, float, np.number))


def _apply(op, inputs, raw_attrs):
    """The outputs of `op` on these inputs as imperative mode finds them: attributes parsed
    (run-time values too), the shape rule applied; either raises the operator's OpError."""
    if not all(isinstance(x, _Shaped) for x in inputs) or \
            any(isinstance(v, _Shaped) for v in raw_attrs.values()):
        raise _CannotFollow(f"{op.name}: inputs that are not arrays")
    if op.inputs == ops.VARIADIC:
        raw_attrs = {"num_args": len(inputs), **raw_attrs}
    attrs = op.parse_attrs(raw_attrs)
    _, out_shapes = op.infer_shape(attrs, [x.shape for x in inputs])
    outputs = tuple(_Shaped(shape) for shape in out_shapes)
    return outputs if op.output_count(attrs) > 1 else outputs[0]


def _getitem(array, key):
    """x[key] as imperative mode computes it: a sequence of table operators."""
    try:
        plan = plan_getitem(key, len(array.shape))
    except (TypeError, IndexError):
        raise _CannotFollow("an index imperative mode refuses otherwise") from None
    for op_name, attrs, extra in plan:
        if extra:
            raise _CannotFollow("indexing with an array")
        array = _apply(ops.get(op_name), [array], attrs)
    return array
