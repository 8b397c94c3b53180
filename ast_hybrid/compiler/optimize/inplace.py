"""In-place element-wise work on dead temporaries: an element-wise result overwrites an operand
that the program itself just allocated, that nothing else refers to and that is dead afterwards.

- relu of such a temporary: `a = relu(t, out=t)`;
- a unary ufunc kernel (tanh, exp, sqrt, ...; also Activation once specialized) and sigmoid:
  `a = tanh_in_place(t, out=t)`, which computes `tanh(t, out=t, casting='no')`: numpy refuses
  it (TypeError, before writing anything) unless the result has the temporary's dtype, and
  the refusal falls back to `tanh(t)`;
- `a = l + r` (also -, *, /) where l or r is such a temporary: `a = add_in_place(l, r, out=t)`,
  which computes `add(l, r, out=t, casting='no')`, falling back to `l + r` when numpy refuses:
  a dtype that differs (float32 with float64, an integer division) is a TypeError, an operand
  that would broadcast the temporary to a larger shape a ValueError, both raised before any
  write. The dtypes are known only when the program runs, so the choice is the helper's; the
  program reads as one call (its `in_place_of` tells operator_errors what it computes);
- clip of such a temporary (MobileNet's relu6): `a = clip_in_place(t, a_min=.., a_max=.., out=t)`,
  which clips in t when it is a float array and calls the kernel otherwise;
- a unary kernel of an anonymous temporary, `h = tanh(a + b)`, becomes `h = a + b` (itself in
  place where it can be) followed by the in-place `tanh` of h.

A temporary qualifies when its last assignment in the same statement run was an allocating
kernel or arithmetic (a fresh value), nothing read or rebound it since, it is not an argument of
the program, the statement reads it once, and liveness says no path reads it afterwards.
"""
import ast
import functools
import operator

import numpy as np

from ... import ops
from ..origins import spread
from ..toolkit import assign as _assign, name as _name
from ...ops.elemwise import _check_clip_bounds, _clip, _sigmoid
from .analysis import Liveness, blocks, kernel_op, names_read, names_stored, nodes

# operators whose kernels always return an array no other value shares memory with
FRESH = {"FullyConnected", "Convolution", "Activation", "relu", "Pooling", "sigmoid", "clip"}

BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide}
_PYTHON_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                     ast.Div: operator.truediv}


@functools.cache
def binary_in_place(op):
    """The helper computing `left op right` (op: an ast operator class) into `out`, one of
    them, where numpy can without changing the result; else as Python's operator does."""
    ufunc, python_operator = BINARY[op], _PYTHON_OPERATORS[op]

    def in_place(left, right, out):
        try:
            return ufunc(left, right, out=out, casting="no")
        except (TypeError, ValueError):
            return python_operator(left, right)
    in_place.__name__ = f"{ufunc.__name__}_in_place"
    in_place.in_place_of = op
    return in_place


def unary_in_place(kernel):
    """The helper computing `kernel(x)` (a unary ufunc kernel) into `out` where numpy can
    keep the dtype; else `kernel(x)`."""
    def in_place(x, out):
        try:
            return kernel(x, out=out, casting="no")
        except TypeError:
            return kernel(x)
    in_place.__name__ = f"{kernel.__name__}_in_place"
    in_place.in_place_of = kernel
    return in_place


def sigmoid_in_place(x):
    """_sigmoid(x) computed in x itself (a dead temporary) when x is a float array: the same
    operations in the same order and dtype, without the three intermediate arrays."""
    if x.__class__ is np.ndarray and x.dtype.kind == "f" and x.flags.writeable:
        np.negative(x, out=x)
        np.exp(x, out=x)
        np.add(x, 1.0, out=x)
        return np.true_divide(1.0, x, out=x)
    return _sigmoid(x)


def clip_in_place(x, *, a_min, a_max, out):
    """_clip(x) computed in x itself (a dead temporary) when x is a float array: the same
    bounds check and np.clip, without the new array."""
    if out is x and x.__class__ is np.ndarray and x.dtype.kind == "f" and x.flags.writeable:
        _check_clip_bounds(a_min, a_max, (x,))
        return np.clip(x, np.asarray(a_min, dtype=x.dtype), np.asarray(a_max, dtype=x.dtype),
                       out=x)
    return _clip(x, a_min=a_min, a_max=a_max)


def _simple_assign(statement):
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
            isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id
    return None


