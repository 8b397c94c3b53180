"""Automatic node names (`dense0_fwd`, `fullyconnected0`) from the current name manager, so
a trace names deterministically: tracing the same network twice gives the same graph."""
import threading
from contextlib import contextmanager

from .. import name


def node_name(given, hint):
    """The name of a new node: the user's name or a fresh one, as the current manager
    gives it (inside a block, after the block's prefix)."""
    return name.current().get(given, hint)


class _TraceNames(threading.local):
    names = None          # id(parameter) -> the name of its variable in the graph being traced
    variables = None      # id(parameter) -> its variable in the graph being traced


_trace_names = _TraceNames()


def trace_names_active():
    """Whether a trace (or a block called on symbols) is naming parameters' variables now."""
    return _trace_names.names is not None


def set_trace_names(names):
    """While tracing, parameters become variables named by their key in the traced block;
    a parameter used twice (shared between blocks) is one variable of the graph."""
    previous, _trace_names.names = _trace_names.names, names
    _trace_names.variables = {} if names is not None else None
    return previous


def trace_names():
    """(names, variables) of the trace in progress (see _TraceNames), or (None, None)."""
    return _trace_names.names, _trace_names.variables


@contextmanager
def fresh_scope():
    """Fresh counters for names made outside any block, such as a trace's own nodes."""
    with name.NameManager():
        yield
