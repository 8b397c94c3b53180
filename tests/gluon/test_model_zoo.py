"""gluon.model_zoo.vision against MXNet 1.9.1 (recorded by tools/mxnet_model_zoo_reference.py):
every network's parameter names and shapes; outputs for weights set by the record's rule,
imperatively, in AST mode, in trace mode and exported then imported (every network with
AST_HYBRID_MODEL_ZOO=1, a representative few by default); AST-mode gradients against
imperative ones; model_store's files; the contrib layers the models are built of."""
import base64
import importlib.util
import inspect
import json
import os
import struct
import tempfile

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, nd, sym
from ast_hybrid.gluon import SymbolBlock, nn
from ast_hybrid.gluon.contrib.nn import Concurrent, HybridConcurrent, Identity
from ast_hybrid.gluon.model_zoo import model_store, vision
from ast_hybrid.limits import LoadLimits
from ast_hybrid.ndarray import mxnet_files
from ast_hybrid.ndarray.io import LoadError

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
with open(os.path.join(ROOT, "tests", "data", "mxnet_model_zoo_reference.json")) as _stream:
    REFERENCE = json.load(_stream)
_spec = importlib.util.spec_from_file_location(
    "mxnet_model_zoo_reference", os.path.join(ROOT, "tools", "mxnet_model_zoo_reference.py"))
TOOL = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TOOL)

NETWORKS = list(TOOL.NETWORKS)
# the smallest of most families (densenet121 for its concatenated identities): 8 to 15 s
# together, as loaded as two shared cores are; all of them take about 90 s
DEFAULT_NUMERIC = ["resnet18_v1", "resnet18_v2", "mobilenet0.25", "mobilenetv2_0.25",
                   "squeezenet1.1", "alexnet", "densenet121"]
NUMERIC = NETWORKS if os.environ.get("AST_HYBRID_MODEL_ZOO") == "1" else DEFAULT_NUMERIC
# AST-mode gradients: two small networks and AlexNet (dropout) by default, each family's
# smallest with AST_HYBRID_MODEL_ZOO=1 (about 25 s more)
GRADIENTS = ["mobilenetv2_0.25", "resnet18_v2", "alexnet"] + (
    ["resnet18_v1", "resnet50_v1", "resnet50_v2", "vgg11_bn", "squeezenet1.0", "mobilenet0.25",
     "densenet121", "inceptionv3"] if NUMERIC is NETWORKS else [])


def close(got, want, what):
    """Equal within 1e-4 of the output's largest magnitude (and relatively): float32 sums
    in another order differ by that much after a hundred layers."""
    want = np.asarray(want, dtype=np.float32)
    got = np.asarray(got)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max(),
                               err_msg=what)


def recorded_output(name):
    record = REFERENCE["networks"][name]
    return np.asarray(record["output"]).reshape(record["output_shape"])


def test_reference_was_recorded_by_mxnet_1_9_1():
    assert REFERENCE["mxnet_version"] == "1.9.1"
    assert set(REFERENCE["networks"]) == set(NETWORKS) == set(vision._models)
    assert set(REFERENCE["pixel_shuffles"]) == set(TOOL.PIXEL_SHUFFLES)


@pytest.mark.parametrize("name", NETWORKS)
def test_names_and_shapes_match_mxnet(name):
    """The names of collect_params(), and the shapes the graph gives them at the image size
    the network is made for (inferred from the traced graph: no array is computed, not even
    the parameters' initial values)."""
    want = REFERENCE["networks"][name]
    expected = {want["prefix"] + key: tuple(shape) for key, shape in want["params"]}
    net = TOOL.build(ast_hybrid, name)
    assert sorted(net.collect_params()) == sorted(expected)
    side = TOOL.NETWORKS[name][0]
    graph = net(sym.var("data"))
    arg_shapes, _, aux_shapes = graph.infer_shape(data=(1, 3, side, side))
    inferred = dict(zip(graph.list_arguments() + graph.list_auxiliary_states(),
                        arg_shapes + aux_shapes))
    assert inferred.pop("data") == (1, 3, side, side)
    assert inferred == expected


