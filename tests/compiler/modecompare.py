"""Run a block imperatively, in trace mode and in AST mode, and compare the outputs."""
import warnings

import numpy as np

from ast_hybrid import MXNetError, nd
from ast_hybrid.compiler.dispatch import HybridizeFallbackWarning


def _as_numpy(output):
    if isinstance(output, (tuple, list)):
        return [_as_numpy(o) for o in output]
    if isinstance(output, nd.NDArray):
        return output.asnumpy()
    return output


def assert_same(got, want, rtol=1e-5, atol=1e-6):
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w, rtol, atol)
    elif isinstance(want, np.ndarray):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    else:
        assert got == want


def compare_modes(make_block, *inputs, trace_refuses=False, calls=None,
                  trace_error=MXNetError):
    """Outputs of imperative, trace and AST mode on each argument tuple in `calls` (default:
    just `inputs`); trace is expected to refuse (MXNetError) where `trace_refuses`.

    The same block (same parameters) is hybridized in turn, so the modes see one network."""
    block = make_block()
    block.initialize()
    calls = calls or [inputs]
    expected = [_as_numpy(block(*args)) for args in calls]
    with warnings.catch_warnings():
        warnings.simplefilter("error", HybridizeFallbackWarning)
        block.hybridize(mode="ast")
        for args, want in zip(calls, expected):
            assert_same(_as_numpy(block(*args)), want)
    block.hybridize(mode="trace")
    if trace_refuses:
        try:
            block(*calls[0])
        except trace_error as error:
            if trace_error is MXNetError:
                assert "cannot be traced" in str(error)
        else:
            raise AssertionError("trace mode was expected to refuse this block")
    else:
        for args, want in zip(calls, expected):
            assert_same(_as_numpy(block(*args)), want)
    block.hybridize(active=False)
    return block, expected
