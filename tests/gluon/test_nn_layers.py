"""Every gluon.nn layer against a plain-numpy reference, imperatively and hybridized in trace
mode (the two must agree), plus MXNet's reprs and argument defaults."""
import numpy as np
import pytest

from ast_hybrid import autograd, init, nd
from ast_hybrid.gluon import nn

from gluontest import array, assert_same, imperative_then_trace


def params_of(block):
    """The values by full name, the block's own prefix removed (`weight`, `dense0_weight`)."""
    prefix = block.prefix
    return {key[len(prefix):] if key.startswith(prefix) else key: p.data().asnumpy()
            for key, p in block.collect_params().items()}


# ----------------------------------------------------------------- numpy references
def relu(x):
    return np.maximum(x, 0)


def conv_ref(x, w, b, stride, pad, dilate, groups):
    """Direct convolution by loops over output positions and kernel offsets."""
    spatial = x.ndim - 2
    x = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    n, c = x.shape[:2]
    f, kernel = w.shape[0], w.shape[2:]
    out_size = [(x.shape[2 + i] - dilate[i] * (kernel[i] - 1) - 1) // stride[i] + 1
                for i in range(spatial)]
    out = np.zeros((n, f, *out_size))
    cg, fg = c // groups, f // groups
    for o in np.ndindex(*out_size):
        for k in np.ndindex(*kernel):
            at = tuple(o[i] * stride[i] + k[i] * dilate[i] for i in range(spatial))
            patch = x[(slice(None), slice(None)) + at]
            for g in range(groups):
                weights = w[(slice(g * fg, (g + 1) * fg), slice(None)) + k]   # (fg, cg)
                out[(slice(None), slice(g * fg, (g + 1) * fg)) + o] += \
                    patch[:, g * cg:(g + 1) * cg] @ weights.T
    if b is not None:
        out += b.reshape((1, f) + (1,) * spatial)
    return out


def pool_ref(x, kernel, stride, pad, pool_type, ceil_mode=False, count_include_pad=True):
    spatial = x.ndim - 2
    size = x.shape[2:]
    rounding = np.ceil if ceil_mode else np.floor
    out_size = [int(rounding((size[i] + 2 * pad[i] - kernel[i]) / stride[i])) + 1
                for i in range(spatial)]
    out = np.zeros(x.shape[:2] + tuple(out_size))
    for o in np.ndindex(*out_size):
        start = [o[i] * stride[i] - pad[i] for i in range(spatial)]
        end = [min(start[i] + kernel[i], size[i] + pad[i]) for i in range(spatial)]
        lo = [max(s, 0) for s in start]
        hi = [min(e, size[i]) for i, e in enumerate(end)]
        window = x[(slice(None), slice(None)) + tuple(slice(a, b) for a, b in zip(lo, hi))]
        if pool_type == "max":
            out[(slice(None), slice(None)) + o] = window.max(axis=tuple(range(2, x.ndim)))
        else:
            count = (np.prod([e - s for s, e in zip(start, end)]) if count_include_pad
                     else np.prod([b - a for a, b in zip(lo, hi)]))
            out[(slice(None), slice(None)) + o] = \
                window.sum(axis=tuple(range(2, x.ndim))) / count
    return out


