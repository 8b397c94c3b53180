"""The errors of ONNX conversion: an operator or attribute without an exact equivalent."""
from ..base import MXNetError


class OnnxExportError(MXNetError, ValueError):
    """A graph node that has no exact ONNX form: `op` and `node` name what refused."""

    def __init__(self, op, node, reason):
        super().__init__(f"cannot export {op} node {node!r} to ONNX: {reason}")
        self.op, self.node = op, node


class OnnxImportError(MXNetError, ValueError):
    """An ONNX node without an exact form among this package's operators."""

    def __init__(self, op, node, reason):
        super().__init__(f"cannot import ONNX {op} node {node!r}: {reason}")
        self.op, self.node = op, node
