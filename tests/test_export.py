"""export() writes MXNet's JSON graph and an .npz params file; SymbolBlock.imports runs them.
Malformed or hostile files give a clear error and run nothing; writes are atomic."""
import ast
import hashlib
import json
import os
import pickle
import re

import numpy as np
import pytest

from ast_hybrid import autograd, init, nd, sym
from ast_hybrid.base import MXNetError
from ast_hybrid.gluon import SymbolBlock, nn
from ast_hybrid.ndarray.io import LoadError
from ast_hybrid import files
from ast_hybrid.symbol.json_graph import GraphFormatError, graph_to_text, read_graph_file

DATA = os.path.join(os.path.dirname(__file__), "data")


def mlp():
    """The lecture's MLP."""
    net = nn.HybridSequential()
    net.add(nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(2))
    return net


def cnn():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
            nn.MaxPool2D(), nn.Flatten(), nn.Dense(3))
    return net


def random_input(*shape, seed=0):
    return nd.array(np.random.default_rng(seed).normal(size=shape).astype(np.float32))


def exported(tmp_path, make, x, name="net"):
    net = make()
    net.initialize(init.Normal(0.2))
    net.hybridize(mode="trace")
    want = net(x)
    return net, want, net.export(str(tmp_path / name))


def assert_same(got, want):
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-6, atol=1e-7)


def program_sources(block):
    return [entry.program.source for entry in block._programs.values()]


