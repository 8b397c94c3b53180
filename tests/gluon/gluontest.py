"""Helpers shared by the Gluon tests (imported as `gluontest`)."""
import numpy as np

from ast_hybrid import nd


def array(*shape, seed=0, low=-1.0, high=1.0):
    """A float32 NDArray of uniform values, the same for the same seed."""
    values = np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)
    return nd.array(values)


def as_list(output):
    return list(output) if isinstance(output, (tuple, list)) else [output]


def assert_same(got, want, rtol=1e-5, atol=1e-6):
    got, want = as_list(got), as_list(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g = g.asnumpy() if hasattr(g, "asnumpy") else np.asarray(g)
        w = w.asnumpy() if hasattr(w, "asnumpy") else np.asarray(w)
        assert g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def imperative_then_trace(net, *inputs, rtol=1e-5, atol=1e-6, ast=True):
    """Run `net` imperatively, then hybridized in trace mode (twice, the second call from the
    cached program), then (unless ast=False) in AST mode without fallback; the outputs must
    agree. Returns the imperative output."""
    expected = net(*inputs)
    for mode in ("trace", "ast") if ast else ("trace",):
        net.hybridize(mode=mode, fallback=False)
        first = net(*inputs)
        second = net(*inputs)
        assert_same(first, expected, rtol, atol)
        assert_same(second, expected, rtol, atol)
        assert net._programs is not None and len(net._programs) == 1
        assert next(iter(net._programs.values())).mode == mode
    return expected
