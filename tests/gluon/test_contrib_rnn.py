"""gluon.contrib.rnn: names, shapes and numbers against MXNet 1.9.1 (recorded by
tools/mxnet_contrib_rnn_reference.py), LSTMP against numpy and finite differences, and
VariationalDropoutCell's masks (one per sequence, the gradient through the mask used, the
identity while predicting) in imperative, AST and trace mode, or the mode's refusal."""
import importlib.util
import json
import os
import warnings

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, nd
from ast_hybrid.base import MXNetError
from ast_hybrid.errors import HybridizeFallbackWarning, UnsupportedConstruct
from ast_hybrid.gluon import nn, rnn
from ast_hybrid.gluon.contrib import rnn as crnn

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "data", "mxnet_contrib_rnn_reference.json")) as _stream:
    REFERENCE = json.load(_stream)
_spec = importlib.util.spec_from_file_location(
    "mxnet_contrib_rnn_reference",
    os.path.join(HERE, "..", "..", "tools", "mxnet_contrib_rnn_reference.py"))
TOOL = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TOOL)

MODES = {"imperative": None, "ast": {"mode": "ast", "fallback": False},
         "trace": {"mode": "trace", "fallback": False}}


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _assert_nested_close(got, want, what):
    assert len(got) == len(want), what
    for index, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-4, atol=1e-5,
                                   err_msg=f"{what}[{index}]")


# ----- MXNet 1.9.1 parity
def test_names_shapes_states_and_repr_are_mxnets():
    got = TOOL.describe(ast_hybrid)
    assert set(got) == set(REFERENCE["describe"])
    for kind, want in REFERENCE["describe"].items():
        assert got[kind] == want, kind


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("kind", sorted(TOOL.CELLS))
def test_cells_match_mxnet_and_imperative_mode(kind, mode):
    """A step, then under autograd.record() a step and an unroll: values and the gradients of
    the inputs, the states and the parameters."""
    got = TOOL.cell_scenario(ast_hybrid, kind, MODES[mode])
    imperative = TOOL.cell_scenario(ast_hybrid, kind, None)
    for key in ("step", "heads", "gradients"):
        _assert_nested_close(got[key], REFERENCE["cells"][kind][key], key)
        _assert_nested_close(got[key], imperative[key], key)


@pytest.mark.parametrize("drop_states", ["0.0", "0.4"])
def test_variational_dropout_while_predicting_is_the_base_cell_as_in_mxnet(drop_states):
    got = TOOL.vardrop_scenario(ast_hybrid, float(drop_states))
    want = REFERENCE["vardrop"][drop_states]
    assert got["merged"] == want["merged"]
    for key in ("step", "unroll", "listed", "base_unroll"):
        _assert_nested_close(got[key], want[key], key)
    outputs = got["unroll"][0] if got["merged"] else np.stack(got["unroll"][:3], axis=1)
    _assert_nested_close([outputs], [got["base_unroll"]], "unroll is the base's")
    assert got["merged"] == (drop_states == "0.0")   # as MXNet: merged but stepping


