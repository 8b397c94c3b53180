"""Automatic node names (`dense0_fwd`, `fullyconnected0`), counted per scope so a trace names
deterministically: tracing the same network twice gives the same graph."""
import threading
from contextlib import contextmanager


class _Scopes(threading.local):
    def __init__(self):
        self.counters = [{}]
        self.prefixes = [""]


_scopes = _Scopes()


def fresh_name(hint):
    counts = _scopes.counters[-1]
    index = counts.get(hint, 0)
    counts[hint] = index + 1
    return f"{hint}{index}"


def node_name(given, hint):
    """The name of a new node: the user's name or a fresh one, after the current block's prefix."""
    return _scopes.prefixes[-1] + (given if given else fresh_name(hint))


@contextmanager
def fresh_scope():
    _scopes.counters.append({})
    _scopes.prefixes.append("")
    try:
        yield
    finally:
        _scopes.counters.pop()
        _scopes.prefixes.pop()


@contextmanager
def block_prefix(block_kind):
    """Nodes made inside a block's hybrid_forward are named `{kind}{n}_...` as in MXNet."""
    _scopes.prefixes.append(fresh_name(block_kind) + "_")
    try:
        yield
    finally:
        _scopes.prefixes.pop()