@pytest.mark.parametrize("name", NUMERIC)
def test_outputs_match_mxnet(tmp_path, name):
    """One network, its weights set by the record's rule: MXNet's output imperatively, in
    AST mode (nothing refused), in trace mode, and exported and imported back."""
    want = recorded_output(name)
    net = TOOL.make(ast_hybrid, name, classes=TOOL.NUMERIC_CLASSES)
    x = nd.array(TOOL.image(TOOL.NETWORKS[name][1]))
    close(TOOL.numeric_output(ast_hybrid, net, name), want, "imperative")
    net.hybridize(fallback=False)
    close(net(x).asnumpy(), want, "AST mode")
    net.hybridize(mode="trace")
    close(net(x).asnumpy(), want, "trace mode")
    path = str(tmp_path / "net")
    net.export(path)
    imported = SymbolBlock.imports(path + "-symbol.json", ["data"], path + "-0000.params")
    close(imported(x).asnumpy(), want, "exported and imported")


@pytest.mark.parametrize("name", TOOL.EXPORTED)
def test_mxnets_exported_graph_imports_and_runs(tmp_path, name):
    """The graph MXNet 1.9.1 exported for the network, given the record's weights (by the
    structural names of our own network, whose full names the graph's are), computes
    MXNet's output here, imperatively and hybridized."""
    path = tmp_path / "mxnet-symbol.json"
    path.write_text(REFERENCE["networks"][name]["symbol_json"])
    imported = SymbolBlock.imports(str(path), ["data"])
    ours = TOOL.make(ast_hybrid, name, classes=TOOL.NUMERIC_CLASSES)
    x = nd.array(TOOL.image(TOOL.NETWORKS[name][1]))
    ours(x)
    structural = {p.name: key for key, p in ours._collect_params_with_prefix().items()}
    params = imported.collect_params()
    assert sorted(params) == sorted(structural)
    imported.initialize()
    imported(x)                   # the graph declares no shapes: the first call infers them
    for full_name, param in params.items():
        param.set_data(nd.array(TOOL.parameter_value(structural[full_name], param.shape)))
    close(imported(x).asnumpy(), recorded_output(name), "imported")
    imported.hybridize(fallback=False)
    close(imported(x).asnumpy(), recorded_output(name), "imported, AST mode")


@pytest.mark.parametrize("mode", ["ast", "trace"])
def test_hybridized_before_the_first_call(mode):
    """As scripts do: initialize, hybridize, call (the shapes deferred until then)."""
    name = "mobilenet0.25"
    net = TOOL.make(ast_hybrid, name, classes=TOOL.NUMERIC_CLASSES)
    net.hybridize(mode=mode, fallback=False)
    close(TOOL.numeric_output(ast_hybrid, net, name), recorded_output(name), mode)


@pytest.mark.parametrize("name", GRADIENTS)
def test_ast_mode_gradients_equal_imperative(name):
    """Under autograd.record() (batch norm on batch statistics, dropout drawing the same
    masks from the same seed), the gradients of the data and of every parameter in AST mode
    are imperative mode's."""
    side = TOOL.NETWORKS[name][1]
    net = TOOL.make(ast_hybrid, name, classes=TOOL.NUMERIC_CLASSES)
    x = nd.array(np.random.RandomState(1).uniform(-1, 1, (2, 3, side, side)).astype("float32"))
    net(x)
    TOOL.set_parameters(ast_hybrid, net)
    head = nd.array(np.random.RandomState(2).uniform(
        -1, 1, (2, TOOL.NUMERIC_CLASSES)).astype("float32"))
    params = {k: p for k, p in net.collect_params().items() if p.grad_req != "null"}

    def gradients():
        ast_hybrid.random.seed(7)
        x.attach_grad()
        with autograd.record():
            y = net(x)
        y.backward(head)
        return y.asnumpy(), x.grad.asnumpy(), {k: p.grad().asnumpy() for k, p in
                                                params.items()}

    imperative = gradients()
    net.hybridize(fallback=False)
    compiled = gradients()
    close(compiled[0], imperative[0], "output")
    close(compiled[1], imperative[1], "data gradient")
    for key, grad in imperative[2].items():
        close(compiled[2][key], grad, key)


