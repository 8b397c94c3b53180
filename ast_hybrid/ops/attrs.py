"""Operator attribute kinds: typed values, their JSON string form, and validation."""
import ast as _pyast
from dataclasses import dataclass
from typing import Any, Callable

REQUIRED = object()


class AttrError(ValueError):
    """An attribute value that does not fit its declared kind."""


def _parse_literal(text, what):
    try:
        return _pyast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise AttrError(f"cannot read {what} from {text!r}") from None


def _to_int(value):
    if isinstance(value, bool):
        raise AttrError(f"expected an integer, got {value!r}")
    if isinstance(value, str):
        value = _parse_literal(value.strip(), "an integer")
    if hasattr(value, "__index__"):
        return int(value.__index__())
    raise AttrError(f"expected an integer, got {value!r}")


def _to_float(value):
    if isinstance(value, bool):
        raise AttrError(f"expected a number, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            raise AttrError(f"expected a number, got {value!r}") from None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AttrError(f"expected a number, got {value!r}") from None


def _to_bool(value):
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise AttrError(f"expected a boolean, got {value!r}")
    if isinstance(value, (bool, int)) or hasattr(value, "__bool__"):
        return bool(value)
    raise AttrError(f"expected a boolean, got {value!r}")


def _to_str(value):
    if not isinstance(value, str):
        raise AttrError(f"expected a string, got {value!r}")
    return value


def _to_shape(value):
    if isinstance(value, str):
        value = _parse_literal(value.strip(), "a shape")
    if hasattr(value, "__index__") and not isinstance(value, bool):
        return (int(value),)
    if isinstance(value, (tuple, list)):
        return tuple(_to_int(v) for v in value)
    raise AttrError(f"expected a shape (tuple of integers), got {value!r}")


def _to_float_tuple(value):
    """A number or a sequence of numbers (image.normalize's mean and std) as a tuple."""
    if isinstance(value, str):
        value = _parse_literal(value.strip(), "numbers")
    if isinstance(value, (tuple, list)):
        return tuple(_to_float(v) for v in value)
    return (_to_float(value),)


def _to_index_tuple(value):
    """A tuple whose entries are integers or None (slice bounds: `begin=(0, None)`)."""
    if isinstance(value, str):
        value = _parse_literal(value.strip(), "a tuple of integers or None")
    if value is None or hasattr(value, "__index__") and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (tuple, list)):
        return tuple(None if v is None else _to_int(v) for v in value)
    raise AttrError(f"expected a tuple of integers or None, got {value!r}")


def _optional(convert):
    def parse(value):
        if value is None or (isinstance(value, str) and value.strip() in ("None", "")):
            return None
        return convert(value)
    return parse


def _format_optional(value):
    return "None" if value is None else _format_value(value)


def _format_value(value):
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return str(value)


@dataclass(frozen=True)
class Attr:
    """One operator attribute: how to read it from user input or JSON text, and write it back."""
    kind: str
    default: Any = REQUIRED
    choices: tuple = ()

    @property
    def required(self):
        return self.default is REQUIRED

    def parse(self, value):
        value = _KINDS[self.kind](value)
        if self.choices and value is not None and value not in self.choices:
            raise AttrError(f"expected one of {', '.join(map(repr, self.choices))}, got {value!r}")
        return value

    def format(self, value):
        return _format_optional(value) if value is None else _format_value(value)


_KINDS: dict[str, Callable] = {
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "str": _to_str,
    "shape": _to_shape,
    "int_or_none": _optional(_to_int),
    "float_or_none": _optional(_to_float),
    "shape_or_none": _optional(_to_shape),
    "str_or_none": _optional(_to_str),
    "bool_or_none": _optional(_to_bool),
    "index_tuple": _to_index_tuple,
    "float_tuple": _to_float_tuple,
}

DTYPES = ("float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool")


def Int(default=REQUIRED):
    return Attr("int", default)


def Float(default=REQUIRED):
    return Attr("float", default)


def Bool(default=REQUIRED):
    return Attr("bool", default)


def Str(default=REQUIRED, choices=()):
    return Attr("str", default, tuple(choices))


def Shape(default=REQUIRED):
    return Attr("shape", default)


def OptInt(default=None):
    return Attr("int_or_none", default)


def OptFloat(default=None):
    return Attr("float_or_none", default)


def OptShape(default=None):
    return Attr("shape_or_none", default)


def OptStr(default=None, choices=()):
    return Attr("str_or_none", default, tuple(choices))


def OptBool(default=None):
    return Attr("bool_or_none", default)


def IndexTuple(default=REQUIRED):
    """A tuple of integers or None, as slice's begin/end/step."""
    return Attr("index_tuple", default)


def FloatTuple(default=REQUIRED):
    return Attr("float_tuple", default)


def Dtype(default="float32", choices=DTYPES):
    """A numpy dtype name, as MXNet writes it (`'float32'`)."""
    return Attr("str", default, tuple(choices))
