"""What the specializer knows about each expression: a compile-time value, or code for run time."""
import ast
from dataclasses import dataclass

ARRAY = "array"   # a numpy array at run time
ANY = "any"       # some other Python value at run time
NUMPY = "numpy"   # a plain numpy array of the user's code (`x.asnumpy()`): numpy's semantics


@dataclass
class Static:
    """Known while compiling: evaluated now, never emitted."""
    value: object


@dataclass
class Dynamic:
    """Known only at run time: `expr` computes it; `kind` says whether it is an array."""
    expr: ast.expr
    kind: str = ANY

    @property
    def is_array(self):
        return self.kind == ARRAY


@dataclass
class Seq:
    """A tuple or list whose length is known now and whose items may be dynamic."""
    items: list
    container: type = tuple
    external: bool = False     # the caller's own list (an argument): never changed in place


@dataclass
class Table:
    """A dict whose keys are known now and whose values may be dynamic (`**kwargs`, `{k: x}`)."""
    items: dict


@dataclass(eq=False)
class Local:
    """A function defined in the compiled code (`def`, `lambda`), inlined where it is called:
    `parsed` is its definition with its default values, `frame` the frame defining it, whose
    names it reads as Python's closures do (their values when it is called)."""
    parsed: object
    frame: object


@dataclass
class FRef:
    """`F` itself, or a name reached through it (`F.relu`, `F.random.normal`)."""
    path: str = ""


def is_static(value):
    return isinstance(value, Static) or (
        isinstance(value, Seq) and all(is_static(item) for item in value.items)) or (
        isinstance(value, Table) and all(is_static(item) for item in value.items.values()))


def static_value(value):
    if isinstance(value, Static):
        return value.value
    if isinstance(value, Table):
        return {key: static_value(item) for key, item in value.items.items()}
    return value.container(static_value(item) for item in value.items)


LITERAL_TYPES = (bool, int, float, str, type(None), complex, bytes)


def is_literal(value):
    if isinstance(value, (tuple, list)):
        return all(is_literal(v) for v in value)
    if isinstance(value, slice):
        return all(is_literal(v) for v in (value.start, value.stop, value.step))
    return isinstance(value, LITERAL_TYPES)
