"""Property: random networks from nn layers and custom blocks give the same outputs in AST mode
as imperatively, on random inputs and batch sizes."""
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ast_hybrid import nd
from ast_hybrid.compiler.dispatch import HybridizeFallbackWarning
from ast_hybrid.gluon import nn

FEATURES = 6


class SignBranch(nn.HybridBlock):
    """Branches on the data: which path runs differs between inputs."""

    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold
        self.dense = nn.Dense(FEATURES)

    def hybrid_forward(self, F, x):
        if x.mean() > self.threshold:
            y = self.dense(x)
        else:
            y = F.tanh(x) - 1
        return y


class StaticRepeat(nn.HybridBlock):
    """A loop unrolled while compiling, calling a helper method."""

    def __init__(self, times):
        super().__init__()
        self.times = times
        self.dense = nn.Dense(FEATURES, activation="tanh")

    def step(self, F, x, k):
        return self.dense(x) * (0.5 ** k)

    def hybrid_forward(self, F, x):
        total = x
        for k in range(self.times):
            total = total + self.step(F, total, k)
        return total


class ShrinkLoop(nn.HybridBlock):
    """A while loop whose trip count depends on the data."""

    def hybrid_forward(self, F, x):
        while F.abs(x).max() > 2:
            x = x * 0.5
        return x


class Nested(nn.HybridBlock):
    """Children inside a container inside a block, with two outputs merged."""

    def __init__(self, units):
        super().__init__()
        self.inner = nn.HybridSequential()
        self.inner.add(nn.Dense(units, activation="relu"), nn.Dense(FEATURES))
        self.skip = nn.Dense(FEATURES, use_bias=False)

    def hybrid_forward(self, F, x):
        pieces = [self.inner(x), self.skip(x)]
        return F.add_n(*pieces) / len(pieces)


layer_specs = st.one_of(
    st.tuples(st.just("dense"), st.integers(1, 8),
              st.sampled_from([None, "relu", "tanh", "sigmoid", "softrelu"])),
    st.tuples(st.just("act"), st.sampled_from(["relu", "tanh", "softsign"])),
    st.tuples(st.just("layernorm")),
    st.tuples(st.just("dropout")),
    st.tuples(st.just("branch"), st.floats(-0.5, 0.5)),
    st.tuples(st.just("repeat"), st.integers(0, 3)),
    st.tuples(st.just("shrink")),
    st.tuples(st.just("nested"), st.integers(1, 8)),
)


def build(specs):
    net = nn.HybridSequential()
    net.add(nn.Dense(FEATURES))
    for spec in specs:
        kind = spec[0]
        if kind == "dense":
            net.add(nn.Dense(spec[1], activation=spec[2]), nn.Dense(FEATURES))
        elif kind == "act":
            net.add(nn.Activation(spec[1]))
        elif kind == "layernorm":
            net.add(nn.LayerNorm())
        elif kind == "dropout":
            net.add(nn.Dropout(0.3))
        elif kind == "branch":
            net.add(SignBranch(spec[1]))
        elif kind == "repeat":
            net.add(StaticRepeat(spec[1]))
        elif kind == "shrink":
            net.add(ShrinkLoop())
        else:
            net.add(Nested(spec[1]))
    return net


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(layer_specs, min_size=1, max_size=5),
       batches=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       seed=st.integers(0, 2 ** 16), scale=st.floats(0.1, 10))
def test_ast_mode_equals_imperative(specs, batches, seed, scale):
    rng = np.random.default_rng(seed)
    net = build(specs)
    net.initialize()
    inputs = [nd.array((rng.standard_normal((b, 4)) * scale).astype(np.float32))
              for b in batches]
    expected = [net(x).asnumpy() for x in inputs]
    net.hybridize()
    with warnings.catch_warnings():
        warnings.simplefilter("error", HybridizeFallbackWarning)
        for x, want in zip(inputs, expected):
            got = net(x).asnumpy()
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert len(net._programs) == 1
