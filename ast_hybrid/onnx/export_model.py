"""export_model: a graph and its parameters written as an ONNX model (opset 17), as mx.onnx's."""
import numpy as np

from ..files import write_atomically
from .builder import GraphBuilder
from .converters import load_all
from .errors import OnnxExportError
from .package import onnx_package

OPSET = 17          # LayerNormalization's first opset


def export_model(sym, params, in_shapes=None, in_types=np.float32, onnx_file_path="model.onnx",
                 verbose=False, dynamic=True, dynamic_input_shapes=None,
                 run_shape_inference=False, input_type=None, input_shape=None):
    """Write the graph `sym` (a Symbol or a `-symbol.json` path) with `params` (a dict of
    arrays, keys with or without `arg:`/`aux:`, or a `.params` path) as an ONNX model at
    `onnx_file_path`, and return the path. `in_shapes` and `in_types` give the inputs (the
    graph's variables without a parameter) in graph order. With `dynamic` (the default) the
    first axis of every input is left free, or the axes that `dynamic_input_shapes` gives as
    None. A node without an exact ONNX form raises OnnxExportError naming it."""
    onnx = onnx_package()
    in_types = in_types if input_type is None else input_type
    in_shapes = in_shapes if input_shape is None else input_shape
    symbol, arrays = _load(sym, params)
    inputs = [name for name in symbol.list_inputs() if name not in arrays]
    if in_shapes is None or len(in_shapes) != len(inputs):
        raise ValueError(f"export_model: in_shapes must give a shape for each input "
                         f"({', '.join(inputs)})")
    types = in_types if isinstance(in_types, (list, tuple)) else [in_types] * len(inputs)
    if len(types) != len(inputs):
        raise ValueError("export_model: the lengths of in_types and in_shapes must be equal")
    in_shapes = [tuple(int(n) for n in shape) for shape in in_shapes]
    free = _free_axes(in_shapes, dynamic, dynamic_input_shapes)
    shapes = _shape_pairs(symbol, dict(zip(inputs, in_shapes)), free, arrays)
    g = GraphBuilder(shapes, types[0])
    outputs = _convert(g, symbol, dict(zip(inputs, types)), arrays, verbose)
    graph_inputs = [_value_info(name, np.dtype(t), shape, axes)
                    for name, t, shape, axes in zip(inputs, types, in_shapes, free)]
    graph_outputs = [_value_info(name, dtype, dims, None) for name, dtype, dims in outputs]
    model = onnx.helper.make_model(
        onnx.helper.make_graph(g.nodes, "ast_hybrid", graph_inputs, graph_outputs,
                               g.initializers),
        opset_imports=[onnx.helper.make_opsetid("", OPSET)], producer_name="ast_hybrid")
    if run_shape_inference:
        model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    write_atomically(onnx_file_path, lambda stream: stream.write(model.SerializeToString()))
    return onnx_file_path


def _load(sym, params):
    from .. import symbol as symbols
    from ..ndarray import load
    if isinstance(sym, str):
        sym = symbols.load(sym)
    if isinstance(params, str):
        params = load(params)
    if isinstance(params, (list, tuple)) and len(params) == 2:   # (arg_params, aux_params)
        params = {**params[0], **params[1]}
    if not isinstance(params, dict):
        raise ValueError("export_model: params must be a dict, a pair of dicts or a path")
    arrays = {}
    for key, value in params.items():
        name = key.split(":", 1)[1] if key.startswith(("arg:", "aux:")) else key
        arrays[name] = value.asnumpy() if hasattr(value, "asnumpy") else np.asarray(value)
    return sym, arrays


def _free_axes(in_shapes, dynamic, dynamic_input_shapes):
    """The axes of each input left free in the model."""
    if not dynamic:
        return [() for _ in in_shapes]
    if dynamic_input_shapes is None:
        return [(0,) if shape else () for shape in in_shapes]
    if len(dynamic_input_shapes) != len(in_shapes):
        raise ValueError("export_model: dynamic_input_shapes must give a shape for each input")
    return [tuple(i for i, n in enumerate(shape) if n is None) for shape in dynamic_input_shapes]


def _shape_pairs(symbol, in_shapes, free, arrays):
    """{(id(node), output): (shape, shape)}: inferred with the inputs' shapes, then with
    their free axes one longer, so an axis whose size they decide differs between the two."""
    from ..ops import OpError
    from ..symbol.shape_inference import infer_node_shapes
    given = {name: a.shape for name, a in arrays.items()}
    first = infer_node_shapes(symbol, {**given, **in_shapes})
    grown = {name: tuple(n + 1 if i in axes else n for i, n in enumerate(shape))
             for (name, shape), axes in zip(in_shapes.items(), free)}
    try:
        second = infer_node_shapes(symbol, {**given, **grown})
    except OpError as err:
        raise OnnxExportError("graph", symbol.name, "it does not take other sizes of the "
                              f"dynamic input axes ({err}); export with dynamic=False") from None
    return {key: (shape, second[key]) for key, shape in first.items()}


def _convert(g, symbol, in_types, arrays, verbose):
    converters = load_all()
    tensors, dtypes = {}, {}
    for node in symbol.topological_nodes():
        g.current = node
        if node.is_variable:
            tensors[id(node)] = [g.fresh(node.name)]
            if node.name in arrays:
                g.initializer(tensors[id(node)][0], arrays[node.name])
                dtypes[id(node)] = arrays[node.name].dtype
            elif node.name in in_types:
                dtypes[id(node)] = np.dtype(in_types[node.name])
            else:
                g.refuse("the variable has no value among the parameters")
            continue
        convert = converters.get(node.op.name)
        if convert is None:
            g.refuse("the operator has no ONNX mapping")
        in_dtypes = [dtypes[id(parent)] for parent, _ in node.inputs]
        g.dtype = in_dtypes[0] if in_dtypes else g.model_dtype   # what constants take
        tensors[id(node)] = convert(g, node, [tensors[id(p)][i] for p, i in node.inputs])
        for index in range(node.output_count()):   # a rank the batch decides has no ONNX form
            g.static_dims(node, index)
        dtypes[id(node)] = _output_dtype(node, in_dtypes, g.dtype)
        if verbose:
            print(f"{node.op.name} {node.name!r} -> {', '.join(tensors[id(node)])}")
    g.current = None
    outputs = []
    for node, index in symbol._outputs:
        name = node.name if node.output_count() == 1 else f"{node.name}_output{index}"
        outputs.append((g.add_identity(tensors[id(node)][index], g.fresh(name)),
                        dtypes[id(node)], _dims(g, node, index)))
    return outputs


def _output_dtype(node, in_dtypes, data_dtype):
    """The type of a node's outputs: the data's, but for the operators that set another."""
    if node.op.name == "cast" or not in_dtypes:
        return np.dtype(node.attrs["dtype"])
    if node.op.name == "Embedding":
        return in_dtypes[1]
    if node.op.name in ("argmax", "argmin"):
        return np.dtype(np.float32)
    return data_dtype


def _dims(g, node, index):
    first, second = g.shape_pair(node, index)
    return [a if a == b else None for a, b in zip(first, second)]


def _value_info(name, dtype, shape, free):
    from onnx import helper
    dims = [None if d is None or (free is not None and i in free) else d
            for i, d in enumerate(shape)]
    dims = [f"{name}_dim{i}" if d is None else d for i, d in enumerate(dims)]
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(dtype), dims)
