"""Run MXNet 1.9.1's own Gluon unit tests against ast_hybrid, one function at a time.

MXNet's file is not part of this repository: take it from a clone of apache/mxnet,
    git -C MXNET_CLONE show 1.9.1:tests/python/unittest/test_gluon.py > /tmp/test_gluon.py
    python tools/mxnet_gluon_tests.py /tmp/test_gluon.py [test_name ...]
It runs in this project's environment with `mxnet` standing for ast_hybrid; the modules
MXNet's file imports that this package does not have (sparse storage, NumPy mode, nose,
MXNet's test `common`) are stand-ins that fail where they are used, so the tests needing
them fail with the reason. Prints PASS, SKIP (skipped by MXNet itself) or FAIL (with the
line of MXNet's file and the error) for each function, then the counts; given test names,
it prints the full traceback of each.
This measures compatibility; tests/gluon/test_mxnet_gluon_spec.py is the suite's own
specification of the same behaviours.
"""
import contextlib
import functools
import importlib
import os
import random
import sys
import tempfile
import traceback
import types
import unittest
import warnings

import numpy as np

import ast_hybrid


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def _with_seed(seed=None):
    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            value = 1234 if seed is None else seed
            np.random.seed(value)
            random.seed(value)
            ast_hybrid.random.seed(value)
            return function(*args, **kwargs)
        return run
    return decorate


def _assert_raises(expected, function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except expected:
        return
    raise AssertionError(f"did not raise {expected}")


def _raises(*expected):
    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            _assert_raises(expected, function, *args, **kwargs)
        return run
    return decorate


def install_stand_ins():
    """`mxnet` and its submodules as ast_hybrid's; stand-ins for the rest."""
    sys.modules["mxnet"] = ast_hybrid
    for name in ("gluon", "gluon.nn", "gluon.rnn", "gluon.data", "base", "ndarray",
                 "ndarray.ndarray", "symbol", "autograd", "initializer", "context", "random",
                 "optimizer", "test_utils", "util", "contrib"):
        sys.modules["mxnet." + name] = importlib.import_module("ast_hybrid." + name)
    storage = sys.modules["mxnet.ndarray.ndarray"]
    if not hasattr(storage, "_STORAGE_TYPE_STR_TO_ID"):
        storage._STORAGE_TYPE_STR_TO_ID = {"default": 0, "row_sparse": 1, "csr": 2}
    if not hasattr(ast_hybrid.base, "py_str"):
        ast_hybrid.base.py_str = lambda text: text.decode() if isinstance(text, bytes) else text
    if not hasattr(ast_hybrid, "numpy"):
        ast_hybrid.numpy = _module("mxnet.numpy")
    if not hasattr(ast_hybrid.ndarray, "sparse"):
        ast_hybrid.ndarray.sparse = _module("mxnet.ndarray.sparse")
    _module("scipy")
    _module("scipy.sparse")
    _module("nose")
    _module("nose.tools", raises=_raises, assert_raises=_assert_raises)
    _module("common", setup_module=lambda: None, teardown=lambda: None, with_seed=_with_seed,
            assertRaises=_assert_raises, environment=contextlib.nullcontext,
            assert_raises_cudnn_not_satisfied=lambda **kwargs: (lambda function: function))


def main(path, names):
    install_stand_ins()
    with open(path) as stream:
        source = stream.read()
    module = types.ModuleType("test_gluon")
    module.__file__ = path
    exec(compile(source, path, "exec"), module.__dict__)
    chosen = [n for n in module.__dict__ if n.startswith("test_") and (not names or n in names)]
    passed = failed = skipped = 0
    for name in chosen:
        folder, here = tempfile.mkdtemp(), os.getcwd()
        os.chdir(folder)        # MXNet's tests write files into the working directory
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module.__dict__[name]()
        except unittest.SkipTest as reason:     # skipped by MXNet itself
            skipped += 1
            print(f"SKIP {name} {reason}")
        except Exception as error:      # each test's failure is reported, the run goes on
            failed += 1
            frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == path]
            line = frames[-1].lineno if frames else "?"
            text = " ".join(str(error).split())[:200]
            print(f"FAIL {name} line {line} {type(error).__name__} {text}")
            if names:
                traceback.print_exc()
        else:
            passed += 1
            print(f"PASS {name}")
        finally:
            os.chdir(here)
    print(f"{passed} passed, {failed} failed, {skipped} skipped by MXNet's own file")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
