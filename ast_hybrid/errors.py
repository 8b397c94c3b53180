"""The exceptions and warnings ast_hybrid raises, importable from one public module."""
from .base import MXNetError
from .compiler.dispatch import HybridizeCheckError
from .compiler.entry import HybridizeFallbackWarning
from .compiler.passes.errors import CompileError, UnsupportedConstruct
from .ndarray.io import LoadError
from .ops.registry import OpError
from .symbol.json_graph import GraphFormatError

__all__ = ["MXNetError", "OpError", "CompileError", "UnsupportedConstruct",
           "HybridizeFallbackWarning", "HybridizeCheckError", "GraphFormatError", "LoadError"]
