"""The ONNX graph under construction: nodes, initializers, fresh tensor names, node shapes."""
import numpy as np

from .errors import OnnxExportError


class GraphBuilder:
    """What a converter writes into. `shapes` maps (id(node), output index) to the pair of
    shapes inferred at two sizes of the dynamic input axes, so an axis that differs between
    them depends on those sizes and must not be written as a constant."""

    def __init__(self, shapes, dtype):
        from onnx import helper, numpy_helper
        self._helper, self._numpy_helper = helper, numpy_helper
        self.shapes = shapes
        self.model_dtype = np.dtype(dtype)
        self.dtype = self.model_dtype       # the converted node's data type
        self.nodes, self.initializers = [], []
        self._taken = set()
        self.current = None         # the graph node being converted, for errors

    def fresh(self, hint):
        """A tensor name not used before: `hint`, or `hint_N`."""
        name, count = hint, 0
        while name in self._taken:
            count += 1
            name = f"{hint}_{count}"
        self._taken.add(name)
        return name

    def add(self, op_type, inputs, outputs=1, **attrs):
        """Append an ONNX node; returns its output name (or names, when `outputs` > 1)."""
        hint = self.current.name if self.current is not None else op_type.lower()
        names = [self.fresh(f"{hint}_{op_type.lower()}") for _ in range(outputs)]
        self.nodes.append(self._helper.make_node(op_type, list(inputs), names,
                                                 name=self.fresh(f"{hint}_{op_type}"), **attrs))
        return names[0] if outputs == 1 else names

    def add_identity(self, tensor, name):
        self.nodes.append(self._helper.make_node("Identity", [tensor], [name],
                                                 name=self.fresh(f"{name}_Identity")))
        return name

    def initializer(self, name, array):
        self.initializers.append(self._numpy_helper.from_array(np.asarray(array), name))
        return name

    def const(self, value, dtype=None, hint="const"):
        """A constant tensor (an initializer), of the node's data type unless `dtype`."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        return self.initializer(self.fresh(f"{self._hint()}_{hint}"), array)

    def ints(self, values, hint="ints"):
        return self.const(list(values), np.int64, hint)

    def _hint(self):
        return self.current.name if self.current is not None else "const"

    def shape_pair(self, node, index=0):
        return self.shapes[(id(node), index)]

    def static_dims(self, node, index=0):
        """The output's shape with None for the axes that depend on the dynamic input axes;
        refuses an output whose rank depends on them."""
        first, second = self.shape_pair(node, index)
        if len(first) != len(second):
            self.refuse("the rank of its output depends on the dynamic input axes")
        return tuple(a if a == b else None for a, b in zip(first, second))

    def rank(self, node, index=0):
        return len(self.static_dims(node, index))

    def refuse(self, reason):
        node = self.current
        raise OnnxExportError(node.op.name if node.op is not None else "variable", node.name,
                              reason)
