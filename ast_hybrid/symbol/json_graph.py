"""The graph as MXNet's JSON (nodes, arg_nodes, node_row_ptr, heads, attrs), written and read back.

Reading validates everything before building a graph: names stay data, attribute values are
parsed by their declared kinds, and nothing in the file is ever executed.
"""
import json
import os

from .. import ops
from ..base import garbage_collection_paused
from ..files import write_atomically
from ..limits import LoadLimits, element_count
from ..ops import OpError
from ..ops.registry import VARIADIC
from .shape_inference import declared_shape
from .symbol import Node, Symbol

MXNET_VERSION = 10901
DECLARED_ITEM_BYTES = 4     # a declared parameter is float32 unless initialized otherwise
# graph attributes an export records about the params file written with it (MXNet ignores them)
PARAMS_FILE_DIGEST = "ast_hybrid_params_sha256"
PARAMS_SIGNATURE = "ast_hybrid_params_signature"


class GraphFormatError(ValueError):
    """A JSON graph that is malformed, truncated or refers to something unknown."""


def graph_to_json(symbol, recorded=None):
    """The graph as MXNet's JSON object; `recorded` adds string graph attributes."""
    nodes = symbol.topological_nodes()
    index_of = {id(node): i for i, node in enumerate(nodes)}
    entries, arg_nodes, row_ptr = [], [], [0]
    for i, node in enumerate(nodes):
        entry = {"op": "null" if node.is_variable else node.op.name, "name": node.name}
        attrs = dict(node.extra)
        if not node.is_variable:   # unset optional attributes are left out, as MXNet does
            attrs.update(node.op.format_attrs({
                key: value for key, value in node.attrs.items()
                if value is not None or node.op.attrs[key].default is not None}))
        if attrs:
            entry["attrs"] = dict(sorted(attrs.items()))
        entry["inputs"] = [[index_of[id(parent)], index, 0] for parent, index in node.inputs]
        entries.append(entry)
        if node.is_variable:
            arg_nodes.append(i)
        row_ptr.append(row_ptr[-1] + node.output_count())
    heads = [[index_of[id(node)], index, 0] for node, index in symbol._outputs]
    graph_attrs = {"mxnet_version": ["int", MXNET_VERSION]}
    graph_attrs.update({key: ["str", value] for key, value in (recorded or {}).items()})
    return {"nodes": entries, "arg_nodes": arg_nodes, "node_row_ptr": row_ptr,
            "heads": heads, "attrs": graph_attrs}