# ----------------------------------------------------------------- the MLP
def test_mlp_export_has_mxnet_structure(tmp_path):
    x = random_input(1, 512)
    _, _, (symbol_file, params_file) = exported(tmp_path, mlp, x, "mlp")
    assert symbol_file == str(tmp_path / "mlp-symbol.json")
    assert params_file == str(tmp_path / "mlp-0000.params")
    with open(symbol_file) as stream:
        graph = json.load(stream)
    assert set(graph) == {"nodes", "arg_nodes", "node_row_ptr", "heads", "attrs"}
    ops = [node["op"] for node in graph["nodes"]]
    assert set(ops) == {"null", "FullyConnected", "Activation"}
    assert ops.count("FullyConnected") == 3 and ops.count("Activation") == 2
    assert graph["arg_nodes"] == [i for i, op in enumerate(ops) if op == "null"]
    assert graph["node_row_ptr"] == list(range(len(ops) + 1))
    assert graph["heads"] == [[len(ops) - 1, 0, 0]]
    params_sha256 = hashlib.sha256(open(params_file, "rb").read()).hexdigest()
    assert graph["attrs"]["mxnet_version"] == ["int", 10901]
    assert graph["attrs"]["ast_hybrid_params_sha256"] == ["str", params_sha256]
    assert set(graph["attrs"]) == {"mxnet_version", "ast_hybrid_params_sha256",
                                   "ast_hybrid_params_signature"}
    names = [node["name"] for node in graph["nodes"] if node["op"] == "null"]
    assert names == ["data", "dense0_weight", "dense0_bias", "dense1_weight", "dense1_bias",
                     "dense2_weight", "dense2_bias"]
    fc = graph["nodes"][3]
    assert fc == {"op": "FullyConnected", "name": "dense0_fwd",
                  "attrs": {"flatten": "True", "no_bias": "False", "num_hidden": "256"},
                  "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]}
    with np.load(params_file, allow_pickle=False) as params:
        assert sorted(params.files) == sorted("arg:" + n for n in names[1:])
        assert params["arg:dense0_weight"].shape == (256, 512)


def test_mlp_json_is_laid_out_like_mxnet(tmp_path):
    _, _, (symbol_file, params_file) = exported(tmp_path, mlp, random_input(1, 512), "mlp")
    with open(symbol_file) as stream:
        text = stream.read()
    head = text.splitlines()[:20]
    assert head[:3] == ["{", '  "nodes": [', "    {"]
    assert sum('"op":' in line for line in head) >= 3
    assert '      "op": "FullyConnected",' in text.splitlines()[:22]
    assert '      "attrs": {"__dtype__": "float32", "__shape__": "(256, 512)"},' in head
    assert '      "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]' in text.splitlines()
    assert '  "arg_nodes": [0, 1, 2, 5, 6, 9, 10],' in text
    assert '  "node_row_ptr": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],' in text
    assert '  "heads": [[11, 0, 0]],' in text
    assert '      "attrs": {"act_type": "relu"},' in text.splitlines()
    params_sha256 = hashlib.sha256(open(params_file, "rb").read()).hexdigest()
    assert re.search('\n  "attrs": {\n    "mxnet_version": \\["int", 10901\\],\n'
                     f'    "ast_hybrid_params_sha256": \\["str", "{params_sha256}"\\],\n'
                     '    "ast_hybrid_params_signature": \\["str", "[0-9a-f]{64}"\\]\n  }\n}$',
                     text)
    assert graph_to_text(*read_graph_file(symbol_file)) == text


@pytest.mark.parametrize("mode", [None, "ast", "trace"], ids=["imperative", "ast", "trace"])
def test_mlp_imports_and_runs_identically(tmp_path, mode):
    x = random_input(4, 512)
    _, want, (symbol_file, params_file) = exported(tmp_path, mlp, x, "mlp")
    block = SymbolBlock.imports(symbol_file, ["data"], params_file)
    if mode is not None:
        block.hybridize(mode=mode)
    assert_same(block(x), want)
    assert_same(block(random_input(7, 512, seed=1)).shape and block(x), want)
    if mode is not None:
        assert len(block._programs) == 1     # a new batch size reuses the program


def test_export_before_a_call_is_an_error(tmp_path):
    net = mlp()
    net.initialize()
    net.hybridize(mode="trace")
    with pytest.raises(MXNetError, match="run the network once"):
        net.export(str(tmp_path / "mlp"))


def test_export_epoch_in_file_name(tmp_path):
    net = mlp()
    net.initialize()
    net.hybridize(mode="trace")
    net(random_input(1, 512))
    assert net.export(str(tmp_path / "mlp"), epoch=12)[1] == str(tmp_path / "mlp-0012.params")


# ----------------------------------------------------------------- a CNN with BatchNorm
def test_cnn_with_batch_norm_saves_aux_params(tmp_path):
    x = random_input(2, 3, 8, 8)
    net, want, (symbol_file, params_file) = exported(tmp_path, cnn, x, "cnn")
    with np.load(params_file, allow_pickle=False) as params:
        assert {"aux:batchnorm0_running_mean", "aux:batchnorm0_running_var",
                "arg:batchnorm0_gamma", "arg:batchnorm0_beta"} <= set(params.files)
    graph = sym.load(symbol_file)
    assert graph.list_auxiliary_states() == ["batchnorm0_running_mean",
                                             "batchnorm0_running_var"]
    assert "batchnorm0_running_mean" not in graph.list_arguments()
    with open(symbol_file) as stream:
        nodes = json.load(stream)["nodes"]
    assert {"Convolution", "BatchNorm", "Pooling", "Activation"} <= {n["op"] for n in nodes}
    # optional attributes left unset are not written (MXNet writes only those given)
    assert not [(n["name"], key) for n in nodes for key, value in n.get("attrs", {}).items()
                if value == "None"]
    assert graph_to_text(*read_graph_file(symbol_file)) == open(symbol_file).read()
    for mode in (None, "trace"):
        block = SymbolBlock.imports(symbol_file, ["data"], params_file)
        if mode:
            block.hybridize(mode=mode)
        assert_same(block(x), want)


def test_imported_batch_norm_updates_its_running_stats_while_training(tmp_path):
    x = random_input(2, 3, 8, 8)
    net, _, (symbol_file, params_file) = exported(tmp_path, cnn, x, "cnn")
    block = SymbolBlock.imports(symbol_file, ["data"], params_file)
    block.hybridize(mode="trace")
    with autograd.record():
        block(x)
    with autograd.record():
        net(x)
    assert_same(block.params["batchnorm0_running_mean"].data(), net[1].running_mean.data())
    assert not np.allclose(net[1].running_mean.data().asnumpy(), 0)


def test_json_written_by_mxnet_loads_and_runs(tmp_path):
    """A graph exported by MXNet 1.9.1 itself (Conv2D, BatchNorm, MaxPool2D, Dense)."""
    rng = np.random.default_rng(0)
    values = {"conv0_weight": rng.normal(size=(4, 3, 3, 3)), "conv0_bias": rng.normal(size=4),
              "batchnorm0_gamma": rng.uniform(0.5, 2, 4), "batchnorm0_beta": rng.normal(size=4),
              "batchnorm0_running_mean": rng.normal(size=4),
              "batchnorm0_running_var": rng.uniform(0.5, 2, 4),
              "dense0_weight": rng.normal(size=(2, 64)), "dense0_bias": rng.normal(size=2)}
    arrays = {("aux:" if "running" in k else "arg:") + k: v.astype(np.float32)
              for k, v in values.items()}
    params_file = str(tmp_path / "mx-0000.params")
    np.savez(open(params_file, "wb"), **arrays)
    block = SymbolBlock.imports(os.path.join(DATA, "mxnet191_cnn-symbol.json"), ["data"],
                                params_file)
    reference = nn.HybridSequential()
    reference.add(nn.Conv2D(4, 3, padding=1), nn.BatchNorm(), nn.MaxPool2D(), nn.Dense(2))
    x = random_input(2, 3, 8, 8)
    reference.initialize()
    reference(x)
    for (key, param), value in zip(reference.collect_params().items(), values.values()):
        param.set_data(value)
    assert_same(block(x), reference(x))
    block.hybridize()
    assert_same(block(x), reference(x))


# ----------------------------------------------------------------- malformed and hostile graphs
def mlp_graph(tmp_path):
    _, _, (symbol_file, params_file) = exported(tmp_path, mlp, random_input(1, 512), "mlp")
    with open(symbol_file) as stream:
        return json.load(stream), symbol_file, params_file


def without_recorded_params(graph):
    """The graph as MXNet would write it: no record of the params file exported with it."""
    graph["attrs"] = {"mxnet_version": graph["attrs"]["mxnet_version"]}
    return graph


def write_graph(tmp_path, graph, name="bad-symbol.json"):
    path = tmp_path / name
    path.write_text(graph if isinstance(graph, str) else json.dumps(graph))
    return str(path)


def test_truncated_json(tmp_path):
    graph, symbol_file, _ = mlp_graph(tmp_path)
    text = open(symbol_file).read()
    with pytest.raises(GraphFormatError, match="not valid JSON"):
        sym.load(write_graph(tmp_path, text[: len(text) // 2]))
    with pytest.raises(GraphFormatError):
        SymbolBlock.imports(write_graph(tmp_path, ""), ["data"])


def test_unknown_operator(tmp_path):
    graph, _, _ = mlp_graph(tmp_path)
    graph["nodes"][3]["op"] = "os.system"
    with pytest.raises(GraphFormatError, match=r"node 3 .*unknown operator 'os.system'"):
        sym.load(write_graph(tmp_path, graph))


def test_wrong_arity(tmp_path):
    graph, _, _ = mlp_graph(tmp_path)
    graph["nodes"][3]["inputs"] = graph["nodes"][3]["inputs"][:1]
    with pytest.raises(GraphFormatError, match="takes 3 inputs .*gives 1"):
        sym.load(write_graph(tmp_path, graph))


@pytest.mark.parametrize("entry, message", [
    ([9, 0, 0], "not defined before it"),
    ([3, 0, 0], "not defined before it"),          # itself
    ([-1, 0, 0], "not defined before it"),
    ([0, 5, 0], "output 5"),
    ([True, 0, 0], "integers"),
    (["0", 0, 0], "integers"),
    ([0], "integers"),
], ids=["later", "itself", "negative", "output", "bool", "string", "short"])
def test_bad_input_entries(tmp_path, entry, message):
    graph, _, _ = mlp_graph(tmp_path)
    graph["nodes"][3]["inputs"][0] = entry
    with pytest.raises(GraphFormatError, match=message):
        sym.load(write_graph(tmp_path, graph))


@pytest.mark.parametrize("change, message", [
    (lambda g: g.update(nodes={}), "'nodes' list"),
    (lambda g: g.update(heads=[]), "'heads'"),
    (lambda g: g["nodes"].__setitem__(0, "data"), "must be an object"),
    (lambda g: g["nodes"][3].pop("op"), "string 'op' and 'name'"),
    (lambda g: g["nodes"][3]["attrs"].update(num_hidden="__import__('os')"), "num_hidden"),
    (lambda g: g["nodes"][3]["attrs"].update(num_hidden=256), "strings to strings"),
    (lambda g: g["nodes"][3]["attrs"].update(evil="1"), "unknown attribute 'evil'"),
    (lambda g: g["nodes"][4]["attrs"].update(act_type="system"), "act_type"),
    (lambda g: g["nodes"][0].update(inputs=[[1, 0, 0]]), "variable cannot have inputs"),
], ids=["nodes", "heads", "node", "op", "attr-code", "attr-type", "attr-unknown",
        "attr-choice", "variable-inputs"])
def test_malformed_graphs(tmp_path, change, message):
    graph, _, _ = mlp_graph(tmp_path)
    change(graph)
    with pytest.raises(GraphFormatError, match=message):
        sym.load(write_graph(tmp_path, graph))


HOSTILE = "x); import os; os.system('echo pwned') #"


def test_names_that_look_like_code_stay_data(tmp_path, capfd):
    graph, _, params_file = mlp_graph(tmp_path)
    graph["nodes"][3]["name"] = HOSTILE                   # an operator node
    graph["nodes"][1]["name"] = HOSTILE + " weight"       # a parameter
    graph["nodes"][4]["name"] = "\n\"\"\"\nimport os\n"  # another operator node
    with np.load(params_file, allow_pickle=False) as params:
        arrays = {key: params[key] for key in params.files}
    arrays["arg:" + HOSTILE + " weight"] = arrays.pop("arg:dense0_weight")
    hostile_params = str(tmp_path / "hostile.params")
    np.savez(open(hostile_params, "wb"), **arrays)
    block = SymbolBlock.imports(write_graph(tmp_path, without_recorded_params(graph)), ["data"],
                                hostile_params)
    assert HOSTILE + " weight" in block.params
    x = random_input(2, 512)
    want = block(x)
    block.hybridize()
    assert_same(block(x), want)
    block.hybridize(mode="trace")
    assert_same(block(x), want)
    (source,) = program_sources(block)
    assert "import os" not in source and "os.system" not in source
    # valid Python: one function of assignments from kernel calls; names are identifiers
    tree = ast.parse(source)
    assert [type(node) for node in tree.body] == [ast.FunctionDef]
    statements = tree.body[0].body
    assert all(isinstance(s, ast.Assign) and isinstance(s.value, ast.Call)
               for s in statements[:-1]) and isinstance(statements[-1], ast.Return)
    assert not any(isinstance(node, (ast.Import, ast.ImportFrom, ast.Attribute, ast.Lambda))
                   for node in ast.walk(tree))
    assert sorted({node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call)}) \
        == ["Activation", "FullyConnected"]
    assert "pwned" not in capfd.readouterr().out


def test_string_attributes_stay_literals(tmp_path, capfd):
    graph = {"nodes": [{"op": "_zeros", "name": "z",
                        "attrs": {"shape": "(2, 3)", "ctx": HOSTILE + "\n\"\"\"'''"},
                        "inputs": []}],
             "arg_nodes": [], "node_row_ptr": [0, 1], "heads": [[0, 0, 0]]}
    block = SymbolBlock(sym.load(write_graph(tmp_path, graph)), [])
    block.hybridize()
    with pytest.raises(TypeError):
        block(nd.ones((1,)))                               # it takes no inputs
    graph["nodes"].insert(0, {"op": "null", "name": "data", "inputs": []})
    graph["nodes"][1]["name"] = "z"
    graph["nodes"].append({"op": "broadcast_add", "name": "out",
                           "inputs": [[0, 0, 0], [1, 0, 0]]})
    graph["heads"] = [[2, 0, 0]]
    block = SymbolBlock.imports(write_graph(tmp_path, graph), ["data"])
    block.hybridize()
    assert_same(block(nd.ones((2, 3))), nd.ones((2, 3)))
    (source,) = program_sources(block)
    tree = ast.parse(source)
    assert not any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(tree))
    calls = [node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call)]
    assert sorted(calls) == ["broadcast_add", "zeros"]
    assert "pwned" not in capfd.readouterr().out


def test_imports_checks_input_names(tmp_path):
    _, symbol_file, params_file = mlp_graph(tmp_path)
    with pytest.raises(ValueError, match="no input named images"):
        SymbolBlock.imports(symbol_file, ["images"], params_file)


# ----------------------------------------------------------------- hostile params files
class _Payload:
    """Unpickling this would create a file: a params file must never be unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickle_files(tmp_path):
    marker = str(tmp_path / "was-unpickled")
    raw = tmp_path / "raw.params"
    raw.write_bytes(pickle.dumps({"arg:0.weight": _Payload(marker)}))
    npy = str(tmp_path / "object.params")
    with open(npy, "wb") as stream:
        np.save(stream, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    npz = str(tmp_path / "object-npz.params")
    with open(npz, "wb") as stream:
        np.savez(stream, **{"arg:0.weight": np.array([_Payload(marker)], dtype=object)})
    return marker, [str(raw), npy, npz]


def test_pickled_params_files_are_refused_and_never_run(tmp_path):
    _, symbol_file, _ = mlp_graph(tmp_path)
    marker, files = _pickle_files(tmp_path)
    for path in files:
        with pytest.raises(LoadError, match="hostile|not|pickle|object"):
            SymbolBlock.imports(symbol_file, ["data"], path)
        net = mlp()
        with pytest.raises(LoadError):
            net.load_parameters(path)
        with pytest.raises(LoadError):
            nd.load(path)
    assert not os.path.exists(marker)


def test_truncated_params_file(tmp_path):
    _, symbol_file, params_file = mlp_graph(tmp_path)
    data = open(params_file, "rb").read()
    for size in (0, 10, len(data) // 2, len(data) - 30):
        truncated = tmp_path / f"truncated{size}.params"
        truncated.write_bytes(data[:size])
        with pytest.raises(LoadError, match="truncated|not a valid"):
            SymbolBlock.imports(symbol_file, ["data"], str(truncated))


def test_params_that_do_not_fit_the_graph(tmp_path):
    graph, symbol_file, params_file = mlp_graph(tmp_path)
    with np.load(params_file) as params:
        arrays = {key: params[key] for key in params.files}
    arrays["arg:dense0_weight"] = arrays["arg:dense0_weight"][:, :10]
    bad = str(tmp_path / "bad.params")
    np.savez(open(bad, "wb"), **arrays)
    with pytest.raises(LoadError, match=f"mismatched pair: {re.escape(bad)} is not the params "
                                        f"file {re.escape(symbol_file)} was exported with"):
        SymbolBlock.imports(symbol_file, ["data"], bad)
    # a graph that records nothing about its params (MXNet's) declares the weights' shapes
    mxnet_graph = write_graph(tmp_path, without_recorded_params(graph))
    with pytest.raises(ValueError, match=re.escape(f"{bad}: parameter 'dense0_weight' has shape "
                                                   "(256, 10), the network expects (256, 512)")):
        SymbolBlock.imports(mxnet_graph, ["data"], bad)
    # and without declared shapes, the first call finds the mismatch
    for node in graph["nodes"]:
        node.get("attrs", {}).pop("__shape__", None)
    block = SymbolBlock.imports(write_graph(tmp_path, graph, "undeclared.json"), ["data"], bad)
    with pytest.raises(ValueError, match="FullyConnected"):
        block(random_input(1, 512))


# ----------------------------------------------------------------- atomic writes
def _snapshot(folder):
    return {name: open(os.path.join(folder, name), "rb").read() for name in os.listdir(folder)}


def test_a_failed_export_leaves_existing_files_intact(tmp_path, monkeypatch):
    net = mlp()
    net.initialize()
    net.hybridize(mode="trace")
    net(random_input(1, 512))
    net.export(str(tmp_path / "mlp"))
    before = _snapshot(tmp_path)
    net[0].weight.set_data(np.ones((256, 512)))

    def failing_savez(stream, **arrays):
        stream.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        net.export(str(tmp_path / "mlp"))
    with pytest.raises(OSError, match="disk full"):
        net.save_parameters(str(tmp_path / "mlp-0000.params"))
    monkeypatch.undo()
    after = _snapshot(tmp_path)
    assert after["mlp-0000.params"] == before["mlp-0000.params"]
    assert sorted(after) == sorted(before)                 # no temporary file left behind


def test_a_failed_json_write_leaves_the_old_graph(tmp_path, monkeypatch):
    net = mlp()
    net.initialize()
    net.hybridize(mode="trace")
    net(random_input(1, 512))
    net.export(str(tmp_path / "mlp"))
    before = _snapshot(tmp_path)
    net.add(nn.Dense(5))
    net[3].initialize()
    net(random_input(1, 512))

    def failing_replace(source, target):
        raise OSError("rename failed")

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        net.export(str(tmp_path / "mlp"))
    monkeypatch.undo()
    assert _snapshot(tmp_path) == before


# ----------------------------------------------------------------- shared parameters
class SharedTwice(nn.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = nn.Dense(3, in_units=3)
        self.second = nn.Dense(3, in_units=3, params=self.first.params)

    def hybrid_forward(self, F, x):
        return self.second(F.tanh(self.first(x)))


def test_a_shared_parameter_is_one_variable_of_the_graph(tmp_path):
    x = random_input(2, 3)
    net, want, (symbol_file, params_file) = exported(tmp_path, SharedTwice, x, "shared")
    assert list(net.collect_params()) == ["dense0_weight", "dense0_bias"]
    graph = sym.load(symbol_file)
    assert graph.list_arguments() == ["data", "dense0_weight", "dense0_bias"]
    block = SymbolBlock.imports(symbol_file, ["data"], params_file)
    assert_same(block(x), want)
    block.hybridize()
    assert_same(block(x), want)
    w, b = net.first.weight.data().asnumpy(), net.first.bias.data().asnumpy()
    h = np.tanh(x.asnumpy() @ w.T + b)
    np.testing.assert_allclose(want.asnumpy(), h @ w.T + b, rtol=1e-5)


def test_dropout_without_rate_is_a_copy_not_the_input():
    x = nd.ones((2, 3))
    for mode in (None, "trace"):
        net = nn.Dropout(0)
        if mode:
            net.hybridize(mode=mode)
            net(x)
        out = net(x)
        out[:] = 5
        assert x.asnumpy().max() == 1
