"""print_summary: MXNet 1.9.1's layer table (name, output shape, parameter count, inputs)."""
import math

from .graph_view import checked_symbol, dims, op_name, output_key, output_shapes


def print_summary(symbol, shape=None, line_length=120,
                  positions=[.44, .64, .74, 1.]):  # noqa: B006 (MXNet's signature; only read)
    """Print the layer table of `symbol` as MXNet's `mx.viz.print_summary` prints it; output
    shapes (without the batch axis) and parameter counts need `shape`, a dict of input
    shapes."""
    checked_symbol(symbol)
    shapes = output_shapes(symbol, shape) if shape is not None else None
    nodes = symbol.topological_nodes()
    index_of = {id(node): i for i, node in enumerate(nodes)}
    head_node, head_index = symbol._outputs[0]
    # MXNet tests membership in the first head's [node, output, version] triple, so node 0
    # (and the head's output number) count as heads; the table follows it
    heads = {index_of[id(head_node)], head_index, 0}
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    print("_" * line_length)
    _print_row(["Layer (type)", "Output Shape", "Param #", "Previous Layer"], positions)
    print("=" * line_length)
    total = 0
    for i, node in enumerate(nodes):
        if node.is_variable and i > 0:
            continue
        out_shape = ()
        if shapes is not None and (not node.is_variable or i in heads):
            out_shape = shapes.get(output_key(node), (None,))[1:]
        total += _print_layer(node, out_shape, nodes, index_of, heads, shapes, positions)
        print(("=" if i == len(nodes) - 1 else "_") * line_length)
    print(f"Total params: {total}")
    print("_" * line_length)


def _print_row(fields, positions):
    line = ""
    for field, position in zip(fields, positions):
        line = (line + str(field))[:position]
        line += " " * (position - len(line))
    print(line)


def _print_layer(node, out_shape, nodes, index_of, heads, shapes, positions):
    """Print one layer's rows; returns its parameter count."""
    previous, in_channels = [], 0
    for parent, _ in node.inputs:
        if parent.is_variable and index_of[id(parent)] not in heads:
            continue
        previous.append(parent.name)
        in_shape = shapes.get(output_key(parent)) if shapes is not None else None
        if in_shape is not None and len(in_shape) > 1:
            in_channels += int(in_shape[1])
    count = _param_count(node, in_channels, shapes)
    _print_row([f"{node.name}({op_name(node)})", dims(out_shape), count,
                previous[0] if previous else ""], positions)
    for name in previous[1:]:
        _print_row(["", "", "", name], positions)
    return count


def _param_count(node, in_channels, shapes):
    """MXNet's count: from the first axis after the batch of the layer's operator inputs, so a
    layer fed by a variable other than node 0 counts no weights."""
    name, attrs = op_name(node), node.attrs
    if name == "Convolution":
        count = in_channels * attrs["num_filter"] // attrs["num_group"] * math.prod(attrs["kernel"])
        return count + (0 if attrs["no_bias"] else attrs["num_filter"])
    if name == "FullyConnected":
        return (in_channels + (0 if attrs["no_bias"] else 1)) * attrs["num_hidden"]
    if name == "BatchNorm" and shapes is not None:
        return int(shapes[output_key(node)][1]) * 2
    if name == "Embedding":
        return attrs["input_dim"] * attrs["output_dim"]
    return 0
