"""ONNX conversion as MXNet 1.9's mx.onnx: export_model, import_model, HybridBlock.export_onnx."""
from .errors import OnnxExportError, OnnxImportError
from .export_model import export_model
from .import_model import import_model

__all__ = ["export_model", "import_model", "OnnxExportError", "OnnxImportError"]
