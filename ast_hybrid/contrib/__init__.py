"""mx.contrib: the contrib operators' namespaces and an `amp` that says mixed precision is off."""
from .. import ndarray as _ndarray
from .. import symbol as _symbol
from . import amp

ndarray = nd = _ndarray.contrib
symbol = sym = _symbol.contrib

__all__ = ["amp", "nd", "ndarray", "sym", "symbol"]