def test_pixel_shuffles_match_mxnet():
    for name, want in REFERENCE["pixel_shuffles"].items():
        layer, factor, shape = TOOL.PIXEL_SHUFFLES[name]
        block = getattr(ast_hybrid.gluon.contrib.nn, layer)(factor)
        x = nd.array(np.arange(np.prod(shape), dtype="float32").reshape(shape))
        close(block(x).asnumpy(), want, name)
        block.hybridize(fallback=False)
        close(block(x).asnumpy(), want, name + " in AST mode")
        block.hybridize(mode="trace")
        close(block(x).asnumpy(), want, name + " in trace mode")


def test_concurrent_layers_concatenate_their_childrens_outputs():
    x = nd.array(np.arange(6, dtype="float32").reshape(2, 3))
    hybrid = HybridConcurrent(axis=1)
    with hybrid.name_scope():
        hybrid.add(nn.Dense(4), Identity())
    plain = Concurrent(axis=0)
    with plain.name_scope():
        plain.add(Identity(), Identity())
    for block in (hybrid, plain):
        block.initialize()
    assert sorted(hybrid.collect_params()) == ["hybridconcurrent0_dense0_bias",
                                               "hybridconcurrent0_dense0_weight"]
    dense = hybrid[0](x).asnumpy()
    expected = np.concatenate([dense, x.asnumpy()], axis=1)
    np.testing.assert_allclose(hybrid(x).asnumpy(), expected)
    hybrid.hybridize(fallback=False)
    np.testing.assert_allclose(hybrid(x).asnumpy(), expected)
    np.testing.assert_array_equal(plain(x).asnumpy(), np.concatenate([x.asnumpy()] * 2))


def test_every_model_has_its_function_with_mxnets_signature():
    for function in vision._models.values():
        assert getattr(vision, function.__name__) is function
    for function in (vision.alexnet, vision.inception_v3):
        parameters = inspect.signature(function).parameters
        assert list(parameters)[:3] == ["pretrained", "ctx", "root"]
        assert parameters["pretrained"].default is False
    for family in (vision.get_resnet, vision.get_mobilenet, vision.get_mobilenet_v2,
                   vision.get_vgg):
        assert "root" in inspect.signature(family).parameters
    assert isinstance(vision.get_model("ResNet18_V1", classes=10), vision.ResNetV1)
    with pytest.raises(ValueError, match="Model resnet19_v1 is not supported"):
        vision.get_model("resnet19_v1")


def test_model_store_names_files_as_mxnet_and_never_downloads(tmp_path):
    assert model_store.short_hash("resnet18_v1") == "a0666292"
    with pytest.raises(ValueError, match="Pretrained model for resnet19_v1 is not available"):
        model_store.short_hash("resnet19_v1")
    with pytest.raises(FileNotFoundError) as caught:
        vision.mobilenet0_25(pretrained=True, root=str(tmp_path))
    assert "mobilenet0.25-9f83e440.params" in str(caught.value)
    assert str(tmp_path) in str(caught.value)


_TYPE_FLAGS = {"float32": 0, "float64": 1, "float16": 2, "uint8": 3, "int32": 4, "int8": 5,
               "int64": 6, "bool": 7}


def mxnet_bytes(arrays, version=0xF993FAC9, stype=0, names=None, tail=b""):
    """A file as MXNet's nd.save writes `arrays` (checked against MXNet's own bytes below);
    `version` 0xF993FAC8 writes MXNet's V1 arrays, 0 its oldest ones (no version field)."""
    out = [struct.pack("<QQQ", 0x112, 0, len(arrays))]
    for value in arrays.values():
        if version == 0:
            out.append(struct.pack(f"<I{value.ndim}I", value.ndim, *value.shape))
        else:
            out.append(struct.pack("<I", version))
            if version != 0xF993FAC8:
                out.append(struct.pack("<i", stype))
            out.append(struct.pack(f"<i{value.ndim}q", value.ndim, *value.shape))
        out.append(struct.pack("<iii", 1, 0, _TYPE_FLAGS[value.dtype.name]))
        out.append(value.astype(value.dtype.newbyteorder("<")).tobytes())
    names = list(arrays) if names is None else names
    out.append(struct.pack("<Q", len(names)))
    for name in names:
        out.append(struct.pack("<Q", len(name.encode())) + name.encode())
    return b"".join(out) + tail


