"""BatchNorm in place (optimize/batchnorm_in_place.py): a dead temporary's BatchNorm normalizes
into its memory, bit for bit as the kernel computes, and only where nothing else can see it."""

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, nd, ops
from ast_hybrid.compiler.optimize import batchnorm_in_place
from ast_hybrid.gluon import nn
from pass_cases import optimized_source, three_copies

KERNELS = {"Convolution": "Convolution", "BatchNorm": "BatchNorm", "relu": "relu"}
ARGUMENTS = ("x", "w", "gamma", "beta", "mean", "var", "training")


def _optimized_source(source):
    return optimized_source(source, KERNELS, ARGUMENTS, (batchnorm_in_place,))


def test_only_dead_temporaries_the_program_allocated_are_normalized_in_place():
    source = """def f(x, w, gamma, beta, mean, var, training):
    a = BatchNorm(x, gamma, beta, mean, var, training=training)
    t = Convolution(a, w, kernel=(1, 1), num_filter=2, no_bias=True)
    u = BatchNorm(t, gamma, beta, mean, var, training=training)
    s = Convolution(u, w, kernel=(1, 1), num_filter=2, no_bias=True)
    v = BatchNorm(s, gamma, beta, mean, var, training=training)
    r = Convolution(v, w, kernel=(1, 1), num_filter=2, no_bias=True)
    q = BatchNorm(r, gamma, beta, mean, var, output_mean_var=True, training=training)
    return (u, v, s, q)"""
    out = _optimized_source(source)
    assert "a = BatchNorm(x," in out                              # an input
    assert "u = batch_norm_in_place(t," in out and "out=t)" in out    # dead temporary
    assert "v = BatchNorm(s," in out                              # s is returned
    assert "q = BatchNorm(r," in out                              # three outputs


def _bn_reference(x, gamma, beta, mean, var, eps):
    """BatchNorm in predict mode written out in numpy, in float64."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    x, gamma, beta, mean, var = (np.asarray(a, np.float64) for a in (x, gamma, beta, mean, var))
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * gamma.reshape(shape) \
        + beta.reshape(shape)


class _ConvBatchNorm(nn.HybridBlock):
    """conv -> BatchNorm -> relu, and a second BatchNorm whose input is also returned."""

    def __init__(self, axis=1, fix_gamma=False, use_global_stats=False):
        super().__init__()
        with self.name_scope():
            self.conv = nn.Conv2D(6, 3, padding=1, in_channels=3)
            self.bn = nn.BatchNorm(axis=axis, in_channels=6, scale=not fix_gamma,
                                   use_global_stats=use_global_stats)
            self.conv2 = nn.Conv2D(4, 1, in_channels=6)
            self.bn2 = nn.BatchNorm(in_channels=4)

    def hybrid_forward(self, F, x):
        y = F.relu(self.bn(self.conv(x)))
        z = self.conv2(y)
        return self.bn2(z), z


def _random_statistics(net, seed=3):
    rng = np.random.default_rng(seed)
    for name, p in net.collect_params().items():
        if name.endswith(("gamma", "beta", "running_mean")):
            p.set_data(nd.array(rng.standard_normal(p.shape).astype(p.dtype)))
        elif name.endswith("running_var"):
            p.set_data(nd.array(rng.uniform(0.5, 2.0, p.shape).astype(p.dtype)))


def _pair(**kwargs):
    """(imperative, optimized, unoptimized) copies of one network with the same weights."""
    x = nd.array(np.random.default_rng(0).standard_normal((2, 3, 7, 7)).astype("float32"))
    return three_copies(lambda: _ConvBatchNorm(**kwargs), x, _random_statistics), x


def _outputs(nets, x):
    return [[out.asnumpy() for out in net(x)] for net in nets]


def _assert_bitwise(results):
    want = results[0]
    for got in results[1:]:
        for a, b in zip(want, got):
            assert a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("kwargs", [{}, {"fix_gamma": True}, {"use_global_stats": True}])
def test_predict_mode_equals_imperative_and_unoptimized_bit_for_bit(kwargs):
    nets, x = _pair(**kwargs)
    results = _outputs(nets, x)
    _assert_bitwise(results)
    assert "batch_norm_in_place" in ast_hybrid.to_source(nets[1])
    assert "batch_norm_in_place" not in ast_hybrid.to_source(nets[2])
    # the BatchNorm whose input is returned too leaves that input as the convolution gave it
    conv2 = nets[0].conv2(nets[0].bn(nets[0].conv(x)).relu()).asnumpy()
    assert np.array_equal(results[1][1], conv2)
    bn2 = nets[0].bn2
    want = _bn_reference(conv2, bn2.gamma.data().asnumpy(), bn2.beta.data().asnumpy(),
                         bn2.running_mean.data().asnumpy(), bn2.running_var.data().asnumpy(),
                         bn2._kwargs["eps"])
    np.testing.assert_allclose(results[1][0], want, rtol=1e-5, atol=1e-5)


def test_training_steps_then_predict_mode_see_the_updated_statistics():
    nets, x = _pair()
    for _ in range(2):
        with autograd.record():
            trained = _outputs(nets, x)
        _assert_bitwise(trained)
        _assert_bitwise(_outputs(nets, x))
        with autograd.train_mode():
            _assert_bitwise(_outputs(nets, x))
    means = [net.bn.running_mean.data().asnumpy() for net in nets]
    assert all(np.array_equal(means[0], m) for m in means[1:])
    assert not np.array_equal(means[0], np.zeros_like(means[0]))


def test_set_data_and_cast_are_seen():
    nets, x = _pair()
    _outputs(nets, x)
    _random_statistics(nets[0], seed=7)
    for net in nets[1:]:
        for p, q in zip(nets[0].collect_params().values(), net.collect_params().values()):
            q.set_data(p.data())
    _assert_bitwise(_outputs(nets, x))
    for net in nets:
        net.cast("float64")
    results = _outputs(nets, x.astype("float64"))
    assert results[1][0].dtype == np.float64
    _assert_bitwise(results)


def test_a_float64_statistic_with_float32_data_keeps_the_kernel_dtype():
    op = ops.get("BatchNorm")
    rng = np.random.default_rng(5)
    data = rng.standard_normal((2, 3, 4)).astype(np.float32)
    stats = [rng.uniform(0.5, 2, 3) for _ in range(4)]
    want = op.kernel(data, *stats, eps=1e-5, fix_gamma=False)
    got = ops.normalization.batch_norm_in_place(data.copy(), *stats, eps=1e-5,
                                                fix_gamma=False, out=None)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    buffer = data.copy()
    got = ops.normalization.batch_norm_in_place(buffer, *stats, eps=1e-5, fix_gamma=False,
                                                out=buffer)
    assert got is buffer and np.array_equal(got, want)


def test_a_mismatched_statistic_fails_as_the_kernel_fails():
    op = ops.get("BatchNorm")
    data = np.ones((1, 3, 2, 2), np.float32)
    stats = [np.ones(3, np.float32)] * 3 + [np.ones(5, np.float32)]
    with pytest.raises(ops.OpError) as kernel:
        op.kernel(data, *stats)
    with pytest.raises(ops.OpError) as in_place:
        ops.normalization.batch_norm_in_place(data, *stats, out=data)
    assert str(in_place.value) == str(kernel.value)
    assert np.array_equal(data, np.ones_like(data))        # nothing written
