"""Concatenation chains in one buffer (optimize/concat_in_place.py): the same values bit for bit
as imperative mode, and only where no reader can tell a link's result from a fresh array."""

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, nd, ops
from ast_hybrid.compiler.optimize import concat_in_place
from ast_hybrid.gluon import nn
from ast_hybrid.gluon.contrib.nn import HybridConcurrent, Identity
from pass_cases import optimized_source, three_copies

KERNELS = {"concat": "concat", "relu": "relu", "BatchNorm": "BatchNorm", "tanh": "tanh"}
ARGUMENTS = ("x", "g", "b", "m", "v")


def _optimized_source(source):
    return optimized_source(source, KERNELS, ARGUMENTS, (concat_in_place,))


def test_a_chain_continues_only_through_results_that_only_kernels_read():
    source = """def f(x, g, b, m, v):
    h1 = concat(x, relu(x), num_args=2)
    h2 = concat(h1, relu(BatchNorm(h1, g, b, m, v)), num_args=2)
    h3 = concat(h2, relu(h2), num_args=2)
    h4 = concat(h3, tanh(h3), num_args=2, dim=1)
    k = h4
    h5 = concat(h4, x, num_args=2)
    h6 = concat(h5, x, num_args=2, dim=2)
    return (k, h6)"""
    out = _optimized_source(source)
    assert "h1, h3_buffer = concat_into(x, relu(x), None, 2)" in out
    assert "h2, h3_buffer = concat_into(h1, relu(BatchNorm(h1, g, b, m, v)), h3_buffer, 1)" in out
    assert "h3, h3_buffer = concat_into(h2, relu(h2), h3_buffer, 0)" in out
    assert "h4 = concat(h3, tanh(h3)" in out        # a new chain: tanh is not a reader kept
    assert "h5 = concat(h4, x" in out                # h4 is aliased by k
    assert "h6 = concat(h5, x, num_args=2, dim=2)" in out


def test_concat_into_equals_concatenate_and_falls_back_where_it_cannot_share():
    rng = np.random.default_rng(0)
    start = rng.standard_normal((1, 3, 4, 5)).astype(np.float32)
    pieces = [rng.standard_normal((1, 2, 4, 5)).astype(np.float32) for _ in range(3)]
    want, got, buffer = start, start, None
    for index, piece in enumerate(pieces):
        want = np.concatenate([want, piece], axis=1)
        got, buffer = ops.shape_ops.concat_into(got, piece, buffer, len(pieces) - 1 - index)
        assert np.array_equal(got, want) and got.flags.c_contiguous
    assert buffer is None and got.base is None          # the last link: the whole buffer
    # a smaller last piece: a copy of the prefix, not a view of the larger buffer
    first, buffer = ops.shape_ops.concat_into(start, pieces[0], None, 1)
    last, _ = ops.shape_ops.concat_into(first, pieces[0][:, :1], buffer, 0)
    assert np.array_equal(last, np.concatenate([start, pieces[0], pieces[0][:, :1]], axis=1))
    assert last.base is None
    # two samples, and a float64 piece: the kernel's concatenation, no buffer
    for a, b in [(np.ones((2, 3, 2)), np.ones((2, 1, 2))),
                 (np.ones((1, 3, 2), np.float32), np.ones((1, 1, 2)))]:
        result, buffer = ops.shape_ops.concat_into(a, b, None, 3)
        want = np.concatenate([a, b], axis=1)
        assert buffer is None and result.dtype == want.dtype and np.array_equal(result, want)
    # inputs that do not fit: the shape rule's error, which imperative mode raises
    with pytest.raises(ops.OpError) as caught:
        ops.shape_ops.concat_into(np.ones((1, 3, 2)), np.ones((1, 3, 4)), None, 1)
    concat = ops.get("concat")
    with pytest.raises(ops.OpError) as rule:
        concat.infer_shape(concat.parse_attrs({"num_args": 2}), [(1, 3, 2), (1, 3, 4)])
    assert str(caught.value) == str(rule.value)


