"""Transposed convolutions, InstanceNorm, GroupNorm, ReflectionPad2D and channel-last layouts
against MXNet 1.9.1: outputs, gradients, parameter names and shapes, exported attributes
(recorded by tools/mxnet_layers_reference.py), imperatively, in AST mode and in trace mode;
and each layer's export imported back."""
import importlib.util
import json
import os

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import nd
from ast_hybrid.gluon import SymbolBlock, nn
from ast_hybrid.ops import get

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
with open(os.path.join(ROOT, "tests", "data", "mxnet_layers_reference.json")) as _stream:
    REFERENCE = json.load(_stream)
_spec = importlib.util.spec_from_file_location(
    "mxnet_layers_reference", os.path.join(ROOT, "tools", "mxnet_layers_reference.py"))
TOOL = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TOOL)

LAYERS = sorted(REFERENCE["layers"])
ACCEPTED = [name for name in LAYERS if "error" not in REFERENCE["layers"][name]]
REFUSED = [name for name in LAYERS if "error" in REFERENCE["layers"][name]]
MODES = {"imperative": None, "ast": {"mode": "ast", "fallback": False},
         "trace": {"mode": "trace"}}


def close(got, want, rtol=1e-4, atol=1e-5):
    want = np.asarray(want, dtype=np.float32)
    got = np.asarray(got)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def test_reference_was_recorded_by_mxnet_1_9_1():
    assert REFERENCE["mxnet_version"] == "1.9.1"
    assert set(REFERENCE["layers"]) == set(TOOL.LAYER_CASES)
    assert set(REFERENCE["ops"]) == set(TOOL.OP_CASES)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("name", ACCEPTED)
def test_layer_matches_mxnet(name, mode):
    want = REFERENCE["layers"][name]
    got = TOOL.run_case(ast_hybrid, name, MODES[mode])
    assert "error" not in got, got
    assert got["params"] == want["params"]
    close(got["input"], want["input"])
    for key in want["params"]:
        close(got["param_values"][key], want["param_values"][key])
    close(got["output"], want["output"])
    close(got["data_grad"], want["data_grad"])
    assert sorted(got["param_grads"]) == sorted(want["param_grads"])
    for key, grad in want["param_grads"].items():
        close(got["param_grads"][key], grad, rtol=1e-4, atol=1e-4)
    if mode == "imperative":
        _same_nodes(got["nodes"], want["nodes"])


@pytest.mark.parametrize("name", ACCEPTED)
def test_mxnets_exported_graph_imports_and_runs(tmp_path, name):
    """The graph MXNet 1.9.1 exported for the layer, given the recorded parameter values,
    computes MXNet's output here (imperatively and hybridized)."""
    want = REFERENCE["layers"][name]
    path = tmp_path / "mxnet-symbol.json"
    path.write_text(want["symbol_json"])
    block = SymbolBlock.imports(str(path), ["data"])
    params = block.collect_params()
    assert sorted(params.keys()) == sorted(want["params"])
    block.initialize()
    for key, values in want["param_values"].items():
        params[key].set_data(nd.array(np.asarray(values, dtype=np.float32)))
    x = nd.array(np.asarray(want["input"], dtype=np.float32))
    close(block(x).asnumpy(), want["output"])
    block.hybridize()
    close(block(x).asnumpy(), want["output"])


def _same_nodes(got, want):
    """Each MXNet operator node in order, with every attribute MXNet wrote as it wrote it
    (ast_hybrid also writes the defaults)."""
    assert [get(op).name for op, _ in got] == [get(op).name for op, _ in want]
    for (op, attrs), (_, want_attrs) in zip(got, want):
        assert op == get(op).name
        for key, value in want_attrs.items():
            assert attrs[key] == value, (op, key, attrs[key], value)


@pytest.mark.parametrize("name", REFUSED)
def test_layer_refused_as_mxnet_refuses_it(name):
    assert TOOL.run_case(ast_hybrid, name) == REFERENCE["layers"][name]


@pytest.mark.parametrize("name", sorted(REFERENCE["ops"]))
def test_operator_matches_mxnet(name):
    want = REFERENCE["ops"][name]
    if "error" in want:
        pytest.skip(f"MXNet 1.9.1 on CPU refuses it ({want['error']}); checked in "
                    "tests/ops/test_deconv_norm_pad_ops.py")
    got = TOOL.run_op_case(ast_hybrid, name)
    close(got["output"], want["output"])
    assert len(got["extra_outputs"]) == len(want["extra_outputs"])
    for g, w in zip(got["extra_outputs"], want["extra_outputs"]):
        close(g, w)
    for g, w in zip(got["grads"], want["grads"]):
        close(g, w, atol=1e-4)