def _unary_kind(call, info):
    """'relu', 'ufunc', 'sigmoid' or 'clip' for a one-argument call of a kernel that can run
    in place."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and kernel_op(call, info) is not None and len(call.args) == 1
            and not isinstance(call.args[0], ast.Starred)):
        return None
    kernel = info.namespace.get(call.func.id)
    kernel = getattr(kernel, "__wrapped__", kernel)     # as declared, before fresh_outputs
    if call.keywords:
        if kernel is ops.get("clip").view_kernel and \
                sorted(k.arg for k in call.keywords) == ["a_max", "a_min"]:
            return "clip"
        return None
    if kernel is ops.get("relu").view_kernel:
        return "relu"
    if kernel is _sigmoid:
        return "sigmoid"
    if isinstance(kernel, np.ufunc) and kernel.nin == 1 and kernel.nout == 1:
        return "ufunc"
    return None


def _is_fresh(value, info):
    """Whether `value` always evaluates to a new object no other value refers to."""
    if isinstance(value, ast.BinOp) or (isinstance(value, ast.UnaryOp)
                                        and not isinstance(value.op, ast.Not)):
        return True          # arithmetic on arrays allocates (on scalars, nothing is written)
    op = kernel_op(value, info)
    if op is None:
        return False
    if any(k.arg == "out" for k in value.keywords):
        return False
    if op.name == "BatchNorm":       # data * scale + shift, unless output_mean_var adds two
        return not any(k.arg in (None, "output_mean_var") for k in value.keywords)
    return op.name in FRESH or isinstance(info.namespace.get(value.func.id), np.ufunc)


def _fresh_producer(statements, index, name, info):
    """Whether `name` was last assigned, earlier in this run, by a kernel that allocates or by
    arithmetic, and nothing read or rebound it since."""
    for j in range(index - 1, -1, -1):
        statement = statements[j]
        if _simple_assign(statement) == name:
            value = statement.value
            if _is_fresh(value, info):
                return True
            # relu(t, out=t) of a dead temporary t: its memory now belongs to `name` alone
            op = kernel_op(value, info)
            return op is not None and op.name in FRESH | {"BatchNorm"} and \
                name not in names_read(value)
        if name in names_read(statement) or name in names_stored(statement):
            return False
    return False


class _Rewriter:
    def __init__(self, info, liveness):
        self.info = info
        self.liveness = liveness
        self.ufunc_names = {}
        self.unary_helpers = {}         # kernel -> its unary_in_place helper, one per program

    def ufunc_name(self, ufunc):
        """The program's name for a ufunc (or helper) this pass calls."""
        name = self.ufunc_names.get(ufunc)
        if name is None:
            name = self.ufunc_names[ufunc] = self.info.namer.fresh(ufunc.__name__)
            self.info.namespace[name] = ufunc
            self.info.pure_calls.add(name)
        return name

    def qualifies(self, expr, statement, statements, index):
        if not isinstance(expr, ast.Name):
            return False
        name = expr.id
        if name in self.info.arguments or name in self.liveness.after[id(statement)]:
            return False
        reads = sum(1 for n in nodes(statement.value) if n.__class__ is ast.Name and n.id == name)
        return reads == 1 and _fresh_producer(statements, index, name, self.info)

    def unary(self, target, call, kind, operand):
        """`target = K(operand)` overwriting operand."""
        func = call.func.id
        if kind == "relu":
            return _assign(target, ast.Call(_name(func), [_name(operand)],
                                            [ast.keyword("out", _name(operand))]))
        if kind == "sigmoid":
            return _assign(target, ast.Call(_name(self.ufunc_name(sigmoid_in_place)),
                                            [_name(operand)], []))
        if kind == "clip":
            return _assign(target, ast.Call(_name(self.ufunc_name(clip_in_place)),
                                            [_name(operand)],
                                            call.keywords + [ast.keyword("out", _name(operand))]))
        kernel = self.info.namespace[func]
        helper = self.unary_helpers.get(kernel)
        if helper is None:
            helper = self.unary_helpers[kernel] = unary_in_place(kernel)
        return _assign(target, ast.Call(_name(self.ufunc_name(helper)), [_name(operand)],
                                        [ast.keyword("out", _name(operand))]))

    def binary(self, target, binop, statement, statements, index):
        """The statements computing `target = l op r` into l or r, or None. The other operand,
        unless a name or a literal, is evaluated first into a fresh name: a kernel call stays
        a statement of its own, which static_alloc works on."""
        if type(binop.op) not in BINARY:
            return None
        for side in (binop.left, binop.right):
            if self.qualifies(side, statement, statements, index):
                break
        else:
            return None
        other = binop.right if side is binop.left else binop.left
        hoisted = []
        if not isinstance(other, (ast.Name, ast.Constant)):
            name = self.info.namer.fresh("operand")
            hoisted.append(_assign(name, other))
            other = _name(name)
        left, right = (side, other) if side is binop.left else (other, side)
        in_place = ast.Call(_name(self.ufunc_name(binary_in_place(type(binop.op)))),
                            [left, right], [ast.keyword("out", _name(side.id))])
        return hoisted + [_assign(target, in_place)]

    def statement(self, statement, statements, index):
        """The statements replacing `statement`, or None to keep it."""
        target = _simple_assign(statement)
        if target is None:
            return None
        value = statement.value
        if isinstance(value, ast.BinOp):
            return self.binary(target, value, statement, statements, index)
        kind = _unary_kind(value, self.info)
        if kind is None:
            return None
        (operand,) = value.args
        if self.qualifies(operand, statement, statements, index):
            return [self.unary(target, value, kind, operand.id)]
        if _is_fresh(operand, self.info):
            # an anonymous temporary: name it `target`, then overwrite it
            first = None
            if isinstance(operand, ast.BinOp):
                first = self.binary(target, operand, statement, statements, index)
            return (first or [_assign(target, operand)]) + [self.unary(target, value, kind, target)]
        return None


def transform(function_def, info):
    liveness = Liveness(function_def.body)
    rewriter = _Rewriter(info, liveness)
    for statements in list(blocks(function_def)):
        original = list(statements)
        rewritten = []
        for index, statement in enumerate(original):
            replacement = rewriter.statement(statement, original, index)
            rewritten.extend([statement] if replacement is None
                             else spread(statement, replacement))
        statements[:] = rewritten
    return function_def
