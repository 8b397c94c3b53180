"""Lowering: operator applications on run-time arrays become direct kernel calls on numpy arrays.

`F.op(...)`, NDArray methods (`x.sum(axis=1)`), comparisons and `F.maximum(x, 0)` all end up as
a call of the operator table's kernel with literal attributes; arithmetic stays Python's own
operators, which numpy arrays implement with the same broadcasting as NDArray.
"""
import ast
import inspect

import numpy as np

from ... import ops
from ...ndarray import NDArray
from ...ops.namespace import BINARY_HELPERS, operator_name
from ...ops.python_operators import resolve_binary
from ...ops.indexing_plan import plan_getitem
from ...ops.registry import all_input_names, positional_input_names
from .. import runtime
from ..backend import constant
from .values import ANY, ARRAY, NUMPY, Dynamic, Seq, Static, is_literal

COMPARISONS = {ast.Eq: "equal", ast.NotEq: "not_equal", ast.Gt: "greater",
               ast.GtE: "greater_equal", ast.Lt: "lesser", ast.LtE: "lesser_equal"}

_CREATION = {"zeros": "_zeros", "ones": "_ones", "full": "_full", "arange": "_arange",
             "random.normal": "_random_normal", "random.uniform": "_random_uniform"}

_CREATION_PARAMETERS = {
    "zeros": ("shape", "ctx", "dtype"), "ones": ("shape", "ctx", "dtype"),
    "full": ("shape", "value", "ctx", "dtype"),
    "arange": ("start", "stop", "step", "repeat", "ctx", "dtype"),
    "random.normal": ("loc", "scale", "shape", "dtype", "ctx"),
    "random.uniform": ("low", "high", "shape", "dtype", "ctx"),
}

_ARRAY_METHODS_AS_NUMPY = {"asscalar": ("item", ANY), "tolist": ("tolist", ANY)}
# methods whose result leaves the graph: (run-time helper, kind of the result)
_GRAPH_EXIT_METHODS = {"asnumpy": (runtime.asnumpy, NUMPY), "detach": (runtime.detach, ARRAY)}
# methods that return the array itself (one device: every context is this one)
_SAME_ARRAY_METHODS = {"as_in_context", "as_in_ctx"}


