"""Trace mode's backward pass: from a traced graph, two generated programs.

* the *recording forward* computes the graph's outputs and also returns every operator
  node's outputs (the intermediate values the gradients need);
* the *backward* walks the graph's operator nodes in reverse, one statement per node calling
  that operator's `grad` from the table, accumulating gradients per value, and returns one
  gradient per graph argument. It is specialized on which arguments need a gradient (nodes
  that no such argument feeds are left out), and built once per such set.

Both are ordinary programs of the shared back end (`backend.compile_program`): readable
source (`TraceBackward.source()`), identifiers from the Namer only.

How a hybridized block uses it (see `make_trace_backward`): under `autograd.record()`, call
`trace_backward.call_recording(input_ndarrays)` instead of the plain program; it runs the
recording forward, wraps the outputs and registers one custom node with
`autograd.record_function`, whose backward runs the backward program.
"""
import ast

import numpy as np

from .. import autograd
from .backend import compile_program
from .naming import Namer


def make_trace_backward(outputs, argument_names, label="graph"):
    """A TraceBackward for the traced graph `outputs` [(node, index)], whose variables are
    named by `argument_names` (data inputs, then parameters, in the order the compiled
    program takes them; the order of `trace_entry`: traced.data_names + list(traced.params)).

    Contract of the result `tb`:
      - `tb.call_recording(inputs)`: inputs are NDArrays in `argument_names` order (the
        block's array arguments, then each parameter's `param.data()`); runs the forward,
        returns its outputs as a list of NDArrays, and (when recording) registers them with
        `autograd.record_function` so that backward() reaches every input that needs a
        gradient. Re-nest the list as the plain program's outputs are (structure).
      - `tb.forward(*arrays)` -> (outputs: list of numpy arrays, saved): the same without
        autograd; `saved` holds the training flag, the inputs and every intermediate value.
      - `tb.gradients(saved, out_grads, needed=None)` -> list, one numpy gradient or None per
        argument; out_grads has one array or None per output; `needed` is a set of argument
        positions (None: all). Gradients have the arguments' shapes and dtypes.
    """
    return TraceBackward(outputs, argument_names, label)


def vjp(grad, attrs, inputs, outputs, out_grads):
    """One node's input gradients; outputs nothing depended on count as zero gradients."""
    if all(g is None for g in out_grads):
        return (None,) * len(inputs)
    out_grads = [np.zeros_like(y) if g is None else g for g, y in zip(out_grads, outputs)]
    return grad(attrs, list(inputs), list(outputs), out_grads)


def accumulate(total, contribution):
    if contribution is None:
        return total
    if total is None:
        return contribution
    return total + contribution


def with_training(attrs, training):
    return dict(attrs, training=training)


def _name(identifier, context=ast.Load):
    return ast.Name(identifier, context())


def _call(function, args):
    return ast.Call(_name(function), args, [])


def _tuple(names):
    return ast.Tuple([_name(n) for n in names], ast.Load())


def _assign(target, value):
    return ast.Assign([_name(target, ast.Store)], value)


def _function(name, parameters, body):
    return ast.FunctionDef(name, ast.arguments([], [ast.arg(p) for p in parameters], None, [],
                                               [], None, []), body, [], None)


