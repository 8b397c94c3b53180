"""The optimized program (the default, optimize=True) computes what imperative mode computes bit
for bit: specialized kernels sum in the order the table's kernels sum in."""
import itertools

import numpy as np
import pytest

from ast_hybrid import autograd, nd
from ast_hybrid.gluon import nn
from ast_hybrid.gluon.model_zoo import vision

CONVOLUTIONS = [
    (nn.Conv1D, dict(channels=6, kernel_size=3, strides=2, padding=1), (2, 4, 11)),
    (nn.Conv1D, dict(channels=6, kernel_size=3, dilation=2, groups=2), (2, 4, 11)),
    (nn.Conv1D, dict(channels=16, kernel_size=5, padding=2), (1, 16, 20)),
    (nn.Conv2D, dict(channels=5, kernel_size=3), (2, 3, 9, 9)),
    (nn.Conv2D, dict(channels=8, kernel_size=3, strides=2, padding=1), (1, 16, 12, 12)),
    (nn.Conv2D, dict(channels=8, kernel_size=(3, 2), dilation=(2, 1), padding=(2, 0)),
     (2, 12, 10, 9)),
    (nn.Conv2D, dict(channels=12, kernel_size=1, strides=2), (2, 24, 7, 7)),
    (nn.Conv2D, dict(channels=8, kernel_size=3, groups=4, padding=1), (2, 8, 6, 6)),
    (nn.Conv2D, dict(channels=16, kernel_size=3, groups=16, padding=1), (1, 16, 6, 6)),
    (nn.Conv2D, dict(channels=8, kernel_size=3, use_bias=False, activation="relu"),
     (2, 32, 8, 8)),
    (nn.Conv2D, dict(channels=4, kernel_size=(3, 2), dilation=(1, 2), padding=1), (2, 16, 9, 8)),
    (nn.Conv3D, dict(channels=4, kernel_size=2, strides=(1, 2, 1)), (1, 3, 5, 6, 5)),
    (nn.Conv3D, dict(channels=6, kernel_size=3, padding=1, dilation=(1, 1, 2)),
     (2, 10, 4, 5, 7)),
]


def _imperative_and_compiled(build, shape, dtype="float32"):
    """(imperative output, AST-mode output) of two copies of one network on one input."""
    x = nd.array(np.random.default_rng(1).standard_normal(shape).astype(dtype))
    imperative, compiled = build(), build()
    for net in (imperative, compiled):
        net.initialize()
        net(x)
    for p, q in zip(imperative.collect_params().values(), compiled.collect_params().values()):
        q.set_data(p.data())
    compiled.hybridize()
    return imperative(x).asnumpy(), compiled(x).asnumpy()


@pytest.mark.parametrize("layer, kwargs, shape", CONVOLUTIONS)
def test_convolutions_equal_imperative_mode_bit_for_bit(layer, kwargs, shape):
    want, got = _imperative_and_compiled(lambda: layer(**kwargs), shape)
    assert got.shape == want.shape
    assert np.array_equal(got, want)


def test_a_convolution_chain_and_dense_equal_imperative_mode_bit_for_bit():
    def build():
        net = nn.HybridSequential()
        net.add(nn.Conv2D(16, 3, padding=1, activation="relu"), nn.Conv2D(24, 3, strides=2),
                nn.MaxPool2D(2), nn.Dense(10, activation="tanh"), nn.Dense(3))
        return net
    want, got = _imperative_and_compiled(build, (2, 3, 12, 12))
    assert np.array_equal(got, want)


@pytest.mark.parametrize("name, shape", [
    ("resnet18_v1", (1, 3, 32, 32)), ("mobilenetv2_1.0", (1, 3, 32, 32)),
    ("squeezenet1.1", (1, 3, 224, 224)), ("densenet121", (1, 3, 224, 224))])
def test_model_zoo_networks_equal_imperative_mode_bit_for_bit(name, shape):
    with autograd.predict_mode():
        want, got = _imperative_and_compiled(lambda: vision.get_model(name), shape)
    assert np.array_equal(got, want)


def test_the_convolution_kernel_sums_as_its_specialization_for_every_channel_count():
    from ast_hybrid import ops
    op = ops.get("Convolution")
    rng = np.random.default_rng(2)
    for channels in (1, 3, 7, 8, 9, 20, 64):
        attrs = op.parse_attrs({"kernel": (3, 3), "num_filter": 5, "pad": (1, 1)})
        x = rng.standard_normal((2, channels, 6, 6)).astype(np.float32)
        w = rng.standard_normal((5, channels, 3, 3)).astype(np.float32)
        b = rng.standard_normal(5).astype(np.float32)
        want = op.kernel(x, w, b, **attrs)
        specialized = op.specialized_kernel(attrs)
        assert np.array_equal(specialized(x, w, b), want)
        # channel-last data (a transposed array) gathers into the same windows
        channel_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        assert np.array_equal(specialized(channel_last, w, b), want)
        assert np.array_equal(op.kernel(channel_last, w, b, **attrs), want)


@pytest.mark.parametrize("attrs, shape", [
    (dict(kernel=(3, 3), stride=(2, 2), pooling_convention="full"), (2, 3, 13, 11)),
    (dict(kernel=(3, 3), stride=(2, 2), pooling_convention="full"), (2, 3, 12, 11)),
    (dict(kernel=(3, 2), stride=(2, 3), pooling_convention="full"), (1, 4, 9, 8)),
    (dict(kernel=(13, 13)), (2, 5, 13, 13)),
    (dict(kernel=(5, 4), stride=(1, 2)), (1, 3, 7, 9)),
    (dict(kernel=(3, 3, 2), pooling_convention="full", stride=(2, 2, 2)), (1, 2, 7, 6, 5))])
