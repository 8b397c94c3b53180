"""sym.contrib: MXNet's contrib operators of the table, by their short names."""
from ..ops.namespace import populate_contrib
from .symbol import apply_named

populate_contrib(globals(), apply_named)
