"""nd.contrib: MXNet's contrib operators of the table, by their short names."""
from ..ops.namespace import populate_contrib
from .invoke import apply_named

populate_contrib(globals(), apply_named)