@pytest.mark.parametrize("pool_type", ["max", "avg", "sum"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_the_pooling_kernel_pools_as_its_specialization(attrs, shape, pool_type, dtype):
    """'full' pooling whether or not its windows run past the data's end, and kernels of more
    offsets than windows, on channel-first and channel-last memory alike."""
    from ast_hybrid import ops
    op = ops.get("Pooling")
    parsed = op.parse_attrs(dict(attrs, pool_type=pool_type))
    x = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    want = op.kernel(x, **parsed)
    specialized = op.specialized_kernel(parsed)
    assert specialized is not None
    assert np.array_equal(specialized(x), want)
    channel_last = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    assert np.array_equal(specialized(np.moveaxis(channel_last, -1, 1)), want)
    assert np.array_equal(op.kernel(np.moveaxis(channel_last, -1, 1), **parsed), want)


class _ConvolutionThenReductions(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(32, 3, in_channels=16)

    def hybrid_forward(self, F, x):
        y = self.conv(x)
        return (F.sum(y, axis=(2, 3)), F.mean(y, axis=1), F.sum(y), F.norm(y, axis=1),
                F.Pooling(y, global_pool=True, kernel=(1, 1), pool_type="avg"))


def test_reductions_after_a_convolution_equal_imperative_mode_bit_for_bit():
    """Sums over a specialized convolution's output add in the order they add imperatively
    (a channel-last view of the same values rounded otherwise)."""
    x = nd.array(np.random.default_rng(0).standard_normal((2, 16, 30, 30)).astype("float32"))
    net = _ConvolutionThenReductions()
    net.initialize()
    want = [out.asnumpy() for out in net(x)]
    net.hybridize()
    for got, expected in zip(net(x), want):
        assert np.array_equal(got.asnumpy(), expected)


def _pooling_network():
    """SqueezeNet's poolings: ceil-mode max pooling whose windows tile the data, and one that
    runs past its end, then an average pooling of the whole image."""
    net = nn.HybridSequential()
    net.add(nn.Conv2D(8, 3, strides=2, activation="relu"), nn.MaxPool2D(3, 2, ceil_mode=True),
            nn.Conv2D(6, 1), nn.MaxPool2D(3, 2, ceil_mode=True), nn.AvgPool2D(5), nn.Flatten())
    return net


@pytest.mark.parametrize("shape", [(2, 3, 43, 43), (1, 3, 41, 45)])
def test_poolings_equal_imperative_mode_and_unoptimized_programs_bit_for_bit(shape):
    """In predict mode, in float64 after cast, after a training step's new weights, and in a
    recorded forward's values and gradients."""
    rng = np.random.default_rng(4)
    x = nd.array(rng.standard_normal(shape).astype("float32"))
    nets = [_pooling_network() for _ in range(3)]
    for net in nets:
        net.initialize()
        net(x)
    for others in zip(*(net.collect_params().values() for net in nets)):
        for q in others[1:]:
            q.set_data(others[0].data())
    imperative, optimized, unoptimized = nets
    optimized.hybridize()
    unoptimized.hybridize(optimize=False)

    def outputs(data):
        return [net(data).asnumpy() for net in nets]

    want, got, plain = outputs(x)
    assert np.array_equal(got, want) and np.array_equal(plain, want)
    grads = []
    for net in nets:
        with autograd.record():
            y = net(x)
        y.backward()
        grads.append([p.grad().asnumpy() for p in net.collect_params().values()])
    for grad in grads[1:]:
        assert all(np.array_equal(g, h) for g, h in zip(grad, grads[0]))
    for net in nets:
        for p, g in zip(net.collect_params().values(), grads[0]):
            p.set_data(p.data() - 0.1 * nd.array(g))
    want, got, plain = outputs(x)
    assert np.array_equal(got, want) and np.array_equal(plain, want)
    for net in nets:
        net.cast("float64")
    want, got, plain = outputs(x.astype("float64"))
    assert want.dtype == np.float64
    assert np.array_equal(got, want) and np.array_equal(plain, want)


@pytest.mark.parametrize("attrs", [dict(kernel=(3, 3), stride=(2, 2)), dict(kernel=(2, 3)),
                                   dict(kernel=(3, 3), stride=(2, 2), pooling_convention="full"),
                                   dict(kernel=(3,), stride=(2,))])
def test_max_pooling_keeps_the_same_zero_and_nan_as_its_specialization(attrs):
    """Of equal maxima 0.0 and -0.0, the specialized kernel keeps the one the table's kernel
    keeps, the last in row-major order (a maximum over one view per offset keeps it too), and
    NaN wins in both."""
    from ast_hybrid import ops
    op = ops.get("Pooling")
    parsed = op.parse_attrs(dict(attrs, pool_type="max"))
    rng = np.random.default_rng(5)
    shape = (2, 3, 9, 11)[:2 + len(attrs["kernel"])]
    x = rng.choice(np.array([0.0, -0.0, -1.0], dtype=np.float32), size=shape)
    x.flat[::17] = np.nan
    want = op.kernel(x, **parsed)
    got = op.specialized_kernel(parsed)(x)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))
    assert np.isnan(want).any() and np.signbit(want[want == 0]).any()
    kernel = parsed["kernel"]
    stride = tuple(parsed["stride"]) or (1,) * len(kernel)
    out = want.shape[2:]
    last = None
    for offset in itertools.product(*map(range, kernel)):
        view = x[(Ellipsis,) + tuple(slice(i, i + (o - 1) * s + 1, s)
                                     for i, o, s in zip(offset, out, stride))]
        last = view.copy() if last is None else np.maximum(last, view)
    if parsed["pooling_convention"] == "valid":
        assert np.array_equal(np.signbit(want), np.signbit(last))
