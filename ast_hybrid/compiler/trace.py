"""The trace front end: run hybrid_forward with F=sym and symbol inputs, as MXNet does."""
from dataclasses import dataclass

from .. import symbol
from ..ndarray import NDArray
from ..symbol.naming import fresh_scope, set_trace_names
from ..symbol.shape_inference import infer_node_shapes
from ..symbol.symbol import Symbol


def is_array(value):
    return isinstance(value, NDArray)


def data_names(count):
    return ["data"] if count == 1 else [f"data{i}" for i in range(count)]


@dataclass
class TracedGraph:
    outputs: list          # [(node, index)]
    structure: object      # None for one output, else see flatten_outputs
    data_names: list
    params: dict           # variable name -> Parameter, for the parameters the graph uses

    @property
    def symbol(self):
        return Symbol(self.outputs)


def flatten_outputs(result, what):
    """(structure, [(node, index)]) of what hybrid_forward returned: the structure is None for
    one symbol, else (container type, [structure of each item]), nested as the result is."""
    outputs = []

    def walk(value):
        if isinstance(value, Symbol):
            if len(value) == 1:
                outputs.append(value._outputs[0])
                return None
            outputs.extend(value._outputs)
            return tuple, [None] * len(value)
        if isinstance(value, (tuple, list)) and value:
            return type(value), [walk(item) for item in value]
        raise TypeError(f"{what} must return a Symbol/NDArray or (nested) tuples or lists of "
                        f"them, got {type(value).__name__}")

    return walk(result), outputs


class Constant:
    """A part of flatten_inputs' structure that is not an array: kept as it is."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def nest(structure, arrays):
    """The items of the iterator `arrays` arranged as flatten_outputs' (or flatten_inputs')
    structure says."""
    if structure is None:
        return next(arrays)
    if isinstance(structure, Constant):
        return structure.value
    container, parts = structure
    return container(nest(part, arrays) for part in parts)


def flatten_inputs(args):
    """(arrays, structure) of a call's arguments, as MXNet's _flatten: the arrays in order,
    walking lists and tuples that hold any, and the structure (a list of nest's) that
    regroup_inputs rebuilds the arguments from; any other value is kept as a constant."""
    arrays = []

    def walk(value):
        if is_array(value):
            arrays.append(value)
            return None
        if isinstance(value, (tuple, list)) and _holds_array(value):
            return type(value), [walk(item) for item in value]
        return Constant(value)

    return arrays, [walk(value) for value in args]


def regroup_inputs(structure, items):
    """The arguments flatten_inputs took apart, with `items` in place of its arrays."""
    items = iter(items)
    return [nest(part, items) for part in structure]


def _holds_array(value):
    if isinstance(value, (tuple, list)):
        return any(_holds_array(item) for item in value)
    return is_array(value)


def trace(block, args, with_shapes=False):
    """The graph of `block` called on `args`; arrays, also inside (nested) lists and tuples,
    become variables data/data0.. in flatten_inputs' order, parameters become variables named
    by their full name, other arguments stay constants."""
    keyed = block._tree_parameters()
    names = {id(param): key for key, param in keyed.items()}
    arrays, structure = flatten_inputs(args)
    inputs = data_names(len(arrays))
    symbolic_args = regroup_inputs(structure, [
        symbol.var(name, shape=array.shape if with_shapes else None)
        for name, array in zip(inputs, arrays)])
    previous = set_trace_names(names)
    try:
        with fresh_scope():
            result = block._call_symbolic(*symbolic_args)
    finally:
        set_trace_names(previous)
    structure, outputs = flatten_outputs(result, f"{type(block).__name__}.hybrid_forward")
    used = [n.name for n in Symbol(outputs).topological_nodes() if n.is_variable]
    by_key = dict(keyed.items())
    params = {}
    for name in used:
        if name in inputs:
            continue
        if name not in by_key:
            raise ValueError(f"{type(block).__name__}: the traced graph uses variable {name!r}, "
                             "which is neither an input nor a parameter of the block")
        params[name] = by_key[name]
    if set(params) & set(inputs):
        raise ValueError(f"a parameter is named like an input ({inputs}); rename it")
    return TracedGraph(outputs, structure, inputs, params)


def infer_parameter_shapes(block, args, traced=None):
    """Finish deferred initialization: shapes of every parameter from the inputs' shapes
    (from `traced`, a trace of `block` on `args`, if given)."""
    if traced is None:
        traced = trace(block, args, with_shapes=True)
    given = {name: array.shape for name, array in
             zip(traced.data_names, flatten_inputs(args)[0])}
    shapes = infer_node_shapes(traced.symbol, given)
    for node in traced.symbol.topological_nodes():
        if node.is_variable and node.name in traced.params:
            param = traced.params[node.name]
            shape = shapes.get((id(node), 0))
            if shape is not None and not param.shape_known:
                param.shape = shape
                param._finish_deferred_init()
