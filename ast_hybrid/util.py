"""mx.util: the switches of MXNet's NumPy mode, which this package does not have."""
import functools
from contextlib import contextmanager


def is_np_array():
    """Always False: arrays are MXNet 1.x's legacy NDArrays."""
    return False


def is_np_shape():
    """Always False: shapes follow MXNet 1.x's legacy rules."""
    return False


def _refuse(what):
    raise NotImplementedError(f"{what}: MXNet's NumPy mode (mx.np) is not available in "
                              "ast_hybrid; code written for it would compute with other "
                              "semantics")


def set_np_shape(active):
    """Turning NumPy shapes on is refused; off is what there is. Returns the previous state."""
    if active:
        _refuse("set_np_shape(True)")
    return False


def set_np(shape=True, array=True, dtype=False):
    if shape or array or dtype:
        _refuse("set_np")


def reset_np():
    """NumPy mode is never on."""


@contextmanager
def np_shape(active=True):
    if active:
        _refuse("np_shape(True)")
    yield


@contextmanager
def np_array(active=True):
    if active:
        _refuse("np_array(True)")
    yield


def use_np(func):
    """Code written for NumPy mode: refused when it runs (a class: when it is made), so a
    module that decorates its blocks still imports."""
    name = getattr(func, "__qualname__", repr(func))
    if isinstance(func, type):
        def refused_init(self, *args, **kwargs):
            _refuse(f"@use_np class {name}")
        func.__init__ = refused_init
        return func

    @functools.wraps(func)
    def refused(*args, **kwargs):
        _refuse(f"@use_np function {name}")
    return refused


use_np_shape = use_np_array = use_np


def get_gpu_count():
    return 0
