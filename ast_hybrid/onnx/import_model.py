"""import_model: an ONNX model read back into a SymbolBlock with its parameters."""
import os

import numpy as np

from ..limits import LoadLimits
from .errors import OnnxImportError
from .import_ops import IMPORTERS, MIN_OPSET
from .package import onnx_package


def import_model(model_file, **limits):
    """A SymbolBlock computing the ONNX model at `model_file`, its initializers as the
    block's parameters (named as in the model), its inputs in the model's order. A node
    without an exact form among this package's operators raises OnnxImportError naming it;
    `limits` raise those of ast_hybrid.limits.LoadLimits (the file's size is checked before
    it is read). Names from the file are only ever data: node and parameter names."""
    onnx = onnx_package()
    from .. import ndarray as nd
    from .. import symbol as sym
    from ..gluon.symbol_block import SymbolBlock
    from ..symbol.naming import fresh_scope
    load_limits = LoadLimits.given(limits)
    message = load_limits.exceeded("max_total_bytes", os.path.getsize(model_file), "its size")
    if message:
        raise OnnxImportError("model", model_file, message)
    model = _read(model_file)
    _check_internal_data(model.graph)
    _check_opsets(model)
    _check_size(load_limits, model.graph)
    try:        # the ranks some operators need; without them those refuse
        model = onnx.shape_inference.infer_shapes(model)
    except onnx.shape_inference.InferenceError:
        pass
    with fresh_scope():
        reader = GraphReader(model.graph)
        outputs = [reader.value(output.name) for output in model.graph.output]
        inputs = [sym.var(name) for name in reader.input_names]
        block = SymbolBlock(outputs, inputs)
    params = block.collect_params()
    for name, array in reader.params.items():
        params[name].initialize()
        params[name].set_data(nd.array(array, dtype=array.dtype))
    return block


def _read(model_file):
    import onnx
    from google.protobuf.message import DecodeError
    try:
        # tensors kept in other files would be read from paths the model names: refused
        return onnx.load(model_file, load_external_data=False)
    except DecodeError as err:
        raise OnnxImportError("model", model_file, f"not an ONNX model ({err})") from None


def _check_opsets(model):
    for opset in model.opset_import:
        if opset.domain not in ("", "ai.onnx"):
            raise OnnxImportError("model", opset.domain, "operators of other domains than "
                                  "ONNX's own are not supported")
        if opset.version < MIN_OPSET:
            raise OnnxImportError("model", f"opset {opset.version}", f"opsets before "
                                  f"{MIN_OPSET} are not supported (Softmax differs there)")


def _check_internal_data(graph):
    from onnx import TensorProto
    for tensor in graph.initializer:
        if tensor.data_location == TensorProto.EXTERNAL:
            raise OnnxImportError("initializer", tensor.name, "tensors stored in other files "
                                  "are not supported")


def _check_size(limits, graph):
    message = limits.exceeded("max_nodes", len(graph.node), "the number of nodes")
    if message:
        raise OnnxImportError("model", graph.name, message)


class GraphReader:
    """Reads the graph's nodes in order into Symbols: `value(name)` is the Symbol of a
    tensor; constants (initializers, Constant nodes and what folds from them) stay arrays
    until a node takes one as a tensor, which makes it a parameter."""

    def __init__(self, graph):
        from onnx import numpy_helper
        self.constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.ranks = _ranks(graph)
        self.input_names = [i.name for i in graph.input if i.name not in self.constants]
        self.params = {}
        self.shape_of = {}          # the output of a Shape node: the tensor it measures
        self._symbols = {}
        from .. import symbol as sym
        for name in self.input_names:
            self._symbols[name] = sym.var(name)
        for node in graph.node:
            self._read(node)

    def _read(self, node):
        from onnx import helper
        convert = IMPORTERS.get(node.op_type)
        if convert is None:
            raise OnnxImportError(node.op_type, node.name, "the operator has no mapping")
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        results = convert(NodeView(self, node, attrs))
        if not isinstance(results, (list, tuple)):
            results = [results]
        for name, result in zip(node.output, results):
            if isinstance(result, np.ndarray):
                self.constants[name] = result
            else:
                self._symbols[name] = result

    def value(self, name):
        """The Symbol of tensor `name`; a constant becomes a parameter of that name."""
        if name in self._symbols:
            return self._symbols[name]
        if name in self.constants:
            from .. import symbol as sym
            array = self.constants[name]
            self.params[name] = array
            self._symbols[name] = sym.var(name, shape=array.shape)
            return self._symbols[name]
        raise OnnxImportError("graph", name, "the tensor is used before it is computed")


def _ranks(graph):
    ranks = {}
    for info in list(graph.input) + list(graph.value_info) + list(graph.output):
        tensor = info.type.tensor_type
        if tensor.HasField("shape"):
            ranks[info.name] = len(tensor.shape.dim)
    for t in graph.initializer:
        ranks[t.name] = len(t.dims)
    return ranks


class NodeView:
    """One ONNX node as an importer sees it: its inputs as Symbols or constant arrays."""

    def __init__(self, reader, node, attrs):
        self.reader, self.node, self.attrs = reader, node, attrs
        self.name = node.name or None
        self._applied = 0

    def count(self):
        return sum(1 for name in self.node.input if name)

    def has(self, i):
        return i < len(self.node.input) and bool(self.node.input[i])

    def input(self, i):
        return self.reader.value(self.node.input[i])

    def inputs(self):
        return [self.reader.value(name) for name in self.node.input if name]

    def is_const(self, i):
        return self.has(i) and self.node.input[i] in self.reader.constants

    def const(self, i, what):
        if not self.is_const(i):
            self.refuse(f"its {what} must be a constant")
        return self.reader.constants[self.node.input[i]]

    def all_const(self):
        return all(self.is_const(i) for i in range(len(self.node.input)) if self.has(i))

    def rank(self, i=0):
        rank = self.reader.ranks.get(self.node.input[i])
        if rank is None:
            self.refuse("the rank of its input is not known")
        return rank

    def attr(self, key, default=None):
        return self.attrs.get(key, default)

    def apply(self, op_name, inputs, **attrs):
        """Our operator on `inputs`, named after the ONNX node (`NAME_1`.. after the first)."""
        from ..symbol.symbol import apply
        name = self.name
        if name is not None and self._applied:
            name = f"{name}_{self._applied}"
        self._applied += 1
        return apply(op_name, inputs, attrs, name=name)

    def refuse(self, reason):
        raise OnnxImportError(self.node.op_type, self.node.name or self.node.output[0], reason)
