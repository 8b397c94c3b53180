"""Errors shared across the package and how to find the user's own line in a stack."""
import gc
import os
import sys
from contextlib import contextmanager

from . import program_files

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def data_dir():
    """MXNet's folder for data sets and models: $MXNET_HOME, else ~/.mxnet (%APPDATA%\\mxnet
    on Windows), so files MXNet already has are found where it keeps them."""
    if sys.platform == "win32":
        default = os.path.join(os.environ.get("APPDATA", ""), "mxnet")
    else:
        default = os.path.join(os.path.expanduser("~"), ".mxnet")
    return os.getenv("MXNET_HOME", default)


class MXNetError(RuntimeError):
    """Raised where MXNet raises MXNetError, so `except mx.base.MXNetError` keeps working."""


def user_location(skip_generated=False):
    """(filename, lineno) of the innermost frame outside this package, or None."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        inside = os.path.abspath(filename).startswith(PACKAGE_DIR + os.sep)
        generated = program_files.is_program_file(filename)
        if not inside and not (skip_generated and generated):
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


def describe_location(location):
    """'file.py:12: source text' for a (filename, lineno) pair."""
    if location is None:
        return "<unknown location>"
    import linecache
    filename, lineno = location
    text = linecache.getline(filename, lineno).strip()
    return f"{filename}:{lineno}" + (f": {text}" if text else "")


@contextmanager
def garbage_collection_paused():
    """Pause the cyclic garbage collector while building a large structure of many small
    objects (a graph of many nodes, a compiled program's syntax trees): its full passes over
    a growing heap make building quadratic in the node count, and the heap the user already
    holds (other networks, their programs) is walked at each of them. Such a build makes
    few reference cycles; the collector frees them once it runs again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
