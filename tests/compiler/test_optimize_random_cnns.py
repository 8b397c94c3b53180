"""Random small convolutional networks (convolutions of every path, BatchNorm, relu and relu6,
pooling, DenseNet-style concatenations, residual sums) compute bit for bit the same in imperative
mode, with optimize=False and with the optimization passes: in predict mode, in training mode and
back, and after cast('float64')."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ast_hybrid import autograd, nd
from ast_hybrid.gluon import nn
from ast_hybrid.gluon.contrib.nn import HybridConcurrent, Identity
from pass_cases import three_copies


class _Residual(nn.HybridBlock):
    def __init__(self, body):
        super().__init__()
        with self.name_scope():
            self.body = body

    def hybrid_forward(self, F, x):
        return F.relu(x + self.body(x))


class _Relu6(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        return F.clip(x, 0, 6)


LAYERS = st.one_of(
    st.tuples(st.just("conv"), st.sampled_from([1, 2, 5, 8]), st.sampled_from([1, 3]),
              st.booleans()),
    st.tuples(st.just("depthwise")), st.tuples(st.just("bn"), st.booleans()),
    st.tuples(st.just("relu")), st.tuples(st.just("relu6")),
    st.tuples(st.just("dense"), st.integers(1, 3)), st.tuples(st.just("res")))

RECIPES = st.tuples(st.sampled_from([1, 3, 8]), st.lists(LAYERS, min_size=2, max_size=6),
                    st.booleans())


def _layer(recipe, channels):
    """(a layer keeping the spatial size, its output channels)."""
    kind = recipe[0]
    if kind == "conv":
        _, filters, size, bias = recipe
        return nn.Conv2D(filters, size, padding=size // 2, use_bias=bias), filters
    if kind == "depthwise":
        return nn.Conv2D(channels, 3, padding=1, groups=channels, use_bias=False), channels
    if kind == "bn":
        return nn.BatchNorm(scale=recipe[1]), channels
    if kind == "relu":
        return nn.Activation("relu"), channels
    if kind == "relu6":
        return _Relu6(), channels
    if kind == "dense":
        block = nn.HybridSequential(prefix="")
        for _ in range(recipe[1]):
            new = nn.HybridSequential(prefix="")
            new.add(nn.BatchNorm(), nn.Activation("relu"), nn.Conv2D(2, 3, padding=1))
            link = HybridConcurrent(axis=1, prefix="")
            link.add(Identity(), new)
            block.add(link)
            channels += 2
        return block, channels
    body = nn.HybridSequential(prefix="")
    body.add(nn.Conv2D(channels, 3, padding=1), nn.BatchNorm())
    return _Residual(body), channels


def _build(recipe):
    channels, layers, max_pool = recipe
    net = nn.HybridSequential()
    with net.name_scope():
        for layer in layers:
            block, channels = _layer(layer, channels)
            net.add(block)
        net.add(nn.MaxPool2D(2) if max_pool else nn.AvgPool2D(3, strides=1, padding=1))
    return net


def _copies(recipe, seed, batch):
    x = nd.array(np.random.default_rng(seed).uniform(-2, 2, (batch, recipe[0], 6, 6))
                 .astype("float32"))
    rng = np.random.default_rng(seed + 1)

    def set_weights(net):
        for p in net.collect_params().values():
            low = 0.5 if p.name.endswith("var") else -1.0
            p.set_data(nd.array(rng.uniform(low, 1.5, p.shape).astype(p.dtype)))
    return three_copies(lambda: _build(recipe), x, set_weights), x


def _same(nets, x):
    results = [net(x).asnumpy() for net in nets]
    for got in results[1:]:
        assert got.dtype == results[0].dtype and np.array_equal(got, results[0])


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(recipe=RECIPES, seed=st.integers(0, 2 ** 16), batch=st.sampled_from([1, 2]))
def test_random_cnns_equal_imperative_and_unoptimized_bit_for_bit(recipe, seed, batch):
    nets, x = _copies(recipe, seed, batch)
    with autograd.predict_mode():
        _same(nets, x)
    with autograd.train_mode():
        _same(nets, x)
    with autograd.predict_mode():
        _same(nets, x)
    for net in nets:
        net.cast("float64")
    with autograd.predict_mode():
        _same(nets, x.astype("float64"))