@pytest.mark.parametrize("name", ["conv2d_transpose", "conv1d_transpose", "conv3d_transpose",
                                  "instance_norm", "instance_norm_axis2", "group_norm",
                                  "reflection_pad", "maxpool2d_nhwc", "avgpool2d_nhwc"])
def test_export_imports_back(tmp_path, name):
    cls, args, kwargs, shape = TOOL.LAYER_CASES[name]
    net = getattr(nn, cls)(*args, **kwargs)
    net.initialize()
    x = nd.array(np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32))
    net(x)
    for param in net.collect_params().values():
        param.set_data(nd.array(np.random.default_rng(1).uniform(0.5, 1.5, param.shape)))
    net.hybridize()
    want = net(x).asnumpy()
    path = str(tmp_path / name)
    net.export(path)
    block = SymbolBlock.imports(path + "-symbol.json", ["data"], path + "-0000.params")
    close(block(x).asnumpy(), want)
    block.hybridize()
    close(block(x).asnumpy(), want)


def test_transpose_layers_repr_and_layouts_as_mxnet():
    layer = nn.Conv2DTranspose(6, 3, strides=2, padding=1, output_padding=1, in_channels=4)
    # MXNet's repr shows the weight's (in_channels, channels) axes as for Conv2D
    assert repr(layer) == ("Conv2DTranspose(6 -> 4, kernel_size=(3, 3), stride=(2, 2), "
                           "padding=(1, 1))")
    assert layer.weight.shape == (4, 6, 3, 3) and layer.outpad == (1, 1)
    with pytest.raises(AssertionError):
        nn.Conv1DTranspose(2, 3, layout="NWC")
    with pytest.raises(AssertionError):
        nn.Conv2DTranspose(2, 3, layout="NCW")
    with pytest.raises(AssertionError):
        nn.Conv3DTranspose(2, 3, layout="NCHW")
    with pytest.raises(AssertionError):
        nn.ReflectionPad2D((1, 2))


def test_norm_layers_repr_and_parameters_as_mxnet():
    norm = nn.InstanceNorm(in_channels=3)
    assert repr(norm) == ("InstanceNorm(eps=1e-05, axis=1, center=True, scale=False, "
                          "in_channels=3)")
    assert norm.gamma.grad_req == "null" and norm.beta.grad_req == "write"
    group = nn.GroupNorm(num_groups=4)
    assert repr(group) == "GroupNorm(eps=1e-05, num_groups=4, center=True, scale=True)"
    assert group.gamma.shape == (4,) and group.beta.shape == (4,)


def _generator():
    net = nn.HybridSequential(prefix="g_")
    with net.name_scope():
        net.add(nn.Conv2DTranspose(8, 4, 1, 0, use_bias=False), nn.BatchNorm(),
                nn.Activation("relu"), nn.Conv2DTranspose(4, 4, 2, 1, use_bias=False),
                nn.InstanceNorm(), nn.ReflectionPad2D(1), nn.Conv2D(3, 3), nn.GroupNorm(3),
                nn.MaxPool2D(2, layout="NHWC"), nn.Activation("tanh"))
    net.initialize()
    return net


def test_generator_trains_alike_imperatively_and_hybridized():
    """A DCGAN-style stack of the new layers: the same losses after Adam steps in every mode,
    and the deferred shapes (in_channels) learnt from the first call."""
    from ast_hybrid import autograd, gluon
    x = nd.array(np.random.default_rng(0).normal(size=(2, 5, 1, 1)).astype(np.float32))
    runs = []
    for options in MODES.values():
        net = _generator()
        net(x)
        for i, param in enumerate(net.collect_params().values()):
            values = np.random.default_rng(i).uniform(-0.5, 0.5, param.shape)
            param.set_data(nd.array(values + (1.0 if "var" in param.name else 0.0)))
        if options is not None:
            net.hybridize(**options)
        trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
        losses = []
        for _ in range(3):
            with autograd.record():
                loss = (net(x) ** 2).mean()
            loss.backward()
            trainer.step(2)
            losses.append(loss.asscalar())
        runs.append(losses)
        assert net[0].weight.shape == (5, 8, 4, 4) and net[4].gamma.shape == (4,)
        assert net(x).shape == (2, 1, 4, 8)      # NHWC pooling of (2, 3, 8, 8): H=3, C=8
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-5)
    np.testing.assert_allclose(runs[2], runs[0], rtol=1e-5)
