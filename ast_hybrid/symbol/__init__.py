"""The `sym` namespace: Symbol, variables, JSON graphs, and one function per table operator."""
from ..ops.namespace import populate
from . import contrib, image, random
from .json_graph import GraphFormatError, load, load_json
from .symbol import Group, Symbol, apply, apply_named, var

Variable = var

populate(globals(), apply_named, apply)

__all__ = ["GraphFormatError", "Group", "contrib", "image", "load", "load_json", "random", "Symbol"]