def batch_norm_ref(x, gamma, beta, mean, var, eps, axis=1):
    shape = [1] * x.ndim
    shape[axis] = -1
    return ((x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * gamma.reshape(shape)
            + beta.reshape(shape))


# ----------------------------------------------------------------- Dense
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("activation", [None, "relu"])
def test_dense(use_bias, activation):
    net = nn.Dense(5, activation=activation, use_bias=use_bias)
    net.initialize(init.Normal(0.5))
    x = array(3, 4)
    out = imperative_then_trace(net, x)
    p = params_of(net)
    want = x.asnumpy() @ p["weight"].T + (p["bias"] if use_bias else 0)
    assert_same(out, relu(want) if activation else want)
    assert net.weight.shape == (5, 4)
    assert ("bias" in p) == use_bias


def test_dense_flattens_by_default_and_not_with_flatten_false():
    x = array(2, 3, 4)
    flat = nn.Dense(6, in_units=12)
    flat.initialize(init.Normal(0.5))
    out = imperative_then_trace(flat, x)
    p = params_of(flat)
    assert_same(out, x.asnumpy().reshape(2, 12) @ p["weight"].T + p["bias"])
    keep = nn.Dense(6, flatten=False)
    keep.initialize(init.Normal(0.5))
    out = imperative_then_trace(keep, x)
    p = params_of(keep)
    assert out.shape == (2, 3, 6) and keep.weight.shape == (6, 4)
    assert_same(out, x.asnumpy() @ p["weight"].T + p["bias"])


# ----------------------------------------------------------------- element-wise layers
ACTIVATIONS = {
    "relu": relu,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softrelu": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
}


@pytest.mark.parametrize("act_type", sorted(ACTIVATIONS))
def test_activation(act_type):
    x = array(3, 5, low=-3, high=3)
    out = imperative_then_trace(nn.Activation(act_type), x)
    assert_same(out, ACTIVATIONS[act_type](x.asnumpy().astype(np.float64)), rtol=1e-5)


@pytest.mark.parametrize("layer, reference", [
    (nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (nn.ELU(), lambda x: np.where(x > 0, x, np.expm1(x))),
    (nn.Swish(), lambda x: x / (1 + np.exp(-x))),
    (nn.PReLU(), lambda x: np.where(x > 0, x, 0.25 * x)),
], ids=["LeakyReLU", "ELU", "Swish", "PReLU"])
def test_parametrized_activations(layer, reference):
    layer.initialize()
    x = array(3, 4, low=-2, high=2)
    assert_same(imperative_then_trace(layer, x), reference(x.asnumpy()), rtol=1e-5)


def test_dropout_zero_rate_and_predict_mode_are_identity():
    x = array(4, 6)
    assert_same(imperative_then_trace(nn.Dropout(0), x), x)
    with autograd.record():
        assert_same(nn.Dropout(0)(x), x)
    # p > 0 outside autograd.record() (predict mode): the identity, imperative and traced
    assert_same(imperative_then_trace(nn.Dropout(0.5), x), x)


def test_dropout_training_mode_zeroes_or_scales_in_both_modes():
    x = nd.ones((50, 40))
    for net in (nn.Dropout(0.5), nn.Dropout(0.5)):
        with autograd.record():
            out = net(x).asnumpy()
        assert set(np.unique(out)) <= {0.0, 2.0}
        assert 0.3 < (out == 0).mean() < 0.7
        net.hybridize(mode="trace")    # the second net's program reads training at run time
    assert_same(net(x), x)


def test_flatten():
    x = array(2, 3, 4, 5)
    assert_same(imperative_then_trace(nn.Flatten(), x), x.asnumpy().reshape(2, 60))


def test_hybrid_lambda_with_name_and_function():
    x = array(3, 4, low=-2, high=2)
    assert_same(imperative_then_trace(nn.HybridLambda("tanh"), x), np.tanh(x.asnumpy()))
    double_relu = nn.HybridLambda(lambda F, x: F.relu(x) * 2)
    assert_same(imperative_then_trace(double_relu, x), relu(x.asnumpy()) * 2)


def test_lambda():
    x = array(3, 4)
    assert_same(nn.Lambda("tanh")(x), np.tanh(x.asnumpy()))
    assert_same(nn.Lambda(lambda a: a * 3)(x), x.asnumpy() * 3)


# ----------------------------------------------------------------- convolution
@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(strides=2),
    dict(padding=1),
    dict(dilation=2),
    dict(groups=2),
    dict(strides=2, padding=2, dilation=2, groups=2, use_bias=False),
], ids=["plain", "stride", "pad", "dilation", "groups", "all"])
def test_conv1d(kwargs):
    net = nn.Conv1D(4, 3, **kwargs)
    net.initialize(init.Normal(0.5))
    x = array(2, 6, 11)
    out = imperative_then_trace(net, x)
    p = params_of(net)
    assert net.weight.shape == (4, 6 // kwargs.get("groups", 1), 3)
    want = conv_ref(x.asnumpy(), p["weight"], p.get("bias"), (kwargs.get("strides", 1),),
                    (kwargs.get("padding", 0),), (kwargs.get("dilation", 1),),
                    kwargs.get("groups", 1))
    assert_same(out, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(strides=(2, 1)),
    dict(padding=(1, 2)),
    dict(dilation=(2, 1)),
    dict(groups=3),
    dict(strides=2, padding=1, dilation=2, groups=3, activation="relu"),
], ids=["plain", "stride", "pad", "dilation", "groups", "all"])
def test_conv2d(kwargs):
    net = nn.Conv2D(6, (3, 2), in_channels=3, **kwargs)
    net.initialize(init.Normal(0.5))
    x = array(2, 3, 9, 8)
    out = imperative_then_trace(net, x)
    p = params_of(net)
    pair = lambda v: (v, v) if isinstance(v, int) else v   # noqa: E731
    want = conv_ref(x.asnumpy(), p["weight"], p["bias"], pair(kwargs.get("strides", 1)),
                    pair(kwargs.get("padding", 0)), pair(kwargs.get("dilation", 1)),
                    kwargs.get("groups", 1))
    if kwargs.get("activation"):
        want = relu(want)
    assert_same(out, want, rtol=1e-4, atol=1e-5)


