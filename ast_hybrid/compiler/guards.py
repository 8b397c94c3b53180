"""Values a program was specialized on that no watcher sees change: module globals, closure
cells and attributes of plain objects holding data. Each is checked before the program runs;
one that changed drops the program, so the next build reads the new value."""
import copy

from .passes.values import is_literal

_MISSING = object()


def _snapshot(value):
    """(how to compare, what to compare with) for a data value, or None for other values
    (functions, modules, blocks: read once, see the README)."""
    if is_literal(value) and not isinstance(value, list):
        return ("is", value)
    if isinstance(value, (list, dict, set)) and _literal_contents(value):
        return ("==", copy.deepcopy(value))
    return None


def _literal_contents(value):
    if isinstance(value, dict):
        return all(is_literal(k) and is_literal(v) for k, v in value.items())
    return all(is_literal(v) for v in value)


class Guards:
    """The checks of one program: `holds()` is true while every value read is unchanged."""
    __slots__ = ("checks",)

    def __init__(self):
        self.checks = {}

    def global_name(self, namespace, name, value):
        self._add(("global", id(namespace), name), lambda: namespace.get(name, _MISSING), value)

    def cell(self, cell, value):
        self._add(("cell", id(cell)), lambda: cell.cell_contents, value)

    def attribute(self, obj, name, value):
        self._add(("attribute", id(obj), name), lambda: getattr(obj, name, _MISSING), value)

    def _add(self, key, read, value):
        snapshot = _snapshot(value)
        if snapshot is not None and key not in self.checks:
            self.checks[key] = (read,) + snapshot

    def holds(self):
        for read, how, expected in self.checks.values():
            current = read()
            if how == "is":
                if current is not expected and not (is_literal(current) and type(current)
                                                    is type(expected) and current == expected):
                    return False
            elif type(current) is not type(expected) or current != expected:
                return False
        return True

    def __bool__(self):
        return bool(self.checks)