class Placeholder:
    """Stands for a run-time value while an operator call is bound at compile time."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _is_placeholder(value):
    return isinstance(value, Placeholder)


class Lowerer:
    """Turns operator applications into kernel calls; `context` supplies the constant pool and
    the training flag of the program being built, and `code` (the specializer) what only it
    can: `temporary(expr, hint)` emits an assignment and gives its name, `expr_of(value)` a
    value's code."""

    def __init__(self, context, code):
        self.context = context
        self.code = code

    # ----- values as expressions
    def input_expr(self, value, op_name):
        if isinstance(value, Dynamic):
            return value.expr
        if isinstance(value, Static):
            data = value.value
            if isinstance(data, NDArray):
                return self.context.constant_ref(data._data, "constant")
            if isinstance(data, np.ndarray):
                return self.context.constant_ref(data, "constant")
        raise TypeError(f"{op_name}: expected an array input, got {describe(value)}")

    def attr_expr(self, value):
        if isinstance(value, Placeholder):
            return self.code.expr_of(value.value)
        return constant(value)

    # ----- operators
    def apply(self, op_name, inputs, attrs, views=False):
        """Kernel call for `op_name` on run-time inputs, attrs parsed values or Placeholders
        (the kernel whose outputs may be views of its inputs with `views`, as invoke.run)."""
        op = ops.get(op_name)
        args = [self.input_expr(v, op_name) for v in inputs]
        defaults = kernel_defaults(op)
        keywords = [ast.keyword(k, self.attr_expr(v)) for k, v in attrs.items()
                    if isinstance(v, Placeholder) or k not in defaults or not _same(defaults[k], v)]
        if op.mode_dependent:
            keywords.append(ast.keyword("training", self.context.training_flag()))
        call = ast.Call(self.context.kernel_ref(op, views), args, keywords)
        count = op.output_count({k: (v.value if isinstance(v, Placeholder) else v)
                                 for k, v in attrs.items()})
        if count == 1:
            return Dynamic(call, ARRAY)
        holder = self.code.temporary(call, op.name.lower().lstrip("_"))
        return Seq([Dynamic(ast.Subscript(holder, ast.Constant(i), ast.Load()), ARRAY)
                    for i in range(count)], list)

    def call_operator(self, op_name, args, kwargs, views=False):
        """`F.op(*args, **kwargs)` as the user wrote it."""
        op = ops.get(op_name)
        out = kwargs.get("out")
        if isinstance(out, Dynamic) and out.is_array:
            # `F.relu(x, out=x)`: the result is written into `out`, as NDArray does
            result = self.call_operator(op_name, args, {k: v for k, v in kwargs.items()
                                                        if k != "out"})
            update = self.context.constant_ref(runtime.update, "update")
            return Dynamic(ast.Call(update, [out.expr, self.code.expr_of(result)], []), ARRAY)
        input_names = set(all_input_names(op))
        kwargs = {k: (_input_argument(v) if k in input_names else _attr_argument(v))
                  for k, v in kwargs.items() if k not in ("name", "out", "ctx", "attr")}
        # positional arguments after the inputs are attributes (`F.transpose(x, (1, 0, 2))`)
        n_inputs = len(args) if op.inputs == ops.VARIADIC else len(positional_input_names(op))
        args = [_input_argument(v) if i < n_inputs else _attr_argument(v)
                for i, v in enumerate(args)]
        named, attrs = ops.bind(op, tuple(args), kwargs, keep=_is_placeholder)
        inputs = []
        for name, value in named.items():
            if value is None:
                raise TypeError(f"{op_name}: input {name!r} is missing")
            inputs.append(value)
        return self.apply(op_name, inputs, attrs, views)

    def variadic(self, op_name, items, kwargs):
        """An operator of any number of inputs on a run-time list of them, through the
        run-time helper that counts them (`num_args`) as the call runs."""
        op = ops.get(op_name)
        given = {k: _attr_argument(v) for k, v in kwargs.items()
                 if k not in ("name", "ctx", "attr", "num_args")}
        if "out" in given or any(_is_placeholder(v) for v in given.values()):
            raise TypeError("attributes known only at run time, or out=, with *items")
        attrs = op.parse_attrs(dict(given, num_args=0))
        del attrs["num_args"]
        helper = self.context.constant_ref(runtime.variadic, "variadic")
        return Dynamic(ast.Call(helper, [items.expr, self.context.constant_ref(op, op_name),
                                         self.context.constant_ref(attrs, f"{op_name}_attrs")],
                                []), ARRAY)

    def call_namespace(self, path, args, kwargs):
        """A name reached through F: an operator, a scalar-aware helper or a constructor."""
        if operator_name(path) is not None:
            return self.call_operator(operator_name(path), args, kwargs)
        if path in BINARY_HELPERS and len(args) == 2 and not kwargs:
            return self.binary(BINARY_HELPERS[path], args[0], args[1])
        if path in _CREATION:
            names = _CREATION_PARAMETERS[path]
            given = dict(zip(names, args))
            given.update(kwargs)
            given.pop("ctx", None)
            if "dtype" in given and isinstance(given["dtype"], Static):
                given["dtype"] = Static(np.dtype(given["dtype"].value).name)
            return self.call_operator(_CREATION[path], (), given)
        raise LookupError(path)

    def binary(self, family, lhs, rhs):
        """A binary operator family where either side may be a compile-time scalar."""
        def operand(value):
            if isinstance(value, Static) and np.isscalar(value.value):
                return value.value
            return value
        name, inputs, attrs = resolve_binary(family, operand(lhs), operand(rhs))
        return self.apply(name, list(inputs), ops.get(name).parse_attrs(attrs))

    def compare(self, op_type, lhs, rhs):
        return self.binary(COMPARISONS[op_type], lhs, rhs)

    def method(self, receiver, name, args, kwargs):
        """`x.name(...)` on a run-time array."""
        if name == "reshape":
            if len(args) == 1 and "shape" not in kwargs:
                kwargs = dict(kwargs, shape=args[0])
                args = ()
            elif args:
                kwargs = dict(kwargs, shape=Seq(list(args), tuple))
                args = ()
            return self.call_operator("reshape", (receiver,), kwargs, views=True)
        if name == "astype":
            dtype = args[0] if args else kwargs["dtype"]
            if not isinstance(dtype, Static):
                raise TypeError("astype needs a dtype known when compiling")
            return self.call_operator("cast", (receiver,),
                                      {"dtype": Static(np.dtype(dtype.value).name)})
        if name in _GRAPH_EXIT_METHODS and not args and not kwargs:
            helper, kind = _GRAPH_EXIT_METHODS[name]
            return Dynamic(ast.Call(self.context.constant_ref(helper, name), [receiver.expr],
                                    []), kind)
        if name in _SAME_ARRAY_METHODS and len(args) + len(kwargs) == 1:
            return receiver
        if name == "copy" and not args and not kwargs:
            return self.call_operator("identity", (receiver,), {})
        if name == "copyto" and len(args) == 1 and not kwargs:
            copied = self.call_operator("identity", (receiver,), {})
            target = args[0]
            if isinstance(target, Dynamic) and target.is_array:
                # into another array, as NDArray.copyto writes it
                update = self.context.constant_ref(runtime.update, "update")
                return Dynamic(ast.Call(update, [target.expr, self.code.expr_of(copied)], []),
                               ARRAY)
            if isinstance(target, Static) and not isinstance(target.value, (NDArray, np.ndarray)):
                return copied       # to a context: the one device holds the copy
        if name in _ARRAY_METHODS_AS_NUMPY:
            numpy_name, kind = _ARRAY_METHODS_AS_NUMPY[name]
            call = ast.Call(ast.Attribute(receiver.expr, numpy_name, ast.Load()), [], [])
            return Dynamic(call, kind)
        op = ops.REGISTRY.get(name)
        if op is not None and op.fluent:
            return self.call_operator(name, (receiver,) + tuple(args), kwargs)
        raise LookupError(name)

    def subscript(self, base, index):
        """`base[index]` on a run-time array, through the operators NDArray indexing applies:
        planned now for a key known while compiling, at run time otherwise."""
        if isinstance(index, Static):
            try:
                plan = plan_getitem(index.value, None)
            except IndexError:
                plan = None     # `x[..., 0]` needs the number of dimensions
            if plan is not None:
                value = base
                for op_name, attrs, extra in plan:
                    value = self.apply(op_name, [value] + [Static(e) for e in extra],
                                       ops.get(op_name).parse_attrs(attrs))
                return value
        helper = self.context.constant_ref(runtime.getitem, "getitem")
        return Dynamic(ast.Call(helper, [base.expr, self.code.expr_of(index)], []), ARRAY)

    def attribute(self, receiver, name):
        if name == "dtype" and receiver.kind != NUMPY:
            # NDArray.dtype is numpy's scalar type (`numpy.float32`), as in MXNet
            dtype = ast.Attribute(receiver.expr, name, ast.Load())
            if receiver.is_array:
                return Dynamic(ast.Attribute(dtype, "type", ast.Load()), ANY)
            helper = self.context.constant_ref(runtime.dtype_of, "dtype_of")
            return Dynamic(ast.Call(helper, [receiver.expr], []), ANY)
        if name in ("shape", "ndim", "size", "dtype"):
            return Dynamic(ast.Attribute(receiver.expr, name, ast.Load()), ANY)
        if name in ("context", "ctx"):
            return Static(NDArray(None).context)
        if name == "T":
            return self.call_operator("transpose", (receiver,), {})
        raise LookupError(name)


