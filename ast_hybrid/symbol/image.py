"""sym.image: MXNet's image operators of the table, by their short names."""
from ..ops.namespace import IMAGE_PREFIX, populate_contrib
from .symbol import apply_named

populate_contrib(globals(), apply_named, IMAGE_PREFIX)
