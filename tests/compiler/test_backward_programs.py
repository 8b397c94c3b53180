"""Gradients through hybridized blocks: AST mode's generated backward program and trace mode's
differentiated graph give the gradients imperative mode gives."""
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ast_hybrid
from ast_hybrid import autograd, nd
from ast_hybrid.compiler.dispatch import HybridizeFallbackWarning
from ast_hybrid.gluon import nn

from test_ast_property import build, layer_specs


def gradients(make_block, inputs, mode, train=True):
    """(outputs, input gradients, parameter gradients) of sum(outputs**2) in `mode`."""
    ast_hybrid.random.seed(7)
    with ast_hybrid.name.NameManager():    # the same parameter names in every mode
        block = make_block()
    block.initialize()
    block(*[nd.array(x) for x in inputs])
    if mode is not None:
        block.hybridize(mode=mode, fallback=False)
    arrays = [nd.array(x) for x in inputs]
    for array in arrays:
        array.attach_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error", HybridizeFallbackWarning)
        with autograd.record(train_mode=train):
            output = block(*arrays)
            outputs = list(output) if isinstance(output, (tuple, list)) else [output]
            loss = sum((o * o).sum() for o in outputs)
        loss.backward()
    params = {k: p for k, p in block.collect_params().items()
              if p.grad_req != "null" and p.shape_known}   # a layer behind an untaken branch
    return ([o.asnumpy() for o in outputs], [a.grad.asnumpy() for a in arrays],
            {k: p.grad().asnumpy() for k, p in params.items()})


def assert_same_gradients(make_block, inputs, modes=("ast", "trace"), train=True, tol=1e-5):
    want = gradients(make_block, inputs, None, train)
    for mode in modes:
        got = gradients(make_block, inputs, mode, train)
        for g, w in zip(got[0] + got[1], want[0] + want[1]):
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
        assert got[2].keys() == want[2].keys()
        for key in want[2]:
            np.testing.assert_allclose(got[2][key], want[2][key], rtol=tol, atol=tol,
                                       err_msg=f"{mode}: gradient of {key}")


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


LAYERS = {
    "dense": lambda: nn.Dense(3, activation="relu"),
    "dense_no_flatten": lambda: nn.Dense(3, flatten=False, use_bias=False),
    "activation": lambda: nn.Activation("softrelu"),
    "conv2d": lambda: nn.Conv2D(2, 3, padding=1, strides=2),
    "conv1d": lambda: nn.Conv1D(2, 3, dilation=2),
    "maxpool": lambda: nn.MaxPool2D(2),
    "avgpool": lambda: nn.AvgPool2D(2),
    "global_pool": lambda: nn.GlobalAvgPool2D(),
    "batchnorm": lambda: nn.BatchNorm(),
    "layernorm": lambda: nn.LayerNorm(),
    "flatten": lambda: nn.Flatten(),
    "dropout": lambda: nn.Dropout(0.5),
}
SHAPES = {"conv1d": (2, 3, 9), "dense_no_flatten": (2, 4, 5)}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_gradients_equal_in_every_mode(name):
    shape = SHAPES.get(name, (2, 3, 6, 6))
    assert_same_gradients(LAYERS[name], [rand(*shape)])


def test_embedding_gradients():
    tokens = np.array([[1, 2, 2], [0, 3, 1]], dtype=np.float32)
    want = gradients(lambda: nn.Embedding(5, 3), [tokens], None)
    for mode in ("ast", "trace"):
        got = gradients(lambda: nn.Embedding(5, 3), [tokens], mode)
        np.testing.assert_allclose(got[2]["embedding0_weight"], want[2]["embedding0_weight"],
                                   rtol=1e-6)


class BranchAndLoop(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(4, activation="tanh")
        self.out = nn.Dense(2)

    def hybrid_forward(self, F, x):
        h = self.dense(x)
        if h.sum() > 0:
            h = h * 2 + x[:, :4]
        else:
            h = F.relu(h) - h
        while h.norm() > 1:
            h = h / 2
        for i in range(x.shape[0]):
            h = h + x[i, 1] * 0.1
        return self.out(h), h.mean(axis=1)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_data_dependent_branches_and_loops_ast_mode(sign):
    assert_same_gradients(BranchAndLoop, [sign * np.abs(rand(3, 5)) * 3], modes=("ast",))


def test_backward_program_is_generated_and_readable():
    block = BranchAndLoop()
    block.initialize()
    block.hybridize()
    block(nd.ones((2, 5)))
    source = ast_hybrid.to_source(block, backward=True)
    assert "def BranchAndLoop_recording(" in source and "def BranchAndLoop_backward(" in source
    flat = " ".join(source.split())
    # the gradient bound to the layer's attributes, on its inputs, output and output gradient
    assert re.search(r"= fully_connected_grad\(x, dense_weight, dense_bias, out, grad_out, ", flat)
    assert os.path.relpath(__file__) in source     # comments name files relative to the cwd


def test_backward_twice_needs_retain_graph_in_compiled_mode():
    block = nn.Dense(2)
    block.initialize()
    block.hybridize()
    x = nd.ones((1, 3))
    with autograd.record():
        y = block(x).sum()
    y.backward(retain_graph=True)
    first = block.weight.grad().asnumpy().copy()
    y.backward()
    np.testing.assert_allclose(block.weight.grad().asnumpy(), first)
    with pytest.raises(Exception, match="retain_graph"):
        y.backward()


def test_grad_req_add_accumulates_through_compiled_program():
    block = nn.Dense(2)
    block.initialize()
    block.hybridize()
    block.collect_params().setattr("grad_req", "add")
    x = nd.ones((1, 3))
    for _ in range(2):
        with autograd.record():
            y = block(x).sum()
        y.backward()
    np.testing.assert_allclose(block.weight.grad().asnumpy(), 2 * np.ones((2, 3)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(layer_specs, min_size=1, max_size=4), seed=st.integers(0, 2 ** 16),
       batch=st.integers(1, 4))
def test_random_networks_have_imperative_gradients_in_ast_mode(specs, seed, batch):
    x = np.random.default_rng(seed).standard_normal((batch, 4))
    assert_same_gradients(lambda: build(specs), [x], modes=("ast",), tol=1e-4)


class NestedOutputs(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(3)

    def hybrid_forward(self, F, x):
        h = self.dense(x)
        return F.tanh(h), [h * 2, F.zeros(shape=(x.shape[0], 2))]


def test_nested_outputs_and_run_time_constructors_have_gradients():
    x = rand(2, 4)

    def run(mode):
        ast_hybrid.random.seed(0)
        block = NestedOutputs()
        block.initialize()
        block(nd.array(x))
        if mode:
            block.hybridize(mode=mode, fallback=False)
        data = nd.array(x)
        data.attach_grad()
        with autograd.record():
            first, (second, zeros) = block(data)
            loss = (first * first).sum() + second.sum() + zeros.sum()
        loss.backward()
        return data.grad.asnumpy(), block.dense.weight.grad().asnumpy()

    want = run(None)
    for got, expected in zip(run("ast"), want):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
