"""plot_network: the graph as a graphviz.Digraph, with MXNet 1.9.1's labels, colors and edges."""
import collections
import copy
import warnings

from .graph_view import checked_symbol, dims, op_name, output_key, output_shapes

# MXNet's palette: inputs, weighted layers, activations, normalization, pooling, reshaping,
# SoftmaxOutput (an operator this table does not declare), everything else
_COLORS = ("#8dd3c7", "#fb8072", "#ffffb3", "#bebada", "#80b1d3", "#fdb462", "#b3de69",
           "#fccde5")
_WEIGHT_SUFFIXES = ("_weight", "_bias", "_beta", "_gamma", "_moving_var", "_moving_mean",
                    "_running_var", "_running_mean")


def plot_network(symbol, title="plot", save_format="pdf", shape=None, dtype=None,
                 node_attrs={}, hide_weights=True):  # noqa: B006 (MXNet's; only read)
    """A graphviz.Digraph of the graph computing `symbol`, as MXNet's `mx.viz.plot_network`
    draws it: edges labelled with shapes (without the batch axis) given `shape`, and with
    types given `dtype` (dicts by input name); weights and biases hidden by default."""
    try:
        from graphviz import Digraph
    except ImportError:
        raise ImportError("Draw network requires graphviz library") from None
    checked_symbol(symbol)
    shapes = output_shapes(symbol, shape) if shape is not None else None
    types = _output_types(symbol, dtype) if dtype is not None else None
    nodes = symbol.topological_nodes()
    _warn_repeated_names(nodes)
    base_attrs = {"shape": "box", "fixedsize": "true", "width": "1.3", "height": "0.8034",
                  "style": "filled"}
    base_attrs.update(node_attrs)
    dot = Digraph(name=title, format=save_format)
    hidden = set()
    for node in nodes:
        if node.is_variable and node.name.endswith(_WEIGHT_SUFFIXES):
            # MXNet never draws a weight's own node; shown, it appears through its edges
            if hide_weights:
                hidden.add(node.name)
            continue
        attrs = copy.deepcopy(base_attrs)
        label, attrs["fillcolor"] = _label_and_color(node)
        if node.is_variable:
            attrs["shape"] = "oval"
        dot.node(name=node.name, label=label, **attrs)
    for node in nodes:
        inputs = node.inputs
        if op_name(node) == "_contrib_BilinearResize2D":    # its `like` input is not drawn
            inputs = inputs[:1]
        for parent, _ in inputs:
            if parent.name in hidden:
                continue
            attrs = {"dir": "back", "arrowtail": "open", "label": ""}
            if shapes is not None:
                attrs["label"] = dims(shapes[_drawn_output(parent)][1:])
            if types is not None:
                attrs["label"] += "(" + types[_drawn_output(parent)].__name__ + ")"
            dot.edge(tail_name=node.name, head_name=parent.name, **attrs)
    return dot


def _label_and_color(node):
    name, attrs = op_name(node), node.attrs
    if name == "null":
        return node.name, _COLORS[0]
    if name == "Convolution":
        stride = dims(attrs["stride"]) if attrs["stride"] else "1"
        return f"Convolution\n{dims(attrs['kernel'])}/{stride}, {attrs['num_filter']}", _COLORS[1]
    if name == "FullyConnected":
        return f"FullyConnected\n{attrs['num_hidden']}", _COLORS[1]
    if name == "BatchNorm":
        return node.name, _COLORS[3]
    if name == "Activation":
        return f"Activation\n{attrs['act_type']}", _COLORS[2]
    if name == "LeakyReLU":
        return f"LeakyReLU\n{attrs['act_type']}", _COLORS[2]
    if name == "Pooling":
        kernel = dims(attrs["kernel"]) if attrs["kernel"] else "[]"
        stride = dims(attrs["stride"]) if attrs["stride"] else "1"
        return f"Pooling\n{attrs['pool_type']}, {kernel}/{stride}", _COLORS[4]
    if name in ("Concat", "Flatten", "Reshape"):
        return node.name, _COLORS[5]
    return node.name, _COLORS[7]


def _drawn_output(node):
    """The output an edge's label describes: MXNet's takes the last of a split's outputs."""
    key = output_key(node)
    if not node.is_variable and "num_outputs" in node.attrs:
        key += str(node.attrs["num_outputs"] - 1)
    return key


def _output_types(symbol, dtype):
    internals = symbol.get_internals()
    _, out_types, _ = internals.infer_type(**dtype)
    return dict(zip(internals.list_outputs(), out_types))


def _warn_repeated_names(nodes):
    counts = collections.Counter(node.name for node in nodes)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        warnings.warn("There are multiple variables with the same name in your graph, this "
                      "may result in cyclic graph. Repeated names: " + ",".join(repeated),
                      RuntimeWarning, stacklevel=3)
