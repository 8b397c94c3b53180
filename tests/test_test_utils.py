"""ast_hybrid.test_utils against MXNet 1.9.1's (recorded in
tests/data/mxnet_test_utils_reference.json by tools/mxnet_test_utils_reference.py), and
check_hybridize on right blocks and on deliberately wrong programs."""
import json
import os
import re
import sys
import warnings

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, nd
from ast_hybrid.compiler import ast_front_end
from ast_hybrid.gluon import HybridBlock, nn
from ast_hybrid.test_utils import (HybridizeCheckSkipped, HybridizeMismatch, check_hybridize,
                                   default_context, rand_ndarray, set_default_context, use_np)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import mxnet_test_utils_reference as recorder  # noqa: E402

with open(os.path.join(os.path.dirname(__file__), "data",
                       "mxnet_test_utils_reference.json")) as _stream:
    REFERENCE = json.load(_stream)


def _normalized(text):
    """Text without what depends on the numpy or the process rather than on test_utils:
    numpy >= 2.2 writes a summarized array's shape in its repr, and a set's order is its
    strings' hash order, which changes from process to process."""
    text = re.sub(r", shape=\([0-9, ]*\)", "", text)
    return re.sub(r"\{'[^{}]*'\}", lambda m: str(sorted(m.group(0)[1:-1].split(", "))), text)


def test_reference_is_mxnet_1_9_1():
    assert REFERENCE["mxnet"] == "1.9.1"


@pytest.mark.parametrize("index", range(len(recorder.COMPARISONS)))
def test_comparison_matches_mxnet(index):
    name, a, b, kwargs = recorder.COMPARISONS[index]
    kwargs = {k: recorder._tolerance_keys(v) for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN / NaN, as in MXNet's
        got = recorder.outcome(getattr(ast_hybrid.test_utils, name),
                               recorder._operand(ast_hybrid, a),
                               recorder._operand(ast_hybrid, b), **kwargs)
    want = REFERENCE["comparisons"][index]
    if a[0] != "py" and a[2] == "bool" and want[0] == "raised":
        # numpy's own assert_equal words its message differently from version to version
        assert got[:2] == want[:2]
        assert got[2].split("\n")[:4] == want[2].split("\n")[:4]
        return
    assert [got[0], got[1], _normalized(got[2]), got[3]] == \
        [want[0], want[1], _normalized(want[2]), want[3]]


def test_comparison_leaves_print_options_alone():
    before = np.get_printoptions()
    with pytest.raises(AssertionError):
        ast_hybrid.test_utils.assert_almost_equal(np.zeros(10), np.ones(10))
    assert np.get_printoptions() == before


@pytest.mark.parametrize("part", ["tolerances", "random_helpers", "environment"])
def test_helpers_match_mxnet(part):
    assert getattr(recorder, part)(ast_hybrid) == REFERENCE[part]


@pytest.mark.parametrize("check", sorted(REFERENCE["symbol_checks"]))
def test_symbol_checks_match_mxnet(check):
    got = recorder.symbol_checks(ast_hybrid)[check]
    want = REFERENCE["symbol_checks"][check]
    if check == "consistency_values":
        assert sorted(got) == sorted(want)
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-6)
    elif check == "simple_forward":
        np.testing.assert_allclose(got, want, rtol=1e-6)
    else:
        assert _normalized(json.dumps(got)) == _normalized(json.dumps(want))


def test_numeric_gradient_of_batch_norm_with_auxiliary_states():
    data = ast_hybrid.sym.var("data")
    norm = ast_hybrid.sym.BatchNorm(data, name="bn", fix_gamma=False)
    rng = np.random.RandomState(0)
    ast_hybrid.test_utils.check_numeric_gradient(
        norm, [rng.randn(4, 3), rng.rand(3) + 0.5, rng.randn(3)],
        aux_states=[np.zeros(3), np.ones(3)], numeric_eps=1e-2, rtol=0.05, atol=1e-2)


