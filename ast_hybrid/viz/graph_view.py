"""The graph as MXNet's visualization reads it: nodes in JSON order, MXNet's op names, shapes."""
from ..symbol.symbol import Symbol

# operators MXNet's JSON names by another of their names than the one this table declares first
_MXNET_OP_NAMES = {"concat": "Concat", "flatten": "Flatten", "reshape": "Reshape",
                   "cast": "Cast", "split": "SliceChannel", "swapaxes": "SwapAxis",
                   "identity": "_copy"}


def checked_symbol(symbol):
    if not isinstance(symbol, Symbol):
        raise TypeError("symbol must be a Symbol")
    return symbol


def op_name(node):
    """The node's operator as MXNet writes it in JSON ("null" for a variable)."""
    if node.is_variable:
        return "null"
    return _MXNET_OP_NAMES.get(node.op.name, node.op.name)


def output_shapes(symbol, shape):
    """{output name as list_outputs() gives it: shape} of every node output, from the input
    shapes `shape` (a dict of name to shape); ValueError where they do not determine all."""
    internals = symbol.get_internals()
    _, out_shapes, _ = internals.infer_shape(**shape)
    if out_shapes is None:
        raise ValueError("Input shape is incomplete")
    return dict(zip(internals.list_outputs(), out_shapes))


def output_key(node):
    """The key of a node's output among list_outputs(): MXNet's visualization asks for
    `NAME_output`, which a node with several outputs does not have."""
    return node.name if node.is_variable else node.name + "_output"


def dims(values):
    """A shape or kernel written as MXNet's visualization writes it: `3x3`."""
    return "x".join(str(value) for value in values)