def test_conv_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2D(4, (3, 3, 3))
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2D(4, 3, groups=3)


def test_conv_repr_matches_mxnet():
    assert repr(nn.Conv2D(6, 5, in_channels=1)) == \
        "Conv2D(1 -> 6, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(nn.Conv1D(4, 3)) == "Conv1D(None -> 4, kernel_size=(3,), stride=(1,))"
    assert repr(nn.Conv2D(8, 3, strides=2, padding=1, dilation=2, groups=2, use_bias=False,
                          activation="relu")) == (
        "Conv2D(None -> 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
        "dilation=(2, 2), groups=2, bias=False, Activation(relu))")
    net = nn.Conv2D(6, 5)
    net.initialize()
    net(array(1, 2, 8, 8))
    assert repr(net) == "Conv2D(2 -> 6, kernel_size=(5, 5), stride=(1, 1))"


# ----------------------------------------------------------------- pooling
@pytest.mark.parametrize("layer, args", [
    (nn.MaxPool1D, dict()),
    (nn.MaxPool1D, dict(pool_size=3, strides=2, padding=1)),
    (nn.MaxPool1D, dict(pool_size=3, strides=2, ceil_mode=True)),
    (nn.AvgPool1D, dict()),
    (nn.AvgPool1D, dict(pool_size=3, strides=1, padding=1)),
    (nn.AvgPool1D, dict(pool_size=3, strides=1, padding=1, count_include_pad=False)),
    (nn.AvgPool1D, dict(pool_size=3, strides=2, ceil_mode=True)),
], ids=["max", "max-pad", "max-ceil", "avg", "avg-pad", "avg-exclude-pad", "avg-ceil"])
def test_pool1d(layer, args):
    x = array(2, 3, 10)
    out = imperative_then_trace(layer(**args), x)
    size = args.get("pool_size", 2)
    want = pool_ref(x.asnumpy(), (size,), (args.get("strides") or size,),
                    (args.get("padding", 0),), "max" if layer is nn.MaxPool1D else "avg",
                    args.get("ceil_mode", False), args.get("count_include_pad", True))
    assert_same(out, want)


@pytest.mark.parametrize("layer, args", [
    (nn.MaxPool2D, dict()),
    (nn.MaxPool2D, dict(pool_size=(3, 2), strides=(2, 1), padding=(1, 0))),
    (nn.MaxPool2D, dict(pool_size=3, strides=2, ceil_mode=True)),
    (nn.AvgPool2D, dict()),
    (nn.AvgPool2D, dict(pool_size=3, strides=2, padding=1)),
    (nn.AvgPool2D, dict(pool_size=3, strides=2, padding=1, count_include_pad=False)),
], ids=["max", "max-pad", "max-ceil", "avg", "avg-pad", "avg-exclude-pad"])
def test_pool2d(layer, args):
    x = array(2, 3, 7, 8)
    out = imperative_then_trace(layer(**args), x)
    pair = lambda v: (v, v) if isinstance(v, int) else v   # noqa: E731
    size = pair(args.get("pool_size", 2))
    want = pool_ref(x.asnumpy(), size, pair(args.get("strides") or size),
                    pair(args.get("padding", 0)), "max" if layer is nn.MaxPool2D else "avg",
                    args.get("ceil_mode", False), args.get("count_include_pad", True))
    assert_same(out, want)


def test_global_pools():
    x1, x2 = array(2, 3, 7), array(2, 3, 5, 6)
    assert_same(imperative_then_trace(nn.GlobalAvgPool1D(), x1),
                x1.asnumpy().mean(axis=2, keepdims=True))
    assert_same(imperative_then_trace(nn.GlobalAvgPool2D(), x2),
                x2.asnumpy().mean(axis=(2, 3), keepdims=True))
    assert_same(imperative_then_trace(nn.GlobalMaxPool2D(), x2),
                x2.asnumpy().max(axis=(2, 3), keepdims=True))
    assert_same(imperative_then_trace(nn.GlobalMaxPool1D(), x1),
                x1.asnumpy().max(axis=2, keepdims=True))