def test_check_consistency_catches_configurations_that_disagree(capsys):
    # float16 against float64 under float64's own tolerance: they cannot agree
    data = ast_hybrid.sym.var("data")
    configs = [{"ctx": ast_hybrid.cpu(0), "data": (2, 3), "type_dict": {"data": dtype}}
               for dtype in (np.float64, np.float16)]
    exp = ast_hybrid.sym.exp(data)
    np.random.seed(0)
    with pytest.raises(AssertionError, match="exceeds tolerance"):
        ast_hybrid.test_utils.check_consistency(exp, configs, rtol=1e-9, atol=0)
    assert "Predict Err: ctx 1 vs ctx 0" in capsys.readouterr().out
    truth = ast_hybrid.test_utils.check_consistency(exp, configs, rtol=1e-9, atol=0,
                                                    raise_on_err=False)
    assert "Train Err: float16 cpu(0) ctx 1 vs float64 cpu(0) ctx 0" in capsys.readouterr().out
    assert sorted(truth) == sorted(exp.list_outputs() + ["data"])
    assert truth["data"].dtype == np.float64


def test_rand_ndarray_refuses_sparse_storage():
    with pytest.raises(NotImplementedError, match="'csr' is not supported"):
        rand_ndarray((2, 3), stype="csr")


def test_use_np_refuses_code_written_for_numpy_mode_when_it_runs():
    @use_np
    def f():
        return 1

    @use_np
    class Block:
        pass
    with pytest.raises(NotImplementedError, match="NumPy mode"):
        f()
    with pytest.raises(NotImplementedError, match="NumPy mode"):
        Block()


def test_set_default_context():
    try:
        set_default_context(ast_hybrid.cpu(1))
        assert default_context() == ast_hybrid.cpu(1)
    finally:
        set_default_context(ast_hybrid.cpu())


# ----- check_hybridize

def _mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(6, activation="relu"), nn.BatchNorm(), nn.Dropout(0.3), nn.Dense(2))
    net.initialize()
    return net


def _batch(size=4, width=3):
    return nd.array(np.random.RandomState(0).randn(size, width))


class Branchy(HybridBlock):
    """A branch on array values: AST mode compiles it, tracing cannot."""

    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.dense = nn.Dense(3)

    def hybrid_forward(self, F, x):
        y = self.dense(x)
        if y.sum() > 0:
            return y * 2
        return -y


def test_check_hybridize_passes_a_right_block_and_restores_it():
    net = _mlp()
    x = _batch()
    net(x)
    before = {k: p.data().asnumpy().copy() for k, p in net.collect_params().items()}
    report = check_hybridize(net, x)
    assert report.compared == ["imperative", "trace", "ast"]
    assert report.skipped == {} and report.fallbacks == []
    assert report.batch_sizes == (4, 2)
    assert not net._active        # as it was: imperative
    for name, param in net.collect_params().items():
        np.testing.assert_array_equal(param.data().asnumpy(), before[name])


def test_check_hybridize_doubles_a_single_sample():
    assert check_hybridize(_mlp(), _batch(size=1)).batch_sizes == (1, 2)


def test_check_hybridize_skips_trace_mode_where_the_block_cannot_be_traced():
    block = Branchy()
    block.initialize()
    with pytest.warns(HybridizeCheckSkipped, match="trace mode skipped: MXNetError"):
        report = check_hybridize(block, _batch())
    assert report.compared == ["imperative", "ast"]
    assert "cannot be used as a bool" in report.skipped["trace"]


def test_check_hybridize_refuses_unknown_modes():
    with pytest.raises(ValueError, match="unknown mode"):
        check_hybridize(_mlp(), _batch(), modes=("imperative", "jit"))


def _patched_ast_programs(monkeypatch, patch):
    """Make every AST program built from now on go through patch(entry)."""
    build = ast_front_end.build_ast_entry

    def patched_build(block, args):
        entry = build(block, args)
        patch(entry)
        return entry
    monkeypatch.setattr(ast_front_end, "build_ast_entry", patched_build)


def test_check_hybridize_names_a_wrong_output(monkeypatch):
    def shifted(entry):
        function = entry.program.function
        entry.program.function = lambda *arrays: function(*arrays) + 0.5
    _patched_ast_programs(monkeypatch, shifted)
    with pytest.raises(HybridizeMismatch, match=r"ast mode differs from imperative mode at "
                       r"batch size 4: output 0: max abs difference 0\.5 "):
        check_hybridize(_mlp(), _batch())