class TraceBackward:
    """The recording forward and the backward programs of one traced graph."""

    def __init__(self, outputs, argument_names, label="graph"):
        from ..symbol.symbol import Symbol
        self.outputs = list(outputs)
        self.argument_names = list(argument_names)
        self.label = label
        self.nodes = Symbol(self.outputs).topological_nodes()
        positions = {name: i for i, name in enumerate(self.argument_names)}
        self._variable_position = {}
        for node in self.nodes:
            if node.is_variable:
                if node.name not in positions:
                    raise ValueError(f"the graph needs variable {node.name!r}, which is neither "
                                     "an input nor a parameter")
                self._variable_position[id(node)] = positions[node.name]
        self.operators = [n for n in self.nodes if not n.is_variable]
        self._forward = self._build_forward()
        self._backward = {}

    # ----- identifiers shared by both programs
    def _names(self, namer):
        arguments = [namer.fresh(name) for name in self.argument_names]
        values = {}
        for node in self.nodes:
            if node.is_variable:
                values[(id(node), 0)] = arguments[self._variable_position[id(node)]]
            else:
                count = node.output_count()
                for i in range(count):
                    values[(id(node), i)] = namer.fresh(node.name if count == 1
                                                        else f"{node.name}_{i}")
        return arguments, values

    def _saved_names(self, values):
        return [values[(id(node), i)] for node in self.operators
                for i in range(node.output_count())]

    def _build_forward(self):
        namer = Namer()
        function_name = namer.fresh(f"{self.label}_recording_forward")
        training = namer.fresh("training")
        arguments, values = self._names(namer)
        namespace, kernels, body = {}, {}, []
        for node in self.operators:
            op = node.op
            if op.name not in kernels:
                kernels[op.name] = namer.fresh(op.name.lstrip("_"))
                namespace[kernels[op.name]] = op.kernel
            attrs = namer.fresh(f"{node.name}_attrs")
            namespace[attrs] = dict(node.attrs)
            keywords = [ast.keyword(None, _name(attrs))]
            if op.mode_dependent:
                keywords.append(ast.keyword("training", _name(training)))
            call = ast.Call(_name(kernels[op.name]),
                            [_name(values[(id(p), i)]) for p, i in node.inputs], keywords)
            targets = [values[(id(node), i)] for i in range(node.output_count())]
            target = (_name(targets[0], ast.Store) if len(targets) == 1 else
                      ast.Tuple([_name(t, ast.Store) for t in targets], ast.Store()))
            body.append(ast.Assign([target], call))
        results = _tuple([values[(id(node), i)] for node, i in self.outputs])
        body.append(ast.Return(ast.Tuple([results, _tuple(self._saved_names(values))],
                                         ast.Load())))
        function = _function(function_name, [training] + arguments, body)
        return compile_program([function], namespace, f"{self.label} recording forward")

    def _build_backward(self, needed):
        """The backward program for gradients of the arguments at positions `needed`."""
        namer = Namer()
        function_name = namer.fresh(f"{self.label}_backward")
        training = namer.fresh("training")
        arguments, values = self._names(namer)
        head_names = [namer.fresh(f"head_grad{i}") for i in range(len(self.outputs))]
        helpers = {"vjp": vjp, "accumulate": accumulate, "with_training": with_training}
        namespace = {}
        for key, helper in helpers.items():
            identifier = namer.fresh(key)
            helpers[key] = identifier
            namespace[identifier] = helper
        # which values carry a gradient back to a needed argument
        live = set()
        for node in self.nodes:
            if node.is_variable:
                if self._variable_position[id(node)] in needed:
                    live.add(id(node))
            elif any(id(p) in live for p, _ in node.inputs):
                live.add(id(node))
        grads = {key: namer.fresh(f"d_{name}") for key, name in values.items()
                 if key[0] in live}
        body = [_assign(g, ast.Constant(None)) for g in dict.fromkeys(grads.values())]
        for (node, index), head in zip(self.outputs, head_names):
            if id(node) in live:
                target = grads[(id(node), index)]
                body.append(_assign(target, _call(helpers["accumulate"],
                                                  [_name(target), _name(head)])))
        grad_functions = {}
        for node in reversed(self.operators):
            if id(node) not in live:
                continue
            op = node.op
            if op.grad is None:
                raise NotImplementedError(f"operator {op.name} has no gradient")
            if op.name not in grad_functions:
                grad_functions[op.name] = namer.fresh(f"{op.name.lstrip('_')}_grad")
                namespace[grad_functions[op.name]] = op.grad
            attrs = namer.fresh(f"{node.name}_attrs")
            namespace[attrs] = dict(node.attrs)
            attrs_value = (_call(helpers["with_training"], [_name(attrs), _name(training)])
                           if op.mode_dependent else _name(attrs))
            count = node.output_count()
            inputs = _tuple([values[(id(p), i)] for p, i in node.inputs])
            outputs = _tuple([values[(id(node), i)] for i in range(count)])
            out_grads = _tuple([grads[(id(node), i)] for i in range(count)])
            result = namer.fresh(f"{node.name}_input_grads")
            body.append(_assign(result, _call(helpers["vjp"], [
                _name(grad_functions[op.name]), attrs_value, inputs, outputs, out_grads])))
            for position, (parent, index) in enumerate(node.inputs):
                if id(parent) not in live:
                    continue
                target = grads[(id(parent), index)]
                part = ast.Subscript(_name(result), ast.Constant(position), ast.Load())
                body.append(_assign(target, _call(helpers["accumulate"], [_name(target), part])))
        results = []
        for position, argument in enumerate(arguments):
            node_ids = [id(n) for n in self.nodes if n.is_variable
                        and self._variable_position[id(n)] == position]
            key = (node_ids[0], 0) if node_ids else None
            results.append(_name(grads[key]) if position in needed and key in grads
                           else ast.Constant(None))
        body.append(ast.Return(ast.Tuple(results, ast.Load())))
        saved = self._saved_names(values)
        function = _function(function_name, [training] + arguments + saved + head_names, body)
        return compile_program([function], namespace, f"{self.label} backward")

    # ----- running
    def forward(self, *arrays, training=None):
        if training is None:
            training = autograd.is_training()
        outputs, saved = self._forward.function(training, *arrays)
        return list(outputs), (training, arrays, saved)

    def backward_program(self, needed=None):
        needed = frozenset(range(len(self.argument_names)) if needed is None else needed)
        program = self._backward.get(needed)
        if program is None:
            program = self._build_backward(needed)
            self._backward = {**self._backward, needed: program}    # readers see old or new
        return program

    def gradients(self, saved, out_grads, needed=None):
        training, arrays, values = saved
        program = self.backward_program(needed)
        grads = program.function(training, *arrays, *values, *out_grads)
        fitted = []
        for g, array in zip(grads, arrays):
            if g is not None:
                g = np.asarray(g)
                if g.dtype != array.dtype and array.dtype.kind == "f":
                    g = g.astype(array.dtype)
            fitted.append(g)
        return fitted

    def call_recording(self, inputs):
        from ..ndarray import NDArray
        arrays = [x._data for x in inputs]
        outputs, saved = self.forward(*arrays)
        wrapped = [NDArray(o) for o in outputs]
        needed = frozenset(i for i, x in enumerate(inputs) if autograd.requires_grad(x))
        if autograd.is_recording() and needed:
            def backward(out_grads):
                return self.gradients(saved, out_grads, needed)
            autograd.record_function(list(inputs), wrapped, backward)
        return wrapped

    def source(self, needed=None):
        """The generated recording forward and backward programs, as text."""
        return self._forward.source + "\n" + self.backward_program(needed).source