_OMISSIBLE = {}


def kernel_defaults(op):
    """The attributes a call of the operator's kernel may leave out, with their values: the
    table's default of each attribute the kernel also takes by default (the two agree:
    tests/ops/test_attribute_defaults.py). The program omits an attribute of this value."""
    known = _OMISSIBLE.get(id(op))
    if known is None or known[0] is not op:
        try:
            parameters = inspect.signature(op.kernel).parameters
        except (TypeError, ValueError):
            parameters = {}
        known = _OMISSIBLE[id(op)] = (op, {
            key: spec.parse(spec.default) if spec.default is not None else None
            for key, spec in op.attrs.items() if not spec.required and key in parameters
            and parameters[key].default is not inspect.Parameter.empty})
    return known[1]


def _same(default, value):
    return type(default) is type(value) and default == value


def _input_argument(value):
    return None if isinstance(value, Static) and value.value is None else value


def _attr_argument(value):
    if isinstance(value, Static):
        return value.value
    if isinstance(value, Seq) and all(isinstance(i, Static) for i in value.items):
        return value.container(i.value for i in value.items)
    return Placeholder(value)


def describe(value):
    if isinstance(value, Static):
        return f"the constant {value.value!r:.60}" if is_literal(value.value) else \
            type(value.value).__name__
    if isinstance(value, Seq):
        return f"a {value.container.__name__} of {len(value.items)}"
    return "a run-time value"
