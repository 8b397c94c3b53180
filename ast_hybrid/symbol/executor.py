"""Evaluating a graph node by node with NDArrays (imperative execution of a Symbol)."""
from ..base import garbage_collection_paused
from ..ndarray.invoke import run


def evaluate(symbol, values):
    """Output NDArrays of `symbol` given NDArrays for its variables, by name."""
    with garbage_collection_paused():
        return _evaluate(symbol, values)


def _evaluate(symbol, values):
    results = {}
    for node in symbol.topological_nodes():
        if node.is_variable:
            if node.name not in values:
                raise ValueError(f"no value given for variable {node.name!r}")
            results[(id(node), 0)] = values[node.name]
            continue
        inputs = [results[(id(parent), index)] for parent, index in node.inputs]
        outputs = run(node.op, inputs, node.attrs)
        for index, output in enumerate(outputs if isinstance(outputs, list) else [outputs]):
            results[(id(node), index)] = output
    return [results[(id(node), index)] for node, index in symbol._outputs]


class Executor:
    """What `Symbol.bind` and `simple_bind` return: the graph with arrays for its variables.

    `forward(is_train=False, **new_values)` evaluates it imperatively and fills `outputs`.
    Gradients are not computed here (no `backward`): train with Gluon blocks, or evaluate
    the symbol's operators under `autograd.record()`."""

    def __init__(self, symbol, arg_dict, aux_dict):
        self._symbol = symbol
        self.arg_dict = arg_dict
        self.aux_dict = aux_dict
        self.arg_arrays = [arg_dict[name] for name in symbol.list_arguments()]
        self.aux_arrays = [aux_dict[name] for name in symbol.list_auxiliary_states()]
        self.outputs = []

    @property
    def output_dict(self):
        return dict(zip(self._symbol.list_outputs(), self.outputs))

    def forward(self, is_train=False, **kwargs):
        from .. import autograd
        for name, value in kwargs.items():
            if name not in self.arg_dict:
                raise ValueError(f"unknown argument {name!r}; the arguments are "
                                 f"{', '.join(self.arg_dict)}")
            self.arg_dict[name][:] = value
        with autograd.train_mode() if is_train else autograd.predict_mode():
            self.outputs = evaluate(self._symbol, {**self.arg_dict, **self.aux_dict})
        return self.outputs

    def backward(self, out_grads=None, is_train=True):
        raise NotImplementedError("Executor.backward is not supported; train a Gluon block "
                                  "(SymbolBlock for a symbol) with autograd instead")


def named_arrays(names, arrays, what):
    """A list (in `names`' order) or a dict of arrays, as a dict; None gives an empty dict."""
    if arrays is None:
        return {}
    if isinstance(arrays, dict):
        return dict(arrays)
    arrays = list(arrays)
    if len(arrays) != len(names):
        raise ValueError(f"{len(arrays)} {what} given for {len(names)}: {', '.join(names)}")
    return dict(zip(names, arrays))