def _dense_layer(returns_link=False):
    body = nn.HybridSequential(prefix="")
    body.add(nn.BatchNorm(), nn.Activation("relu"), nn.Conv2D(4, 3, padding=1))
    layer = HybridConcurrent(axis=1, prefix="")
    layer.add(Identity(), body)
    return layer


class _DenseBlock(nn.HybridBlock):
    """Three DenseNet layers; with `returns_link` also the first layer's result."""

    def __init__(self, returns_link=False):
        super().__init__()
        self.returns_link = returns_link
        with self.name_scope():
            self.stem = nn.Conv2D(6, 3, padding=1)
            self.layers = nn.HybridSequential(prefix="")
            for _ in range(3):
                self.layers.add(_dense_layer())

    def hybrid_forward(self, F, x):
        h = self.stem(x)
        first = self.layers[0](h)
        out = self.layers[2](self.layers[1](first))
        return (out, first) if self.returns_link else out


def _nets(returns_link=False):
    x = nd.array(np.random.default_rng(0).standard_normal((1, 3, 6, 6)).astype("float32"))
    rng = np.random.default_rng(1)

    def set_weights(net):
        for p in net.collect_params().values():
            p.set_data(nd.array(rng.uniform(0.5, 1.5, p.shape).astype(p.dtype)))
    return three_copies(lambda: _DenseBlock(returns_link), x, set_weights)


def _outputs(net, x):
    out = net(x)
    return [o.asnumpy() for o in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.mark.parametrize("batch", [1, 2])
def test_dense_blocks_equal_imperative_and_unoptimized_bit_for_bit(batch):
    nets = _nets()
    x = nd.array(np.random.default_rng(2).standard_normal((batch, 3, 6, 6)).astype("float32"))
    for mode in (autograd.predict_mode, autograd.train_mode, autograd.predict_mode):
        with mode():
            results = [_outputs(net, x) for net in nets]
        for got in results[1:]:
            assert all(np.array_equal(a, b) for a, b in zip(results[0], got))
    assert "concat_into" in ast_hybrid.to_source(nets[1])
    assert "concat_into" not in ast_hybrid.to_source(nets[2])
    assert results[0][0].shape == (batch, 18, 6, 6)
    for net in nets:
        net.cast("float64")
    results = [_outputs(net, x.astype("float64")) for net in nets]
    assert results[1][0].dtype == np.float64
    assert all(np.array_equal(results[0][0], got[0]) for got in results[1:])


def test_a_returned_link_is_an_array_of_its_own():
    nets = _nets(returns_link=True)
    x = nd.array(np.random.default_rng(3).standard_normal((1, 3, 6, 6)).astype("float32"))
    want = _outputs(nets[0], x)
    out, first = nets[1](x)
    assert all(np.array_equal(a, b.asnumpy()) for a, b in zip(want, (out, first)))
    out[:] = 0                       # writing the returned block changes no other output
    assert np.array_equal(first.asnumpy(), want[1])


class _Chain(nn.HybridBlock):
    def hybrid_forward(self, F, x, y):
        h1 = F.concat(x, F.relu(x), num_args=2)
        h2 = F.concat(h1, y, num_args=2)
        return F.concat(h2, F.relu(h2), num_args=2)


def test_a_link_that_does_not_fit_fails_as_in_imperative_mode():
    net = _Chain()
    x, y = nd.ones((1, 2, 3)), nd.ones((1, 2, 4))
    with pytest.raises(ops.OpError) as imperative:
        net(x, y)
    net.hybridize()
    with pytest.raises(ops.OpError) as compiled:
        net(x, y)
    assert "concat_into" in ast_hybrid.to_source(net, x, y)
    assert str(compiled.value).splitlines()[0] == str(imperative.value).splitlines()[0]
