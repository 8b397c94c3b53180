"""The trace front end: run hybrid_forward with F=sym and symbol inputs, as MXNet does."""
from dataclasses import dataclass

from .. import symbol
from ..gluon.parameter import set_trace_names
from ..ndarray import NDArray
from ..symbol.naming import fresh_scope
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


def nest(structure, arrays):
    """The items of the iterator `arrays` arranged as flatten_outputs' structure says."""
    if structure is None:
        return next(arrays)
    container, parts = structure
    return container(nest(part, arrays) for part in parts)


def trace(block, args, with_shapes=False):
    """The graph of `block` called on `args`; arrays become variables data/data0.., parameters
    become variables named by their collect_params() key, other arguments stay constants."""
    keyed = block.collect_params()
    names = {id(param): key for key, param in keyed.items()}
    positions = [i for i, a in enumerate(args) if is_array(a)]
    inputs = data_names(len(positions))
    symbolic_args = list(args)
    for position, name in zip(positions, inputs):
        shape = args[position].shape if with_shapes else None
        symbolic_args[position] = symbol.var(name, shape=shape)
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
    given = {name: args_array.shape for name, args_array in
             zip(traced.data_names, [a for a in args if is_array(a)])}
    shapes = infer_node_shapes(traced.symbol, given)
    for node in traced.symbol.topological_nodes():
        if node.is_variable and node.name in traced.params:
            param = traced.params[node.name]
            shape = shapes.get((id(node), 0))
            if shape is not None and not param.shape_known:
                param.shape = shape
                param._finish_deferred_init()
