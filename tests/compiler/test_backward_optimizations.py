"""The optimizations of recording and backward programs change no value: outputs and gradients
bit-identical to those of the programs hybridize(optimize=False) derives, on random programs
and model-zoo networks (after set_data, cast, and in training and predict mode), and
optimize=False leaves them out."""
import ast
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import ast_hybrid
from ast_hybrid import autograd, nd
from ast_hybrid.gluon import nn
from ast_hybrid.gluon.model_zoo import vision

import fuzz_programs


def _identical(got, want):
    if isinstance(want, (list, tuple)):
        return isinstance(got, (list, tuple)) and len(got) == len(want) and all(
            _identical(g, w) for g, w in zip(got, want))
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(_identical(got[k], want[k]) for k in want)
    if isinstance(want, np.ndarray):
        return isinstance(got, np.ndarray) and got.dtype == want.dtype and \
            np.array_equal(got, want, equal_nan=True)
    return got == want


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(fuzz_programs.programs())
def test_random_programs_give_the_unoptimized_programs_values_and_gradients(program):
    case = fuzz_programs.make_case(program, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimized = fuzz_programs.run_mode(program, case, "ast")
        plain = fuzz_programs.run_mode(program, case, "ast_noopt")
    assert optimized.refused == plain.refused
    assert len(optimized.calls) == len(plain.calls)
    for got, want in zip(optimized.calls, plain.calls):
        assert (got.error, got.backward_error) == (want.error, want.backward_error), \
            program.source
        assert _identical(got.outputs, want.outputs), program.source
        assert _identical(got.input_grads, want.input_grads), program.source
        assert _identical(got.param_grads, want.param_grads), program.source


def _zoo_gradients(make, x, optimize, dtype, train_mode):
    """Per call, the output and every parameter's gradient: after set_data (new weights
    seen by the recording), and in training or predict mode."""
    ast_hybrid.random.seed(3)
    with ast_hybrid.name.NameManager():
        net = make()
    net.initialize(ast_hybrid.init.Xavier())
    if dtype != np.float32:
        net.cast(dtype)
    net.hybridize(fallback=False, optimize=optimize)
    params = list(net.collect_params().values())
    results = []
    for call in range(2):
        if call:
            for p in params:
                p.set_data(p.data() * 0.5 + 0.01)
        data = nd.array(x * (call + 1), dtype=dtype)
        with autograd.record(train_mode=train_mode):
            out = net(data)
            loss = (out * out).sum()
        loss.backward()
        results.append((out.asnumpy(), {p.name: p.grad().asnumpy() for p in params
                                        if p.grad_req != "null"}))
    return results


def _pooled_cnn():
    """Unpadded pooling, whose bound kernel keeps its input's memory order: the recording
    keeps the generic one, so that BatchNorm's sums run as imperative mode's."""
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, padding=1, activation="relu"), nn.MaxPool2D(2), nn.BatchNorm(),
            nn.Flatten(), nn.Dense(3))
    return net


@pytest.mark.parametrize("train_mode", [True, False], ids=["train", "predict"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make, shape", [
    (lambda: vision.resnet18_v1(classes=4), (1, 3, 32, 32)),
    (lambda: vision.mobilenet_v2_0_25(classes=4), (1, 3, 32, 32)),
    (_pooled_cnn, (4, 2, 6, 6)),
], ids=["resnet18_v1", "mobilenet_v2_0_25", "pooled_cnn"])
def test_network_gradients_equal_the_unoptimized_programs(make, shape, dtype, train_mode):
    x = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    want = _zoo_gradients(make, x, False, dtype, train_mode)
    got = _zoo_gradients(make, x, True, dtype, train_mode)
    assert _identical(got, want)


def test_switching_modes_keeps_the_gradients_of_each_mode():
    """One network, training and predict calls in turn (the recording reads the mode at
    run time): each call's gradients as optimize=False gives them."""
    def run(optimize):
        ast_hybrid.random.seed(4)
        with ast_hybrid.name.NameManager():
            net = nn.HybridSequential()
            net.add(nn.Dense(8, activation="relu"), nn.BatchNorm(), nn.Dropout(0.5),
                    nn.Dense(3))
        net.initialize()
        net.hybridize(fallback=False, optimize=optimize)
        x = nd.array(np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32))
        grads = []
        for train_mode in (True, False, True, False):
            with autograd.record(train_mode=train_mode):
                loss = net(x).sum()
            loss.backward()
            grads.append({p.name: p.grad().asnumpy() for p in net.collect_params().values()
                          if p.grad_req != "null"})
        return grads
    assert _identical(run(True), run(False))


def _mlp_backward_source(optimize):
    net = nn.HybridSequential()
    net.add(nn.Dense(4, activation="relu"), nn.Dense(2))
    net.initialize()
    net.hybridize(optimize=optimize)
    x = nd.ones((1, 3))
    x.attach_grad()
    with autograd.record():
        net(x).backward()
    return ast_hybrid.to_source(net, backward=True)


def test_optimize_false_turns_the_backward_optimizations_off():
    plain = _mlp_backward_source(False)
    # every assignment saves the old value, gradients start as None and are accumulated,
    # every adjoint tests its gradient, kernels are the generic ones with attributes
    assert "push(out)" in plain and "pop()" in plain
    assert "grad_out = None" in plain and "accumulate(grad_" in plain
    assert "if output_gradient is not None:" in plain
    assert "FullyConnected(x, " in plain and "num_hidden=4" in plain
    optimized = _mlp_backward_source(True)
    for absent in ("push(", "pop()", "= None\n    grad_", "accumulate(", "grad_out is not None",
                   "FullyConnected(", "output_gradient"):
        assert absent not in optimized, absent
    assert "fully_connected(x, " in optimized and "= relu_grad(out, activation, " in optimized


def test_unset_reads_follow_branches_and_loops():
    from ast_hybrid.compiler.passes.reverse import unset_reads
    body = ast.parse("if c:\n    a = 1\n    b = 1\nelse:\n    b = 2\n"
                     "for i in r:\n    d = 1\nprint(a, b, d, i)\ne = e + 1\n").body
    assert unset_reads(body, {"c", "r"}) == {"a", "d", "i", "e", "print"}


def test_only_variables_assigned_once_outside_loops_skip_the_stack():
    from ast_hybrid.compiler.passes.reverse import _assigned_once
    body = ast.parse("a = x\nb = a\nb = b + 1\nx = x * 2\nif a:\n    c = 1\n"
                     "for i in r:\n    d = i\n").body
    assert _assigned_once(body, {"x"}) == {"a", "c"}
