"""Automatic node names (`fullyconnected0`, ...), counted per scope so a trace names deterministically."""
import threading
from contextlib import contextmanager


class _Counters(threading.local):
    def __init__(self):
        self.stack = [{}]


_counters = _Counters()


def fresh_name(hint):
    counts = _counters.stack[-1]
    index = counts.get(hint, 0)
    counts[hint] = index + 1
    return f"{hint}{index}"


@contextmanager
def fresh_scope():
    """Names restart from 0 inside: tracing the same network twice gives the same node names."""
    _counters.stack.append({})
    try:
        yield
    finally:
        _counters.stack.pop()
