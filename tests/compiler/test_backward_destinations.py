"""A compiled block's backward program may compute a parameter's gradient straight into its
`.grad` buffer (grad_req 'write', the graph's only use of it). These check that it does so
only where that is safe: the gradients always equal imperative mode's."""
import numpy as np

import ast_hybrid
from ast_hybrid import autograd, nd
from ast_hybrid.gluon import nn


def dense(units=3, in_units=4, hybridize=True):
    block = nn.Dense(units, in_units=in_units)
    block.initialize()
    if hybridize:
        block.hybridize(mode="ast", fallback=False)
    return block


def copy_params(source, target):
    for s, t in zip(source.collect_params().values(), target.collect_params().values()):
        t.set_data(s.data())


def test_dense_weight_gradient_is_written_into_its_buffer():
    block, reference = dense(), dense(hybridize=False)
    copy_params(block, reference)
    x = nd.array(np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32))
    buffer = block.weight.grad()._data
    for net in (block, reference):
        with autograd.record():
            y = (net(x) ** 2).sum()
        y.backward()
    assert block.weight.grad()._data is buffer
    assert "out=[" in ast_hybrid.to_source(block, backward=True)
    np.testing.assert_allclose(block.weight.grad().asnumpy(), reference.weight.grad().asnumpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(block.bias.grad().asnumpy(), reference.bias.grad().asnumpy(),
                               rtol=1e-6)


def test_block_called_twice_in_one_graph_adds_both_gradients():
    block, reference = dense(units=4), dense(units=4, hybridize=False)
    copy_params(block, reference)
    x = nd.array(np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32))
    for net in (block, reference):
        with autograd.record():
            y = (net(net(x)) ** 2).sum()
        y.backward()
    for p, q in zip(block.collect_params().values(), reference.collect_params().values()):
        np.testing.assert_allclose(p.grad().asnumpy(), q.grad().asnumpy(), rtol=1e-5)


def test_parameter_shared_with_an_imperative_operation_adds_both_gradients():
    block = dense()
    x = nd.ones((1, 4))
    with autograd.record():
        y = block(x).sum() + (block.weight.data() * 3).sum()
    y.backward()
    expected = np.ones((3, 4)) + 3
    np.testing.assert_allclose(block.weight.grad().asnumpy(), expected, rtol=1e-6)


def test_autograd_grad_leaves_the_buffers_alone():
    block = dense()
    block.weight.grad()[:] = 7
    x = nd.ones((1, 4))
    with autograd.record():
        y = block(x).sum()
    (g,) = autograd.grad(y, [block.weight.data()])
    np.testing.assert_allclose(g.asnumpy(), np.ones((3, 4)))
    np.testing.assert_allclose(block.weight.grad().asnumpy(), 7)


def test_grad_req_write_overwrites_after_retained_backward():
    block = dense()
    x = nd.ones((1, 4))
    with autograd.record():
        y = block(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(block.weight.grad().asnumpy(), np.ones((3, 4)))


def test_frozen_layer_and_input_with_a_gradient():
    first, second = dense(units=4), dense(units=2, in_units=4)
    reference_first, reference_second = dense(4, hybridize=False), dense(2, 4, hybridize=False)
    copy_params(first, reference_first)
    copy_params(second, reference_second)
    first.collect_params().setattr("grad_req", "null")
    reference_first.collect_params().setattr("grad_req", "null")
    grads = []
    for a, b in ((first, second), (reference_first, reference_second)):
        x = nd.array(np.random.default_rng(2).standard_normal((2, 4)).astype(np.float32))
        x.attach_grad()
        with autograd.record():
            y = (b(a(x)) ** 2).sum()
        y.backward()
        grads.append([x.grad.asnumpy()] + [p.grad().asnumpy()
                                           for p in b.collect_params().values()])
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-5)


def conv(hybridize=True):
    block = nn.Conv2D(3, kernel_size=3, in_channels=2)
    block.initialize()
    if hybridize:
        block.hybridize(mode="ast", fallback=False)
    return block


def test_convolution_skips_the_gradient_of_an_input_without_one(monkeypatch):
    """Nothing uses the gradient of an input without attach_grad: the backward program does
    not compute it (col2im is the costliest part of a convolution's gradient), and offers
    the weight's and bias's buffers; the gradients equal imperative mode's bit for bit."""
    from ast_hybrid.ops import conv as conv_ops
    block, reference = conv(), conv(hybridize=False)
    copy_params(block, reference)
    x = nd.array(np.random.default_rng(4).standard_normal((2, 2, 6, 6)).astype(np.float32))
    data_gradients = []
    original = conv_ops.conv_data_grad

    def counted(*args, **kwargs):
        data_gradients.append(args[2])
        return original(*args, **kwargs)
    monkeypatch.setattr(conv_ops, "conv_data_grad", counted)
    with autograd.record():
        y = (block(x) ** 2).sum()
    y.backward()
    assert data_gradients == []
    assert "convolution_grad(x, weight, bias, out, grad_out, out=[into_x, into_weight, " \
        "into_bias])" in " ".join(
            ast_hybrid.to_source(block, backward=True).split())
    with autograd.record():
        z = (reference(x) ** 2).sum()
    z.backward()
    assert data_gradients == [x.shape]      # imperative mode computes it and drops it
    for p, q in zip(block.collect_params().values(), reference.collect_params().values()):
        np.testing.assert_array_equal(p.grad().asnumpy(), q.grad().asnumpy())


def test_convolution_computes_the_gradient_of_an_input_with_one():
    block, reference = conv(), conv(hybridize=False)
    copy_params(block, reference)
    grads = []
    for net in (block, reference):
        x = nd.array(np.random.default_rng(5).standard_normal((2, 2, 6, 6)).astype(np.float32))
        x.attach_grad()
        with autograd.record():
            y = (net(x) ** 2).sum()
        y.backward()
        grads.append([x.grad.asnumpy()] + [p.grad().asnumpy()
                                           for p in net.collect_params().values()])
    for got, want in zip(*grads):
        np.testing.assert_array_equal(got, want)
    assert np.abs(grads[0][0]).sum() > 0