def test_mxnets_parameter_files_are_read():
    """The small file MXNet 1.9.1 wrote gives its arrays, dtypes included; the files of
    MXNet's older array formats too."""
    recorded = base64.b64decode(REFERENCE["mxnet_file"])
    want = TOOL.file_arrays()
    assert mxnet_bytes(want) == recorded
    for data in (recorded, mxnet_bytes(want, version=0xF993FAC8), mxnet_bytes(want, version=0)):
        got = _read(data)
        assert list(got) == list(want)
        for name, value in want.items():
            assert got[name].dtype == value.dtype, name
            np.testing.assert_array_equal(got[name], value, name)


def _read(data, **limits):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "file.params")
        with open(path, "wb") as stream:
            stream.write(data)
        return mxnet_files.read_arrays(path, LoadLimits(**limits))


def test_malformed_mxnet_files_are_refused_naming_what_is_wrong():
    arrays = {"a": np.ones((2, 3), dtype="float32"), "b": np.zeros(4, dtype="int64")}
    good = mxnet_bytes(arrays)
    cases = {
        "ends inside an array's data": good[:70],
        "ends inside a name": good[:-1],
        "bytes after the names": mxnet_bytes(arrays, tail=b"x"),
        "a sparse array": mxnet_bytes(arrays, stype=1),
        "not one name for each array": mxnet_bytes(arrays, names=["a"]),
        "a name given twice": mxnet_bytes(arrays, names=["a", "a"]),
        "an array of 0 dimensions": mxnet_bytes({"s": np.float32(1).reshape(())}),
        "an array of type flag 12": good.replace(struct.pack("<iii", 1, 0, 0),
                                                 struct.pack("<iii", 1, 0, 12)),
        "arrays declared": good[:16] + struct.pack("<Q", 1 << 40) + good[24:],
        "an array of 40 dimensions": good[:32] + struct.pack("<i", 40) + good[36:],
        "a name that is not UTF-8": good[:-1] + b"\xff",
    }
    for why, data in cases.items():
        with pytest.raises(LoadError, match=why):
            _read(data)
    with pytest.raises(LoadError, match="max_array_elements=5; pass max_array_elements=6"):
        _read(good, max_array_elements=5)
    with pytest.raises(LoadError, match="max_total_bytes"):
        _read(good, max_total_bytes=64)


def test_pretrained_loads_mxnets_own_file(tmp_path):
    """A file in MXNet's binary format, as MXNet publishes them (save_parameters' structural
    names), loads through pretrained=True."""
    source = vision.mobilenet0_25(classes=10)
    source.initialize()
    source(nd.array(TOOL.image(32)))
    TOOL.set_parameters(ast_hybrid, source)
    values = {key: p.data().asnumpy() for key, p in source._collect_params_with_prefix().items()}
    path = tmp_path / f"mobilenet0.25-{model_store.short_hash('mobilenet0.25')}.params"
    path.write_bytes(mxnet_bytes(values))
    loaded = vision.mobilenet0_25(pretrained=True, root=str(tmp_path), classes=10)
    for key, param in loaded._collect_params_with_prefix().items():
        np.testing.assert_array_equal(param.data().asnumpy(), values[key], key)
    x = nd.array(TOOL.image(32))
    np.testing.assert_array_equal(loaded(x).asnumpy(), source(x).asnumpy())


def test_pretrained_loads_the_file_in_root(tmp_path):
    source = vision.mobilenet0_25()
    source.initialize()
    source(nd.array(TOOL.image(32)))
    path = tmp_path / f"mobilenet0.25-{model_store.short_hash('mobilenet0.25')}.params"
    source.save_parameters(str(path))
    assert model_store.get_model_file("mobilenet0.25", root=str(tmp_path)) == str(path)
    loaded = vision.get_model("mobilenet0.25", pretrained=True, root=str(tmp_path))
    for (key, want), got in zip(source._collect_params_with_prefix().items(),
                                loaded._collect_params_with_prefix().values()):
        np.testing.assert_array_equal(got.data().asnumpy(), want.data().asnumpy(), key)
    (tmp_path / "notes.txt").write_text("kept")
    model_store.purge(str(tmp_path))
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_third_parties_may_add_their_models_to_the_store(tmp_path, monkeypatch):
    monkeypatch.setitem(model_store._model_sha1, "mynet", "0123456789abcdef" * 2 + "01234567")
    with pytest.raises(FileNotFoundError, match="mynet-01234567.params"):
        model_store.get_model_file("mynet", root=str(tmp_path))
