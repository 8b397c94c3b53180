"""The table of converters: a function for each operator of the table with an ONNX form."""

CONVERTERS = {}


def converts(*op_names):
    """Register `fn(g, node, inputs)` as the converter of `op_names`: it writes ONNX nodes
    into the GraphBuilder `g` for the graph node `node`, whose inputs are the tensor names
    `inputs`, and returns the names of the node's outputs (a list, one per output)."""
    def register(fn):
        for name in op_names:
            CONVERTERS[name] = fn
        return fn
    return register


def load_all():
    """Fill the table (the converter modules register themselves on import)."""
    from . import convert_nn, convert_tensor  # noqa: F401
    return CONVERTERS
