"""Forward shape inference over a graph; fills the shapes of variables such as deferred weights."""
import ast as _pyast

from ..base import describe_location
from ..ops import OpError


def declared_shape(extra):
    """The `__shape__` among a variable's attributes if it is fully known (MXNet writes 0 for
    unknown sizes)."""
    text = extra.get("__shape__")
    if not text:
        return None
    try:
        shape = tuple(int(n) for n in _pyast.literal_eval(text))
    except (ValueError, SyntaxError, TypeError, RecursionError):
        return None
    return shape if all(n > 0 for n in shape) else None


def infer_node_shapes(symbol, given, partial=False):
    """{(id(node), output index): shape} for every node output that can be inferred."""
    shapes = {}
    nodes = symbol.topological_nodes()
    for node in nodes:
        if node.is_variable:
            shape = given.get(node.name)
            shape = tuple(shape) if shape is not None else declared_shape(node.extra)
            if shape is not None:
                shapes[(id(node), 0)] = shape
    for node in nodes:
        if node.is_variable:
            continue
        in_shapes = [shapes.get((id(parent), index)) for parent, index in node.inputs]
        try:
            filled, out_shapes = node.op.infer_shape(node.attrs, in_shapes)
        except OpError as err:
            if partial:
                continue
            raise OpError(f"{err} in node {node.name!r} created at "
                          f"{describe_location(node.location)}") from None
        for (parent, index), shape in zip(node.inputs, filled):
            if shape is not None and (id(parent), index) not in shapes:
                shapes[(id(parent), index)] = tuple(shape)
        for index, shape in enumerate(out_shapes):
            shapes[(id(node), index)] = tuple(shape)
    return shapes
