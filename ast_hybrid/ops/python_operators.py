"""How Python's operators (+, -, *, <, ...) map to table operators, for arrays and symbols alike."""
from numbers import Number

import numpy as np

from .elemwise import SCALAR_NAMES

# Python special method -> (operator family, whether the array is the right operand)
BINARY_METHODS = {
    "__add__": ("add", False), "__radd__": ("add", True),
    "__sub__": ("sub", False), "__rsub__": ("sub", True),
    "__mul__": ("mul", False), "__rmul__": ("mul", True),
    "__truediv__": ("div", False), "__rtruediv__": ("div", True),
    "__mod__": ("mod", False), "__rmod__": ("mod", True),
    "__pow__": ("power", False), "__rpow__": ("power", True),
    "__eq__": ("equal", False), "__ne__": ("not_equal", False),
    "__gt__": ("greater", False), "__ge__": ("greater_equal", False),
    "__lt__": ("lesser", False), "__le__": ("lesser_equal", False),
}

# Python builtins on arrays, by how Python dispatches them to an array's special methods:
# "unary" to the operator of the method named, "binary" to that operator family, "fold_add"
# to `start + a + b + ...` (sum), "select" to the item that wins the comparison named, as
# CPython's min/max compare (`item > best` for max); "plain" builtins see the array itself
# and give a value that is not an array (or raise what the array raises)
ARRAY_BUILTINS = {
    "abs": ("unary", "abs"), "pow": ("binary", "power"), "sum": ("fold_add", "add"),
    "max": ("select", "greater"), "min": ("select", "lesser"),
    **{name: ("plain", None) for name in ("len", "float", "int", "bool", "complex", "str",
                                          "repr", "format", "ascii", "round", "divmod",
                                          "any", "all", "type")},
}

# a comparison with the scalar on the left is the mirrored comparison with it on the right
_MIRRORED = {"greater": "lesser", "lesser": "greater", "greater_equal": "lesser_equal",
             "lesser_equal": "greater_equal", "equal": "equal", "not_equal": "not_equal"}
_COMMUTATIVE = {"add", "mul", "maximum", "minimum", "hypot", "equal", "not_equal"}


def is_scalar(value):
    return isinstance(value, (Number, np.number))


def resolve_binary(family, lhs, rhs):
    """(operator name, inputs, attrs) for `lhs <family> rhs` where either side may be a scalar."""
    lhs_scalar, rhs_scalar = is_scalar(lhs), is_scalar(rhs)
    if lhs_scalar and rhs_scalar:
        raise TypeError(f"{family}: at least one operand must be an array")
    if not lhs_scalar and not rhs_scalar:
        return "broadcast_" + family, (lhs, rhs), {}
    forward, reverse = SCALAR_NAMES[family]
    if rhs_scalar:
        return forward, (lhs,), {"scalar": float(rhs)}
    if family in _MIRRORED:
        return SCALAR_NAMES[_MIRRORED[family]][0], (rhs,), {"scalar": float(lhs)}
    if family in _COMMUTATIVE:
        return forward, (rhs,), {"scalar": float(lhs)}
    return reverse, (rhs,), {"scalar": float(lhs)}
