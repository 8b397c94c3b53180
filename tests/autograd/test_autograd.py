"""autograd: recording, backward, grad_req, autograd.grad, custom nodes, modes, errors."""
import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, nd
from ast_hybrid.base import MXNetError
from ast_hybrid.errors import OpError
from ast_hybrid.gluon import nn


def test_scopes_set_recording_and_training():
    assert not autograd.is_recording() and not autograd.is_training()
    with autograd.record():
        assert autograd.is_recording() and autograd.is_training()
        with autograd.pause():
            assert not autograd.is_recording() and not autograd.is_training()
        with autograd.predict_mode():
            assert autograd.is_recording() and not autograd.is_training()
    with autograd.record(train_mode=False):
        assert autograd.is_recording() and not autograd.is_training()
    with autograd.train_mode():
        assert autograd.is_training() and not autograd.is_recording()
    assert not autograd.is_recording() and not autograd.is_training()


def test_backward_writes_the_gradient():
    x = nd.array([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        y = x * x + 2 * x
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * x.asnumpy() + 2)


def test_head_gradient_and_shared_use():
    x = nd.array([[1.0, -2.0], [0.5, 3.0]])
    x.attach_grad()
    with autograd.record():
        a = nd.relu(x)
        y = a * x + nd.exp(a)          # x used twice, a used twice
    head = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    y.backward(nd.array(head))
    xv = x.asnumpy()
    relu = np.maximum(xv, 0)
    expected = head * (relu + (xv > 0) * (xv + np.exp(relu)))
    np.testing.assert_allclose(x.grad.asnumpy(), expected, rtol=1e-6)


def test_grad_req_add_accumulates_and_write_overwrites():
    x = nd.array([1.0, 2.0])
    x.attach_grad(grad_req="add")
    for _ in range(3):
        with autograd.record():
            y = (x * 3).sum()
        y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [9.0, 9.0])
    z = nd.array([1.0, 2.0])
    z.attach_grad()
    for _ in range(3):
        with autograd.record():
            y = (z * 3).sum()
        y.backward()
    np.testing.assert_allclose(z.grad.asnumpy(), [3.0, 3.0])


def test_multiple_heads_and_autograd_backward():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        a = x * 2
        b = x * x
    autograd.backward([a, b], [nd.array([1.0, 1.0]), nd.array([2.0, 0.5])])
    np.testing.assert_allclose(x.grad.asnumpy(), [2 + 4 * 1, 2 + 0.5 * 4])


def test_backward_twice_needs_retain_graph():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [2.0, 4.0])
    with pytest.raises(MXNetError, match="retain_graph=True"):
        y.backward()


def test_backward_on_unrecorded_array_is_an_error():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    y = x * 2                                   # not recorded
    with pytest.raises(MXNetError, match="record"):
        y.backward()
    z = nd.array([1.0])
    with autograd.record():
        w = z * 2                               # nothing needs a gradient
    with pytest.raises(MXNetError, match="attach_grad"):
        w.backward()


def test_operations_outside_record_are_not_recorded():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * 2
        with autograd.pause():
            z = y * 3
    assert y._node is not None and z._node is None


def test_autograd_grad_returns_without_touching_buffers():
    x = nd.array([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        h = x * x
        y = (h * 2).sum()
    gx, gh = autograd.grad(y, [x, h], retain_graph=True)
    np.testing.assert_allclose(gx.asnumpy(), 4 * x.asnumpy())
    np.testing.assert_allclose(gh.asnumpy(), [2.0, 2.0, 2.0])
    assert not x.grad.asnumpy().any()
    (gx2,) = autograd.grad([y], [x], head_grads=[nd.array([0.5])])
    np.testing.assert_allclose(gx2.asnumpy(), 2 * x.asnumpy())
    with pytest.raises(NotImplementedError):
        autograd.grad(y, [x], create_graph=True)


def test_blockgrad_and_detach_stop_gradients():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = (nd.BlockGrad(x * 5) + x.detach() * 7 + x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [1.0, 1.0])


def test_attach_grad_on_a_result_makes_it_a_leaf():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * 3
    y.attach_grad()
    with autograd.record():
        z = (y * y).sum()
    z.backward()
    np.testing.assert_allclose(y.grad.asnumpy(), 2 * y.asnumpy())
    assert not x.grad.asnumpy().any()


def test_multi_output_operator():
    x = nd.array(np.arange(6, dtype=np.float32).reshape(2, 3))
    x.attach_grad()
    with autograd.record():
        a, b, c = nd.split(x, num_outputs=3, axis=1)
        y = (a * 2 + c).sum()                   # b unused
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [[2, 0, 1], [2, 0, 1]])


def test_record_function_custom_node():
    x = nd.array([1.0, 2.0])
    w = nd.array([3.0, 4.0])
    x.attach_grad()
    w.attach_grad()
    seen = []

    def backward(out_grads):
        seen.append([None if g is None else g.copy() for g in out_grads])
        g = out_grads[0]
        return [g * w.asnumpy(), g * x.asnumpy()]

    with autograd.record():
        out = nd.array(x.asnumpy() * w.asnumpy())
        unused = nd.array([0.0])
        autograd.record_function([x, w], [out, unused], backward)
        loss = (out * 2).sum()
    loss.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [6.0, 8.0])
    np.testing.assert_allclose(w.grad.asnumpy(), [2.0, 4.0])
    assert seen[0][1] is None


