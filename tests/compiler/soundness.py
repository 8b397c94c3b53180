"""Compare a block's AST-mode calls with imperative mode: outputs, input and parameter
gradients and exception types, for every optimization setting, plus finite differences."""
import warnings

import numpy as np

from ast_hybrid import autograd, nd
from ast_hybrid.compiler.dispatch import HybridizeFallbackWarning
from ast_hybrid.gluon.parameter import DeferredInitializationError

SETTINGS = ({"optimize": True}, {"optimize": False}, {"static_alloc": True})


def _weighted_loss(output):
    outputs = output if isinstance(output, (list, tuple)) else [output]
    loss = None
    for position, item in enumerate(outputs):
        term = (item * (position + 1.5)).sum()
        loss = term if loss is None else loss + term
    return outputs, loss


def run_recorded(block, inputs):
    """(outputs, input gradients, {parameter: gradient}) of one recorded call, or the
    exception it raised."""
    arrays = [nd.array(x) for x in inputs]
    for array in arrays:
        array.attach_grad()
        array.grad[:] = 7.0             # a stale value shows which gradients were written
    params = block.collect_params()
    for param in params.values():
        try:
            param.grad()[:] = 7.0       # a stale value shows which gradients were written
        except DeferredInitializationError:
            pass                        # the first call gives it a shape
    try:
        with autograd.record():
            outputs, loss = _weighted_loss(block(*arrays))
        loss.backward()
    except Exception as error:          # compared by type with the other mode
        return error
    return ([o.asnumpy() for o in outputs], [a.grad.asnumpy() for a in arrays],
            {k: p.grad().asnumpy().copy() for k, p in params.items() if p.grad_req != "null"})


def run_unrecorded(block, inputs):
    """The outputs of one call outside autograd.record(), or the exception it raised."""
    try:
        output = block(*[nd.array(x) for x in inputs])
    except Exception as error:          # compared by type with the other mode
        return error
    outputs = output if isinstance(output, (list, tuple)) else [output]
    return [o.asnumpy() for o in outputs], [], {}


def assert_results_equal(got, want, label, rtol=1e-5, atol=1e-6):
    if isinstance(want, Exception):
        assert isinstance(got, Exception), f"{label}: imperative raised {want!r}, got a result"
        assert type(got) is type(want), f"{label}: raised {got!r}, imperative {want!r}"
        return
    assert not isinstance(got, Exception), f"{label}: raised {got!r}"
    for kind, got_items, want_items in zip(("output", "input gradient"), got[:2], want[:2]):
        assert len(got_items) == len(want_items)
        for index, (g, w) in enumerate(zip(got_items, want_items)):
            assert g.shape == w.shape, f"{label}: {kind} {index} shape {g.shape} vs {w.shape}"
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol,
                                       err_msg=f"{label}: {kind} {index}")
    assert got[2].keys() == want[2].keys()
    for key in want[2]:
        np.testing.assert_allclose(got[2][key], want[2][key], rtol=rtol, atol=atol,
                                   err_msg=f"{label}: gradient of {key}")


def assert_sound(make_block, *calls):
    """AST mode (fallback=False, each setting of SETTINGS) equals imperative mode on every
    argument tuple of `calls`, on first and cached calls, recorded and not. Returns
    imperative's recorded results."""
    block = make_block()
    block.initialize()
    expected = [run_recorded(block, inputs) for inputs in calls]
    unrecorded = [run_unrecorded(block, inputs) for inputs in calls]
    for setting in SETTINGS:
        with warnings.catch_warnings():
            warnings.simplefilter("error", HybridizeFallbackWarning)
            block.hybridize(fallback=False, **setting)
            for repeat in range(2):
                for inputs, want, plain in zip(calls, expected, unrecorded):
                    assert_results_equal(run_unrecorded(block, inputs), plain,
                                         f"{setting} call {repeat}, not recording")
                    assert_results_equal(run_recorded(block, inputs), want,
                                         f"{setting} call {repeat}")
    block.hybridize(active=False)
    return expected


def numeric_input_gradient(function, x, eps=1e-3):
    """Central differences of sum(function(x)) in float64, for a function on numpy arrays."""
    x = np.array(x, dtype=np.float64)
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        gradient[index] = (np.sum(function(plus)) - np.sum(function(minus))) / (2 * eps)
    return gradient
