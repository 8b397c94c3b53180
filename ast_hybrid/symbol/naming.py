"""Automatic node names (`dense0_fwd`, `fullyconnected0`) from the current name manager, so
a trace names deterministically: tracing the same network twice gives the same graph."""
from contextlib import contextmanager

from .. import name


def node_name(given, hint):
    """The name of a new node: the user's name or a fresh one, as the current manager
    gives it (inside a block, after the block's prefix)."""
    return name.current().get(given, hint)


@contextmanager
def fresh_scope():
    """Fresh counters for names made outside any block, such as a trace's own nodes."""
    with name.NameManager():
        yield