def test_autograd_function_subclass():
    class Sigmoid(autograd.Function):
        def forward(self, x):
            y = 1 / (1 + nd.exp(-x))
            self.save_for_backward(y)
            return y

        def backward(self, dy):
            (y,) = self.saved_tensors
            return dy * y * (1 - y)

    x = nd.array([0.0, 1.0, -2.0])
    x.attach_grad()
    with autograd.record():
        y = Sigmoid()(x).sum()
    y.backward()
    s = 1 / (1 + np.exp(-x.asnumpy()))
    np.testing.assert_allclose(x.grad.asnumpy(), s * (1 - s), rtol=1e-6)


def test_indexing_and_reshape_gradients():
    x = nd.array(np.arange(12, dtype=np.float32).reshape(3, 4))
    x.attach_grad()
    with autograd.record():
        y = (x[1:, 2] * 2).sum() + x.reshape((4, 3))[0].sum()
    y.backward()
    expected = np.zeros((3, 4), dtype=np.float32)
    expected[1:, 2] += 2
    expected[0, :3] += 1
    np.testing.assert_allclose(x.grad.asnumpy(), expected)


def test_gradient_dtype_follows_the_array():
    x = nd.array(np.ones(3), dtype=np.float64)
    x.attach_grad()
    with autograd.record():
        y = nd.cast(x, dtype="float32").sum()
    y.backward()
    assert x.grad.dtype == np.float64


def test_dropout_follows_modes():
    ast_hybrid.random.seed(0)
    x = nd.ones((200, 10))
    layer = nn.Dropout(0.5)
    assert np.array_equal(layer(x).asnumpy(), x.asnumpy())          # predict by default
    with autograd.record():
        y = layer(x)
    values = np.unique(y.asnumpy())
    assert set(values.tolist()) == {0.0, 2.0}
    with autograd.record(train_mode=False):
        assert np.array_equal(layer(x).asnumpy(), x.asnumpy())
    with autograd.train_mode():
        assert (layer(x).asnumpy() == 0).any()


def test_dropout_gradient_matches_mask():
    ast_hybrid.random.seed(1)
    x = nd.array(np.random.default_rng(0).uniform(1, 2, (50, 4)).astype(np.float32))
    x.attach_grad()
    with autograd.record():
        y = nd.Dropout(x, p=0.3)
    y.backward()
    kept = y.asnumpy() != 0
    np.testing.assert_allclose(x.grad.asnumpy(), kept / 0.7, rtol=1e-6)


def test_dropout_gradient_flows_through_kept_zero_inputs():
    # a kept element whose input is zero has output 0, as a dropped one has: the gradient
    # (1/(1-p) there, as MXNet 1.9.1 gives) must come from the mask, not from the output
    data = np.zeros((40, 5), dtype=np.float32)
    data[::3] = 1.5
    ast_hybrid.random.seed(4)
    scaled_mask = nd.Dropout(nd.ones(data.shape), p=0.5, mode="always").asnumpy()
    x = nd.array(data)
    x.attach_grad()
    ast_hybrid.random.seed(4)
    with autograd.record():
        y = nd.Dropout(x, p=0.5)
    y.backward()
    assert 0 < (scaled_mask[data == 0] != 0).mean() < 1
    np.testing.assert_allclose(x.grad.asnumpy(), scaled_mask)
    np.testing.assert_allclose(y.asnumpy(), data * scaled_mask)


def test_dropout_gradient_refuses_a_mask_it_cannot_know():
    from ast_hybrid.ops import get
    op = get("Dropout")
    attrs = dict(op.parse_attrs({"p": 0.5}), training=True)
    data = np.array([0.0, 1.0, 2.0, 0.0], dtype=np.float32)
    copied = op.kernel(data, **attrs).copy()        # not the array the kernel returned
    with pytest.raises(OpError, match="mask"):
        op.grad(attrs, [data], [copied], [np.ones_like(copied)])
    (grad,) = op.grad(attrs, [data[1:3]], [copied[1:3] * 0 + 3.0], [np.ones(2, np.float32)])
    np.testing.assert_allclose(grad, [2.0, 2.0])     # no zero input: the output tells


def test_batchnorm_follows_modes_and_updates_running_stats():
    layer = nn.BatchNorm(in_channels=3, momentum=0.5)
    layer.initialize()
    x = nd.array(np.random.default_rng(0).normal(2.0, 3.0, (8, 3, 2)).astype(np.float32))
    predicted = layer(x).asnumpy()       # moving stats 0/1: out = x / sqrt(1 + eps)
    np.testing.assert_allclose(predicted, x.asnumpy() / np.sqrt(1 + 1e-5), rtol=1e-5)
    assert not layer.running_mean.data().asnumpy().any()
    with autograd.record():
        trained = layer(x).asnumpy()
    batch_mean = x.asnumpy().mean(axis=(0, 2))
    batch_var = x.asnumpy().var(axis=(0, 2))
    np.testing.assert_allclose(trained.mean(axis=(0, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(layer.running_mean.data().asnumpy(), 0.5 * batch_mean, rtol=1e-5)
    np.testing.assert_allclose(layer.running_var.data().asnumpy(), 0.5 + 0.5 * batch_var,
                               rtol=1e-5)
    with autograd.record(train_mode=False):
        layer(x)
    np.testing.assert_allclose(layer.running_mean.data().asnumpy(), 0.5 * batch_mean, rtol=1e-5)
