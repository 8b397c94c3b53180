"""The test context, environment variables for a block of code, retries, and numpy mode's
decorator."""
import contextlib
import functools
import os

from .. import ndarray as nd
from ..context import current_context
from ..util import use_np  # noqa: F401  (MXNet's test_utils has it too)

__all__ = ["default_context", "set_default_context", "default_dtype", "list_gpus",
           "environment", "retry", "use_np"]

_default = []   # the context set_default_context chose, if any


def default_context():
    """The context tests run on: the current one unless set_default_context chose another
    (everything runs on the CPU here)."""
    return _default[-1] if _default else current_context()


def set_default_context(ctx):
    _default[:] = [ctx]


def list_gpus():
    """The GPUs' ids: none, everything runs on the CPU."""
    return []


def retry(n):
    """Decorate a stochastic test to run up to n times until it raises no AssertionError."""
    assert n > 0

    def decorate(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            for attempt in range(n):
                try:
                    return test(*args, **kwargs)
                except AssertionError:
                    if attempt == n - 1:
                        raise
        return run
    return decorate


def default_dtype():
    import numpy as np
    return np.float32


@contextlib.contextmanager
def environment(*args):
    """Set environment variables for the body of a `with` (name and value, or a dict of
    them; a value of None unsets), restoring what was there afterwards."""
    if len(args) == 1 and isinstance(args[0], dict):
        settings = args[0]
    else:
        assert len(args) == 2, "Expecting one dict arg or two args: env var name and value"
        settings = {args[0]: args[1]}
    saved = {name: os.environ.get(name) for name in settings}
    _set_environment(settings)
    try:
        yield
    finally:
        nd.waitall()
        _set_environment(saved)


def _set_environment(settings):
    for name, value in settings.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


