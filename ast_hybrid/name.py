"""mx.name: automatic names counted per hint (`dense0`, `relu1`), in nestable scopes."""
import threading


class _Current(threading.local):
    def __init__(self):
        self.manager = None
        self.outer = []         # the managers that entered ones replaced, innermost last


_current = _Current()


def current():
    """The manager names come from now: the innermost one entered in this thread, else
    the thread's own (made on first use), whose counters last as long as the thread."""
    if _current.manager is None:
        _current.manager = NameManager()
    return _current.manager


class NameManager:
    """Gives a name to what has none: the hint and how many it named before (`dense0`).

    Symbols made at top level and blocks made outside any block's name_scope are named
    by the current manager; `with NameManager():` starts fresh counters until it exits.
    """

    def __init__(self):
        self._counter = {}

    def get(self, name, hint):
        """`name` if given, else the next name for `hint`."""
        if name:
            return name
        count = self._counter.get(hint, 0)
        self._counter[hint] = count + 1
        return f"{hint}{count}"

    def __enter__(self):
        _current.outer.append(current())
        _current.manager = self
        return self

    def __exit__(self, *exc_info):
        _current.manager = _current.outer.pop()


class Prefix(NameManager):
    """A NameManager that puts `prefix` before every name it gives, given names too."""

    def __init__(self, prefix):
        super().__init__()
        self._prefix = prefix

    def get(self, name, hint):
        return self._prefix + super().get(name, hint)