def test_check_hybridize_names_a_wrong_gradient(monkeypatch):
    def doubled_gradients(entry):
        derived = entry.differentiated()
        backward = derived.backward
        derived.backward = lambda stack, values, gradient, *rest: backward(
            stack, values, gradient * 2, *rest)
    _patched_ast_programs(monkeypatch, doubled_gradients)
    with pytest.raises(HybridizeMismatch, match="ast mode differs from imperative mode at "
                       "batch size 4: gradient of input 0: "):
        check_hybridize(_mlp(), _batch(), modes=("imperative", "ast"))


def test_check_hybridize_runs_the_programs_a_block_holds():
    net = _mlp()
    x = _batch()
    net.hybridize()
    net(x)
    entry = next(iter(net._programs.values()))     # the cached AST program of net(x)
    function = entry.program.function
    entry.program.function = lambda *arrays: function(*arrays) * 2
    with pytest.raises(HybridizeMismatch, match="ast mode differs from imperative mode at "
                       "batch size 4: output 0: "):
        check_hybridize(net, x)
    assert next(iter(net._programs.values())) is entry     # the block's cache, as it was


def test_check_hybridize_reports_a_mode_that_raises(monkeypatch):
    def broken(entry):
        def fail(*arrays):
            raise RuntimeError("wrong program")
        entry.program.function = fail
    _patched_ast_programs(monkeypatch, broken)
    with pytest.raises(HybridizeMismatch, match="ast mode raised RuntimeError: wrong program"):
        check_hybridize(_mlp(), _batch(), modes=("imperative", "ast"))


def test_check_hybridize_leaves_the_layer_computing_what_numpy_does():
    net = nn.Dense(2, in_units=3)
    net.initialize()
    x = _batch()
    check_hybridize(net, x)
    weight, bias = net.weight.data().asnumpy(), net.bias.data().asnumpy()
    head = np.random.RandomState(0).uniform(-1, 1, (4, 2))
    xs = x.asnumpy()
    xs.flags.writeable = True
    inputs = nd.array(xs)
    inputs.attach_grad()
    with autograd.record():
        out = net(inputs)
    out.backward(nd.array(head))
    np.testing.assert_allclose(out.asnumpy(), xs @ weight.T + bias, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(inputs.grad.asnumpy(), head @ weight, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.weight.grad().asnumpy(), head.T @ xs, rtol=1e-5, atol=1e-6)


def test_check_hybridize_leaves_no_fresh_gradient_for_the_trainer():
    net = _mlp()
    x = _batch()
    net(x)
    trainer = ast_hybrid.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    check_hybridize(net, x)
    with pytest.raises(UserWarning, match="has not been updated by backward since last"):
        trainer.step(4)


def test_check_gluon_hybridize_consistency():
    check = ast_hybrid.test_utils.check_gluon_hybridize_consistency

    def scaled_tanh(prefix):
        return nn.HybridLambda(lambda F, x: F.tanh(x) * 2, prefix=prefix)

    def dense(prefix):
        return nn.Dense(3, prefix=prefix)

    data = [_batch()]
    check(scaled_tanh, data, numpy_func=lambda x: np.tanh(x) * 2)
    check(dense, data)
    with pytest.raises(AssertionError, match="exceeds tolerance"):
        check(scaled_tanh, data, numpy_func=lambda x: np.tanh(x) * 3)


def test_check_gluon_hybridize_consistency_catches_a_wrong_program(monkeypatch):
    def shifted(entry):
        function = entry.program.function
        entry.program.function = lambda *arrays: function(*arrays) + 1
    _patched_ast_programs(monkeypatch, shifted)
    with pytest.raises(AssertionError, match="exceeds tolerance"):
        ast_hybrid.test_utils.check_gluon_hybridize_consistency(
            lambda prefix: nn.Dense(3, prefix=prefix), [_batch()], test_grad=False)


def test_retry_runs_until_the_test_passes():
    attempts = []

    @ast_hybrid.test_utils.retry(3)
    def flaky():
        attempts.append(1)
        assert len(attempts) == 2
    flaky()
    assert len(attempts) == 2

    @ast_hybrid.test_utils.retry(2)
    def failing():
        attempts.append(1)
        raise AssertionError("always")
    with pytest.raises(AssertionError, match="always"):
        failing()
    assert len(attempts) == 4


def test_no_gpus():
    assert ast_hybrid.test_utils.list_gpus() == []