def format_json(value, indent=0, expand=False):
    """JSON text laid out like MXNet's graphs (2-space indents, one node per block) but
    denser: lists of numbers (a node's `inputs`, `arg_nodes`, `node_row_ptr`, `heads`) and
    objects of plain values that fit the line (`"attrs": {"act_type": "relu"}`) are written
    on one line, so a screenful shows several nodes. Objects in a list (the nodes) and
    those asked to `expand` take one line per entry."""
    pad = " " * indent
    if isinstance(value, dict) and value and (expand or not _compact_object(value, indent)):
        items = [f"{pad}  {json.dumps(key)}: {format_json(item, indent + 2)}"
                 for key, item in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        items = [f"{pad}  {format_json(item, indent + 2, expand=True)}" for item in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value)


_LINE_WIDTH = 88      # an object on one line may take this much after its indent


def _compact_object(value, indent):
    if any(isinstance(item, dict) for item in value.values()):
        return False
    if any(isinstance(item, list) and any(isinstance(v, (dict, list)) for v in item)
           for item in value.values()):
        return False
    return indent + len(json.dumps(value)) <= _LINE_WIDTH


def graph_to_text(symbol, recorded=None):
    return format_json(graph_to_json(symbol, recorded))


def save_json(symbol, fname):
    write_atomically(fname, lambda stream: stream.write(symbol.tojson()), binary=False)


def _fail(where, message):
    """Raise GraphFormatError at `where`: a text, or (source, node index, node name), formatted
    only here so that reading a valid graph formats nothing per node."""
    if isinstance(where, tuple):
        source, index, name = where
        where = f"{source}: node {index}" + ("" if name is None else f" ({name!r:.60})")
    raise GraphFormatError(f"{where}: {message}")


def _check_entry(where, entry, nodes):
    # type(...) is int, not isinstance: a bool is not a node or output number
    if (type(entry) is not list or not 2 <= len(entry) <= 3
            or any(type(v) is not int for v in entry)):
        _fail(where, f"an input must be [node, output, version] integers, got {entry!r:.80}")
    node_id, index = entry[0], entry[1]
    if not 0 <= node_id < len(nodes):
        _fail(where, f"refers to node {node_id}, which is not defined before it")
    if not 0 <= index < nodes[node_id].output_count():
        _fail(where, f"refers to output {index} of node {nodes[node_id].name!r}, "
                     f"which has {nodes[node_id].output_count()}")
    return nodes[node_id], index


def graph_from_json(text, source="<json>"):
    """A Symbol from MXNet-layout JSON text; every defect raises GraphFormatError."""
    return read_graph(text, source)[0]


def _recorded_attrs(source, graph):
    """The string graph attributes an export recorded ({} for a graph written by MXNet)."""
    graph_attrs = graph.get("attrs", {})
    if not isinstance(graph_attrs, dict):
        _fail(source, "'attrs' must be an object")
    recorded = {}
    for key in (PARAMS_FILE_DIGEST, PARAMS_SIGNATURE):
        value = graph_attrs.get(key)
        if value is None:
            continue
        if (not isinstance(value, list) or len(value) != 2 or value[0] != "str"
                or not isinstance(value[1], str) or len(value[1]) != 64):
            _fail(source, f"graph attribute {key!r} must be [\"str\", a SHA-256 in hex]")
        recorded[key] = value[1]
    return recorded


def _check_size(where, limits, name, size, what):
    message = limits.exceeded(name, size, what)
    if message:
        _fail(where, message)


def _check_variable(where, limits, extra, declared_bytes):
    """Bytes the variable's declared `__shape__` will take once initialized, within limits."""
    shape = declared_shape(extra)
    if shape is None:
        return declared_bytes
    elements = element_count(shape)
    _check_size(where, limits, "max_array_elements", elements,
                f"the size of its declared shape {shape}")
    declared_bytes += elements * DECLARED_ITEM_BYTES
    _check_size(where, limits, "max_total_bytes", declared_bytes,
                "the bytes of the parameters declared up to it")
    return declared_bytes


def _check_operator(where, limits, op, attrs):
    """The number of inputs of an operator node, once its inputs, outputs, created arrays and
    shape attributes are found within limits, before any of them is listed or allocated."""
    if op.inputs == VARIADIC:
        _check_size(where, limits, "max_node_inputs", attrs["num_args"],
                    f"{op.name}'s num_args")
    count = op.input_count(attrs)
    _check_size(where, limits, "max_node_outputs", op.output_count(attrs),
                f"the number of outputs of {op.name}")
    if count == 0:                          # its attributes alone give the arrays it creates
        try:
            _, out_shapes = op.shape(attrs, [])
        except OpError as err:
            _fail(where, str(err))
        for shape in out_shapes:
            _check_size(where, limits, "max_array_elements", element_count(shape),
                        f"the size of the {op.name} array of shape {tuple(shape)} it creates")
    for key, spec in op.attrs.items():    # a shape, a kernel or reps a tile multiplies by
        if spec.kind == "shape" and attrs[key] is not None:
            _check_size(where, limits, "max_array_elements",
                        element_count(n for n in attrs[key] if n is not None and n > 0),
                        f"the size {op.name}'s {key}={tuple(attrs[key])} spans")
    return count


_NAMES_IN_MESSAGES = 16     # an error lists an operator's inputs by name up to this many


def read_graph(text, source="<json>", limits=None):
    """(Symbol, recorded graph attributes) from MXNet-layout JSON text; every defect raises
    GraphFormatError, and so does a graph exceeding `limits` (LoadLimits)."""
    with garbage_collection_paused():
        return _read_graph(text, source, limits or LoadLimits())


def _read_graph(text, source, limits):
    try:
        graph = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise GraphFormatError(f"{source}: not valid JSON ({err})") from None
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        _fail(source, "expected an object with a 'nodes' list")
    if not isinstance(graph.get("heads"), list) or not graph["heads"]:
        _fail(source, "expected a non-empty 'heads' list")
    _check_size(source, limits, "max_nodes", len(graph["nodes"]), "the number of nodes")
    nodes, declared_bytes = [], 0
    for i, entry in enumerate(graph["nodes"]):
        if not isinstance(entry, dict):
            _fail((source, i, None), "a node must be an object")
        op_name, name = entry.get("op"), entry.get("name")
        if not isinstance(op_name, str) or not isinstance(name, str):
            _fail((source, i, None), "a node needs string 'op' and 'name'")
        where = (source, i, name)
        raw_attrs = entry.get("attrs", entry.get("attr", entry.get("param", {}))) or {}
        if not isinstance(raw_attrs, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in raw_attrs.items()):
            _fail(where, "'attrs' must map strings to strings")
        inputs = entry.get("inputs", [])
        if not isinstance(inputs, list):
            _fail(where, "'inputs' must be a list")
        extra = {k: v for k, v in raw_attrs.items() if k.startswith("__")}
        if op_name == "null":
            if inputs:
                _fail(where, "a variable cannot have inputs")
            declared_bytes = _check_variable(where, limits, extra, declared_bytes)
            nodes.append(Node(None, name, extra=extra))
            continue
        try:
            op = ops.get(op_name)
            attrs = op.parse_attrs({k: v for k, v in raw_attrs.items() if not k.startswith("__")})
        except OpError as err:
            _fail(where, str(err))
        count = _check_operator(where, limits, op, attrs)
        if len(inputs) != count:
            names = op.input_names(attrs) if count <= _NAMES_IN_MESSAGES else ()
            _fail(where, f"{op_name} takes {count} inputs"
                         + (f" ({', '.join(names)})" if names else "")
                         + f", the file gives {len(inputs)}")
        parents = [_check_entry(where, e, nodes) for e in inputs]
        nodes.append(Node(op, name, attrs, parents, extra=extra))
    outputs = [_check_entry(f"{source}: heads", e, nodes) for e in graph["heads"]]
    return Symbol(outputs), _recorded_attrs(source, graph)


def load_json(json_str, **limits):
    """The Symbol of MXNet-layout JSON text; `limits` raise those of LoadLimits."""
    return read_graph(json_str, limits=LoadLimits.given(limits))[0]


def load(fname, **limits):
    """The Symbol of a `-symbol.json` file; `limits` raise those of LoadLimits."""
    return read_graph_file(fname, LoadLimits.given(limits))[0]


def read_graph_file(fname, limits=None):
    """(Symbol, recorded graph attributes) from a `-symbol.json` file."""
    limits = limits or LoadLimits()
    _check_size(fname, limits, "max_total_bytes", os.path.getsize(fname), "its size")
    with open(fname, encoding="utf-8") as stream:
        try:
            text = stream.read()
        except UnicodeDecodeError as err:
            raise GraphFormatError(f"{fname}: not a text file ({err})") from None
    return read_graph(text, source=fname, limits=limits)
