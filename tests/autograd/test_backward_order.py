"""backward() visits each node after every node that uses it, on chains of compiled blocks
(walked without a graph search) and on graphs that branch, against gradients by hand."""
import numpy as np
import pytest

from ast_hybrid import autograd, nd
from ast_hybrid.gluon import HybridBlock, nn

X = np.random.default_rng(3).standard_normal((2, 4)).astype(np.float32)


class _Twice(HybridBlock):
    """Two outputs of one node: the chain's next node reads both."""

    def hybrid_forward(self, F, x):
        return x * 2, x * 3


class _Product(HybridBlock):
    def hybrid_forward(self, F, a, b):
        return a * b


@pytest.mark.parametrize("mode", [None, "ast", "trace"])
def test_a_chain_of_blocks_reading_two_outputs_of_one(mode):
    twice, product = _Twice(), _Product()
    if mode:
        twice.hybridize(mode=mode)
        product.hybridize(mode=mode)
    x = nd.array(X)
    x.attach_grad()
    with autograd.record():
        loss = product(*twice(x)).sum()
    loss.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 12 * X, rtol=1e-6)   # d(6 x^2)/dx


@pytest.mark.parametrize("mode", [None, "ast"])
def test_a_branching_graph_after_a_chain(mode):
    """x -> dense -> (relu, sigmoid) -> sum of both: the node after dense feeds two nodes."""
    dense = nn.Dense(3, in_units=4)
    dense.initialize()
    if mode:
        dense.hybridize(mode=mode)
    x = nd.array(X)
    x.attach_grad()
    with autograd.record():
        h = dense(x)
        loss = (nd.relu(h) + nd.sigmoid(h)).sum()
    loss.backward()
    w = dense.weight.data().asnumpy()
    z = X @ w.T + dense.bias.data().asnumpy()
    s = 1 / (1 + np.exp(-z))
    dz = (z > 0) + s * (1 - s)
    np.testing.assert_allclose(x.grad.asnumpy(), dz @ w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dense.weight.grad().asnumpy(), dz.T @ X, rtol=1e-5, atol=1e-6)


def test_a_long_chain_of_operators():
    x = nd.array(X)
    x.attach_grad()
    with autograd.record():
        y = x
        for _ in range(200):
            y = y * 1.01
        loss = y.sum()
    loss.backward()
    want = np.full(X.shape, np.float32(1.01)) ** 200
    np.testing.assert_allclose(x.grad.asnumpy(), want, rtol=1e-4)


def test_a_scope_restores_the_modes_after_an_exception():
    assert not autograd.is_recording() and not autograd.is_training()
    with pytest.raises(KeyError):
        with autograd.record():
            with autograd.pause(train_mode=True):
                assert not autograd.is_recording() and autograd.is_training()
                raise KeyError("inner")
    assert not autograd.is_recording() and not autograd.is_training()
    with autograd.record(train_mode=False) as entered:
        assert entered is None
        assert autograd.is_recording() and not autograd.is_training()
        with autograd.train_mode():
            assert autograd.is_recording() and autograd.is_training()
        with autograd.predict_mode():
            assert not autograd.is_training()
        assert autograd.is_recording() and not autograd.is_training()
    assert not autograd.is_recording()


def test_a_scope_object_is_entered_once_at_a_time():
    scope = autograd.record()
    with scope:
        with pytest.raises(RuntimeError, match="active already"):
            with scope:
                pass
        assert autograd.is_recording()
    assert not autograd.is_recording()
    with scope:         # entered again after it ended: a fresh state saved
        assert autograd.is_recording() and autograd.is_training()
    assert not autograd.is_recording() and not autograd.is_training()
