"""Errors shared across the package and how to find the user's own line in a stack."""
import os
import sys

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class MXNetError(RuntimeError):
    """Raised where MXNet raises MXNetError, so `except mx.base.MXNetError` keeps working."""


def user_location(skip_generated=False):
    """(filename, lineno) of the innermost frame outside this package, or None."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        inside = os.path.abspath(filename).startswith(PACKAGE_DIR + os.sep)
        generated = filename.startswith("<ast_hybrid")
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