def test_pool_defaults_and_repr_match_mxnet():
    assert repr(nn.MaxPool2D()) == ("MaxPool2D(size=(2, 2), stride=(2, 2), padding=(0, 0), "
                                    "ceil_mode=False, global_pool=False, pool_type=max, "
                                    "layout=NCHW)")
    assert repr(nn.AvgPool1D(3, 2, 1, ceil_mode=True)) == (
        "AvgPool1D(size=(3,), stride=(2,), padding=(1,), ceil_mode=True, global_pool=False, "
        "pool_type=avg, layout=NCW)")
    assert repr(nn.GlobalAvgPool2D()) == (
        "GlobalAvgPool2D(size=(1, 1), stride=(1, 1), padding=(0, 0), ceil_mode=True, "
        "global_pool=True, pool_type=avg, layout=NCHW)")


# ----------------------------------------------------------------- normalization
def test_batch_norm_predict_mode_uses_running_stats():
    net = nn.BatchNorm()
    net.initialize()
    x = array(4, 3, 5, 5)
    net(x)                                # learn in_channels
    rng = np.random.default_rng(1)
    values = {"gamma": rng.uniform(0.5, 2, 3), "beta": rng.normal(size=3),
              "running_mean": rng.normal(size=3), "running_var": rng.uniform(0.5, 2, 3)}
    for key, value in values.items():
        getattr(net, key).set_data(value)
    out = imperative_then_trace(net, x)
    assert_same(out, batch_norm_ref(x.asnumpy(), values["gamma"], values["beta"],
                                    values["running_mean"], values["running_var"], 1e-5),
                rtol=1e-4, atol=1e-5)
    # predict mode leaves the running statistics alone
    assert_same(net.running_mean.data(), values["running_mean"].astype(np.float32))


@pytest.mark.parametrize("hybridize", [False, True], ids=["imperative", "trace"])
def test_batch_norm_training_updates_running_stats(hybridize):
    net = nn.BatchNorm(momentum=0.8, in_channels=3)
    net.initialize()
    net.gamma.set_data(np.array([1.0, 2.0, 0.5]))
    net.beta.set_data(np.array([0.0, 1.0, -1.0]))
    if hybridize:
        net.hybridize(mode="trace")
    x = array(4, 3, 5, seed=3, low=-2, high=3)
    data = x.asnumpy().astype(np.float64)
    mean, var = data.mean(axis=(0, 2)), data.var(axis=(0, 2))
    running_mean, running_var = np.zeros(3), np.ones(3)
    for _ in range(2):
        with autograd.record():
            out = net(x)
        running_mean = 0.8 * running_mean + 0.2 * mean
        running_var = 0.8 * running_var + 0.2 * var
        assert_same(out, batch_norm_ref(data, np.array([1.0, 2.0, 0.5]),
                                        np.array([0.0, 1.0, -1.0]), mean, var, 1e-5),
                    rtol=1e-4, atol=1e-5)
        assert_same(net.running_mean.data(), running_mean, rtol=1e-5)
        assert_same(net.running_var.data(), running_var, rtol=1e-5)


def test_batch_norm_parameters_and_options():
    net = nn.BatchNorm(scale=False, center=False, use_global_stats=True, axis=-1)
    assert [k for k in net.collect_params()] == ["batchnorm0_gamma", "batchnorm0_beta",
                                                 "batchnorm0_running_mean",
                                                 "batchnorm0_running_var"]
    assert net.gamma.grad_req == "null" and net.beta.grad_req == "null"
    assert net.running_mean.grad_req == "null" and net.running_var.grad_req == "null"
    net.initialize()
    net.gamma.set_data(np.array([5.0, 5.0]))    # ignored: scale=False fixes gamma to 1
    x = array(3, 2, seed=4)
    with autograd.record():                     # use_global_stats: running stats even here
        out = net(x)
    assert_same(out, x.asnumpy() / np.sqrt(1 + 1e-5), rtol=1e-5)
    assert repr(nn.BatchNorm()) == ("BatchNorm(axis=1, eps=1e-05, momentum=0.9, "
                                    "fix_gamma=False, use_global_stats=False, "
                                    "in_channels=None)")
    assert repr(nn.BatchNorm(in_channels=3, scale=False)).endswith(
        "fix_gamma=True, use_global_stats=False, in_channels=3)")


