"""Evaluating a graph node by node with NDArrays (imperative execution of a Symbol)."""
from ..ndarray.invoke import run


def evaluate(symbol, values):
    """Output NDArrays of `symbol` given NDArrays for its variables, by name."""
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