# ----- LSTMP against numpy and finite differences
def _np_lstmp(x, r, c, p):
    gates = x @ p["i2h_weight"].T + p["i2h_bias"] + r @ p["h2h_weight"].T + p["h2h_bias"]
    i, f, g, o = np.split(gates, 4, axis=1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return (_sigmoid(o) * np.tanh(c)) @ p["h2r_weight"].T, c


def _lstmp(seed=0):
    cell = crnn.LSTMPCell(6, 3, input_size=5, prefix="p_")
    cell.initialize(ast_hybrid.init.Uniform(0.5))
    rng = np.random.default_rng(seed)
    for param in cell.collect_params().values():
        param.set_data(nd.array(rng.uniform(-0.5, 0.5, param.shape).astype(np.float32)))
    return cell


def test_lstmp_infers_its_input_size_and_unrolls_as_numpy():
    cell = crnn.LSTMPCell(6, 3, prefix="p_")
    cell.initialize(ast_hybrid.init.Uniform(0.5))
    x = _rand(2, 4, 5)
    outs, (r, c) = cell.unroll(4, nd.array(x), layout="NTC", merge_outputs=True)
    assert cell.i2h_weight.shape == (24, 5) and outs.shape == (2, 4, 3)
    p = {k[2:]: v.data().asnumpy() for k, v in cell.collect_params().items()}
    want_r, want_c = np.zeros((2, 3), np.float32), np.zeros((2, 6), np.float32)
    for t in range(4):
        want_r, want_c = _np_lstmp(x[:, t], want_r, want_c, p)
        np.testing.assert_allclose(outs.asnumpy()[:, t], want_r, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r.asnumpy(), want_r, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.asnumpy(), want_c, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_lstmp_gradients_match_finite_differences(mode):
    cell = _lstmp()
    if MODES[mode]:
        cell.hybridize(**MODES[mode])
    x, r0, c0 = _rand(2, 5, seed=1), _rand(2, 3, seed=2), _rand(2, 6, seed=3)
    head_r, head_c = _rand(2, 3, seed=4), _rand(2, 6, seed=5)
    arrays = [nd.array(a) for a in (x, r0, c0)]
    for array in arrays:
        array.attach_grad()
    with autograd.record():
        out, (r, c) = cell(arrays[0], arrays[1:])
        loss = (out * nd.array(head_r)).sum() + (c * nd.array(head_c)).sum()
    loss.backward()
    p = {k[2:]: v.data().asnumpy().astype(np.float64) for k, v in cell.collect_params().items()}

    def numpy_loss(values):
        r, c = _np_lstmp(values["x"], values["r0"], values["c0"], values)
        return float((r * head_r).sum() + (c * head_c).sum())

    values = dict(p, x=x.astype(np.float64), r0=r0.astype(np.float64),
                  c0=c0.astype(np.float64))
    got = dict({k[2:]: v.grad().asnumpy() for k, v in cell.collect_params().items()},
               x=arrays[0].grad.asnumpy(), r0=arrays[1].grad.asnumpy(),
               c0=arrays[2].grad.asnumpy())
    step = 1e-6
    for name, value in values.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + step
            up = numpy_loss(values)
            value[index] = saved - step
            down = numpy_loss(values)
            value[index] = saved
            numeric[index] = (up - down) / (2 * step)
        np.testing.assert_allclose(got[name], numeric, rtol=1e-3, atol=1e-4, err_msg=name)


# ----- VariationalDropoutCell's masks
def _vardrop(drop_inputs=0.5, drop_states=0.5, drop_outputs=0.5, base=None):
    base = base or rnn.LSTMCell(4, input_size=5, prefix="l_")
    return crnn.VariationalDropoutCell(base, drop_inputs, drop_states, drop_outputs)


def _zeros_by_step(outputs):
    """The zero positions of each time step's output (batch, features), as booleans."""
    return [np.asarray(out) == 0 for out in outputs]


def test_stepped_masks_are_drawn_once_and_redrawn_after_reset():
    cell = _vardrop()
    cell.initialize(ast_hybrid.init.Uniform(0.5))
    x = _rand(8, 3, 5)
    states = cell.begin_state(8)
    with autograd.train_mode():
        outputs, masks = [], []
        for t in range(3):
            out, states = cell(nd.array(x[:, t]), states)
            outputs.append(out.asnumpy())
            masks.append([cell.drop_inputs_mask, cell.drop_states_mask, cell.drop_outputs_mask])
        first = _zeros_by_step(outputs)
        assert 0 < first[0].sum() < first[0].size
        for zeros, kept in zip(first[1:], masks[1:]):
            np.testing.assert_array_equal(zeros, first[0])
            assert all(a is b for a, b in zip(kept, masks[0]))
        for mask, rate in zip(masks[0], (0.5, 0.5, 0.5)):
            assert set(np.unique(mask.asnumpy())) <= {0.0, 1 / (1 - rate)}
        cell.reset()
        assert cell.drop_inputs_mask is None and cell.drop_outputs_mask is None
        ast_hybrid.random.seed(7)
        out, _ = cell(nd.array(x[:, 0]), cell.begin_state(8))
        assert not np.array_equal(_zeros_by_step([out.asnumpy()])[0], first[0])


@pytest.mark.parametrize("drop_states", [0.0, 0.5])
def test_unrolled_masks_are_the_same_at_every_time_step(drop_states):
    cell = _vardrop(drop_states=drop_states)
    cell.initialize(ast_hybrid.init.Uniform(0.5))
    x = nd.array(_rand(8, 4, 5))
    x.attach_grad()
    with autograd.record():
        outs, _ = cell.unroll(4, x, layout="NTC", merge_outputs=True)
    outs.backward(nd.ones(outs.shape))
    outputs = outs.asnumpy()
    zeros = _zeros_by_step([outputs[:, t] for t in range(4)])
    assert 0 < zeros[0].sum() < zeros[0].size
    for step_zeros in zeros[1:]:
        np.testing.assert_array_equal(step_zeros, zeros[0])
    # the input mask: the gradient is zero where it dropped, at the same places every step
    dropped = [x.grad.asnumpy()[:, t] == 0 for t in range(4)]
    assert dropped[0].any()
    for step_dropped in dropped[:-1]:       # the last step's input still reaches its output
        np.testing.assert_array_equal(step_dropped, dropped[0])


def test_the_step_gradient_comes_through_the_mask_used():
    cell = _vardrop(drop_states=0.0, drop_outputs=0.0)
    cell.initialize(ast_hybrid.init.Uniform(0.5))
    x, h, c = (nd.array(a) for a in (_rand(6, 5), _rand(6, 4, seed=1), _rand(6, 4, seed=2)))
    x.attach_grad()
    with autograd.record():
        out, _ = cell(x, [h, c])
    out.backward(nd.ones(out.shape))
    mask = cell.drop_inputs_mask.asnumpy()
    masked = nd.array(x.asnumpy() * mask)
    masked.attach_grad()
    with autograd.record():
        base_out, _ = cell.base_cell(masked, [h, c])
    base_out.backward(nd.ones(base_out.shape))
    np.testing.assert_allclose(out.asnumpy(), base_out.asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), masked.grad.asnumpy() * mask, rtol=1e-5,
                               atol=1e-7)


class _Unrolled(nn.HybridBlock):
    """A cell unrolled inside hybrid_forward, then a Dense on every step."""

    def __init__(self, cell, merge=True):
        super().__init__()
        self.cell, self._merge = cell, merge
        self.out = nn.Dense(3, flatten=False, in_units=4)

    def hybrid_forward(self, F, x):
        outputs, states = self.cell.unroll(4, x, layout="NTC", merge_outputs=self._merge)
        if not self._merge:
            outputs = F.stack(*outputs, axis=1)
        return self.out(outputs) + F.expand_dims(states[-1], axis=1).sum(axis=2, keepdims=True)


def _train_once(make, mode, x):
    """Values and gradients (parameters and input) of one training call, every mode from
    the same parameters and random seed, and the values while predicting."""
    with ast_hybrid.name.NameManager():
        ast_hybrid.random.seed(0)
        block = make()
        block.initialize(ast_hybrid.init.Uniform(0.5))
    if MODES[mode]:
        block.hybridize(**MODES[mode])
    inputs = nd.array(x)
    inputs.attach_grad()
    predicted = block(inputs).asnumpy()
    ast_hybrid.random.seed(11)
    with autograd.record():
        out = block(inputs)
    out.backward(nd.array(_rand(*out.shape, seed=12)))
    grads = {k: p.grad().asnumpy() for k, p in block.collect_params().items()}
    grads["data"] = inputs.grad.asnumpy()
    return out.asnumpy(), grads, predicted


VARDROP_NETS = {
    "inputs-outputs": lambda: _Unrolled(_vardrop(drop_states=0.0)),
    "inputs-outputs-listed": lambda: _Unrolled(_vardrop(drop_states=0.0), merge=False),
    "states": lambda: _Unrolled(_vardrop(0.0, 0.5, 0.0)),
    "all": lambda: _Unrolled(_vardrop()),
    "all-gru": lambda: _Unrolled(_vardrop(base=rnn.GRUCell(4, input_size=5, prefix="g_"))),
    "all-lstmp": lambda: _Unrolled(_vardrop(base=crnn.LSTMPCell(6, 4, input_size=5,
                                                                prefix="p_"))),
}
# stepwise masks (state dropout) cannot be compiled: AST mode refuses them
AST_COMPILES = {"inputs-outputs", "inputs-outputs-listed"}


@pytest.mark.parametrize("mode", ["ast", "trace"])
@pytest.mark.parametrize("name", sorted(VARDROP_NETS))
def test_unrolled_variational_dropout_compiles_exactly_or_is_refused(name, mode):
    x = _rand(3, 4, 5)
    want, want_grads, predicted = _train_once(VARDROP_NETS[name], "imperative", x)
    assert np.abs(want - predicted).max() > 0.1     # the dropouts did drop
    if mode == "ast" and name not in AST_COMPILES:
        with pytest.raises(UnsupportedConstruct, match="assigning to Attribute"):
            _train_once(VARDROP_NETS[name], mode, x)
        return
    got, grads, _ = _train_once(VARDROP_NETS[name], mode, x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert set(grads) == set(want_grads)
    for key in want_grads:
        np.testing.assert_allclose(grads[key], want_grads[key], rtol=1e-4, atol=1e-5,
                                   err_msg=key)


def test_refused_state_dropout_falls_back_to_the_exact_trace():
    x = _rand(3, 4, 5)
    want = _train_once(VARDROP_NETS["all"], "imperative", x)[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MODES["fallback"] = {"mode": "ast"}
        try:
            got = _train_once(VARDROP_NETS["all"], "fallback", x)[0]
        finally:
            del MODES["fallback"]
    assert any(issubclass(w.category, HybridizeFallbackWarning) for w in caught)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["ast", "trace"])
def test_a_hybridized_step_with_kept_masks_is_refused(mode):
    cell = _vardrop()
    cell.initialize()
    cell.hybridize(**MODES[mode])
    error = UnsupportedConstruct if mode == "ast" else MXNetError
    with pytest.raises(error, match="assigning to Attribute" if mode == "ast" else
                       "keeps its dropout masks"):
        cell(nd.array(_rand(2, 5)), cell.begin_state(2))


def test_without_rates_a_traced_step_is_the_base_cells():
    cell = _vardrop(0.0, 0.0, 0.0)
    cell.initialize()
    states = [nd.array(_rand(2, 4, seed=s)) for s in (1, 2)]
    want, _ = cell.base_cell(nd.array(_rand(2, 5)), states)
    cell.hybridize(mode="trace", fallback=False)
    with autograd.train_mode():
        got, _ = cell(nd.array(_rand(2, 5)), states)
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-6)


def test_masks_of_a_traced_unroll_must_be_reset_before_stepping():
    net = _Unrolled(_vardrop())
    net.initialize()
    net.hybridize(mode="trace", fallback=False)
    net(nd.array(_rand(2, 4, 5)))
    cell = net.cell
    cell.hybridize(False)
    with pytest.raises(MXNetError, match="call reset"):
        cell(nd.array(_rand(2, 5)), cell.begin_state(2))
    cell.reset()
    out, _ = cell(nd.array(_rand(2, 5)), cell.begin_state(2))
    assert out.shape == (2, 4)


def test_predict_mode_is_the_identity_in_every_mode():
    x = _rand(3, 4, 5)
    outputs = {}
    for mode in ("imperative", "trace", "ast"):
        with ast_hybrid.name.NameManager():
            ast_hybrid.random.seed(0)
            net = _Unrolled(_vardrop(drop_states=0.0))
            net.initialize(ast_hybrid.init.Uniform(0.5))
        if MODES[mode]:
            net.hybridize(**MODES[mode])
        outputs[mode] = net(nd.array(x)).asnumpy()
        base_outs, states = net.cell.base_cell.unroll(4, nd.array(x), layout="NTC",
                                                      merge_outputs=True)
        want = net.out(base_outs) + nd.expand_dims(states[-1], axis=1).sum(axis=2,
                                                                          keepdims=True)
        np.testing.assert_allclose(outputs[mode], want.asnumpy(), rtol=1e-5, atol=1e-6)
    assert not (outputs["imperative"] == 0).any()