@pytest.mark.parametrize("axis", [-1, 1])
def test_layer_norm(axis):
    net = nn.LayerNorm(axis=axis)
    net.initialize()
    x = array(2, 4, 5, seed=5, low=-3, high=3)
    net(x)
    channels = x.shape[axis]
    gamma, beta = np.linspace(0.5, 2, channels), np.linspace(-1, 1, channels)
    net.gamma.set_data(gamma)
    net.beta.set_data(beta)
    out = imperative_then_trace(net, x)
    data = x.asnumpy().astype(np.float64)
    mean, var = data.mean(axis=axis, keepdims=True), data.var(axis=axis, keepdims=True)
    shape = [1, 1, 1]
    shape[axis] = channels
    want = (data - mean) / np.sqrt(var + 1e-5) * gamma.reshape(shape) + beta.reshape(shape)
    assert_same(out, want, rtol=1e-4, atol=1e-5)
    assert repr(nn.LayerNorm(in_channels=5)) == \
        "LayerNorm(eps=1e-05, axis=-1, center=True, scale=True, in_channels=5)"


def test_embedding():
    net = nn.Embedding(10, 4)
    net.initialize(init.Normal(1.0))
    indices = nd.array([[0, 2, 9], [5, 1, 1]])
    out = imperative_then_trace(net, indices)
    assert out.shape == (2, 3, 4)
    assert_same(out, net.weight.data().asnumpy()[[[0, 2, 9], [5, 1, 1]]])
    assert repr(net) == "Embedding(10 -> 4, float32)"


# ----------------------------------------------------------------- containers
def _mlp(container):
    net = container()
    net.add(nn.Dense(8, activation="relu"), nn.Dense(3))
    net.initialize(init.Normal(0.5))
    return net


def _mlp_reference(net, x):
    p = params_of(net)
    hidden = relu(x @ p["dense0_weight"].T + p["dense0_bias"])
    return hidden @ p["dense1_weight"].T + p["dense1_bias"]


def test_hybrid_sequential():
    net = _mlp(nn.HybridSequential)
    x = array(5, 4)
    assert_same(imperative_then_trace(net, x), _mlp_reference(net, x.asnumpy()), rtol=1e-5)
    assert len(net) == 2 and isinstance(net[1], nn.Dense)
    assert repr(net) == ("HybridSequential(\n  (0): Dense(4 -> 8, Activation(relu))\n"
                         "  (1): Dense(8 -> 3, linear)\n)")


def test_sequential_runs_children_and_hybridizes_them():
    net = _mlp(nn.Sequential)
    x = array(5, 4)
    out = net(x)
    want = _mlp_reference(net, x.asnumpy())
    assert_same(out, want, rtol=1e-5)
    with pytest.warns(UserWarning, match="Consider using HybridSequential"):
        net.hybridize(mode="trace")
    assert_same(net(x), want, rtol=1e-5)
    assert all(child._programs for child in net._children.values())


def test_cnn_stack_against_references():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, padding=1, activation="relu"), nn.MaxPool2D(),
            nn.Conv2D(2, 3), nn.GlobalAvgPool2D(), nn.Flatten(), nn.Dense(3))
    net.initialize(init.Normal(0.3))
    x = array(2, 1, 8, 8)
    out = imperative_then_trace(net, x)
    p = params_of(net)
    h = relu(conv_ref(x.asnumpy(), p["conv0_weight"], p["conv0_bias"], (1, 1), (1, 1), (1, 1),
                      1))
    h = pool_ref(h, (2, 2), (2, 2), (0, 0), "max")
    h = conv_ref(h, p["conv1_weight"], p["conv1_bias"], (1, 1), (0, 0), (1, 1), 1)
    h = h.mean(axis=(2, 3))
    assert_same(out, h @ p["dense0_weight"].T + p["dense0_bias"], rtol=1e-4, atol=1e-5)


def test_block_names_use_mxnets_word_for_the_layer():
    assert [b.name for b in (nn.Conv2D(2, 3), nn.MaxPool2D(), nn.AvgPool2D(), nn.Dense(2),
                             nn.Activation("sigmoid"), nn.BatchNorm())] == [
        "conv0", "pool0", "pool1", "dense0", "sigmoid0", "batchnorm0"]
