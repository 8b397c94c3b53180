"""Blocks written as GluonCV writes its models, against MXNet 1.9.1's recorded outputs and
gradients (tools/mxnet_gluoncv_style_reference.py), imperatively, in AST and trace mode, and
exported and imported."""
import base64
import importlib.util
import json
import os

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid.gluon import SymbolBlock

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
with open(os.path.join(ROOT, "tests", "data", "mxnet_gluoncv_style_reference.json")) as _stream:
    REFERENCE = json.load(_stream)
_spec = importlib.util.spec_from_file_location(
    "mxnet_gluoncv_style_reference",
    os.path.join(ROOT, "tools", "mxnet_gluoncv_style_reference.py"))
recorder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recorder)

MODES = {"imperative": None, "ast": {"fallback": False}, "trace": {"mode": "trace"}}


@pytest.fixture
def net(tmp_path):
    """The network with the parameters MXNet's save_parameters wrote, loaded from its file."""
    block = recorder.make(ast_hybrid)
    path = tmp_path / "mxnet.params"
    path.write_bytes(base64.b64decode(REFERENCE["params_file"]))
    block.load_parameters(str(path))
    return block


def _hybridized(block, mode):
    if MODES[mode] is not None:
        block.hybridize(**MODES[mode])
    return block


def _expected_output():
    return np.array(REFERENCE["output"], "float32").reshape(REFERENCE["output_shape"])


def test_last_gamma_starts_at_zero_as_in_mxnet():
    block = recorder.make(ast_hybrid)
    assert block.layer1.bn3.gamma.data().asnumpy().tolist() == REFERENCE["initial_last_gamma"]
    assert not any(REFERENCE["initial_last_gamma"])


def test_attributes_set_before_init_and_norm_kwargs_reach_the_layers():
    block = recorder.make(ast_hybrid)
    assert (block.inplanes, block.layer1.expansion) == (16, 2)
    batch_norm = block.layer1.bn1
    assert batch_norm._kwargs["momentum"] == recorder.NORM_KWARGS["momentum"]
    assert batch_norm._kwargs["eps"] == recorder.NORM_KWARGS["epsilon"]


@pytest.mark.parametrize("mode", MODES)
def test_output_equals_mxnets(net, mode):
    out = _hybridized(net, mode)(ast_hybrid.nd.array(recorder.data())).asnumpy()
    np.testing.assert_allclose(out, _expected_output(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_training_step_equals_mxnets(net, mode):
    arrays = recorder.training_step(ast_hybrid, _hybridized(net, mode))
    expected = REFERENCE["training_step"]
    assert sorted(arrays) == sorted(expected)
    for key, value in arrays.items():
        want = np.array(expected[key], "float32").reshape(value.shape)
        scale = max(float(np.max(np.abs(want))), 1e-3)
        np.testing.assert_allclose(value, want, rtol=1e-4, atol=1e-4 * scale, err_msg=key)


@pytest.mark.parametrize("mode", ["ast", "trace"])
def test_hybridized_gradients_equal_imperative_ones(tmp_path, mode):
    path = tmp_path / "mxnet.params"
    path.write_bytes(base64.b64decode(REFERENCE["params_file"]))
    runs = {}
    for run in ("imperative", mode):
        block = recorder.make(ast_hybrid)
        block.load_parameters(str(path))
        runs[run] = recorder.training_step(ast_hybrid, _hybridized(block, run))
    for key, value in runs["imperative"].items():
        np.testing.assert_allclose(runs[mode][key], value, rtol=1e-5, atol=1e-6, err_msg=key)


def test_exported_graph_imports_and_gives_mxnets_output(net, tmp_path):
    net.hybridize(mode="trace")
    x = ast_hybrid.nd.array(recorder.data())
    net(x)
    path = str(tmp_path / "gluoncv_style")
    net.export(path)
    loaded = SymbolBlock.imports(path + "-symbol.json", ["data"], path + "-0000.params")
    np.testing.assert_allclose(loaded(x).asnumpy(), _expected_output(), rtol=1e-4, atol=1e-5)
    loaded.hybridize(fallback=False)
    np.testing.assert_allclose(loaded(x).asnumpy(), _expected_output(), rtol=1e-4, atol=1e-5)
