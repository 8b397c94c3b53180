"""MXNet 1.x's names: block prefixes, name_scope(), collect_params() keys and select,
ParameterDict reprs, sharing by name, structural names in save_parameters, full names in
export, mx.name; each scenario of tools/mxnet_naming_reference.py gives what MXNet 1.9.1
recorded (tests/data/mxnet_naming_reference.json). Then what MXNet does not record: errors,
threads, training by full names, and files written before these names."""
import importlib.util
import json
import os
import threading
import time

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, gluon, nd
from ast_hybrid.gluon import nn, rnn

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")


def _reference_module():
    path = os.path.join(HERE, "..", "..", "tools", "mxnet_naming_reference.py")
    spec = importlib.util.spec_from_file_location("mxnet_naming_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFERENCE = _reference_module()
with open(os.path.join(DATA, "mxnet_naming_reference.json")) as _stream:
    RECORDED = json.load(_stream)["scenarios"]

# the rnn layers' save_parameters names in MXNet 1.9.1 (`_unfused.0.l_cell.i2h_weight`,
# kept there for files of older MXNet versions) are not produced by gluon.rnn here
@pytest.mark.parametrize("scenario", REFERENCE.SCENARIOS, ids=lambda s: s.__name__)
def test_names_are_mxnets(scenario):
    got = REFERENCE.run(ast_hybrid, scenario)
    assert got == dict(RECORDED[scenario.__name__])


def test_rnn_layer_files_use_mxnets_structural_names(tmp_path):
    got = REFERENCE.run(ast_hybrid, REFERENCE.rnn_names)
    assert got["lstm_saved"] == RECORDED["rnn_names"]["lstm_saved"]
    # a file an earlier version wrote (the layer's own names below its path) still loads
    net = nn.HybridSequential()
    net.add(rnn.LSTM(3, input_size=2, bidirectional=True))
    net.initialize()
    earlier = {f"0.{key}": param.data() for key, param in net[0]._own_params()}
    nd.save(str(tmp_path / "earlier.params"), earlier)
    again = nn.HybridSequential()
    again.add(rnn.LSTM(3, input_size=2, bidirectional=True))
    again.load_parameters(str(tmp_path / "earlier.params"))
    for key, value in earlier.items():
        name = key.split(".", 1)[1]
        np.testing.assert_array_equal(getattr(again[0], name).data().asnumpy(), value.asnumpy())


def test_every_scenario_is_recorded():
    assert sorted(s.__name__ for s in REFERENCE.SCENARIOS) == sorted(RECORDED)


# ----------------------------------------------------------------- what MXNet asserts
def test_params_get_fills_unknown_dimensions_and_refuses_other_differences():
    dense = nn.Dense(3)
    assert dense.params.get("weight", shape=(3, 5)) is dense.weight
    assert dense.weight.shape == (3, 5)
    with pytest.raises(ValueError, match=r"cannot retrieve parameter 'dense0_weight': it has "
                                         r"shape \(3, 5\), not the \(4, 5\) asked for"):
        dense.params.get("weight", shape=(4, 5))
    with pytest.raises(ValueError, match="'dense0_bias': it has init 'zeros'"):
        dense.params.get("bias", init="ones")
    with pytest.raises(KeyError, match="no constant named 'dense0_c'"):
        dense.params.get_constant("c")


def test_two_parameters_of_one_name_cannot_be_collected():
    net = nn.HybridSequential()
    net.add(nn.Dense(2, prefix="same_"), nn.Dense(2, prefix="same_"))
    with pytest.raises(ValueError, match="two different parameters are both named "
                                         "'same_weight'"):
        net.collect_params()


def test_a_shared_network_is_one_set_of_parameters_and_one_graph_variable_each():
    first = nn.HybridSequential(prefix="model_")
    with first.name_scope():
        first.add(nn.Dense(4, in_units=3), nn.Dense(2, in_units=4))
    second = nn.HybridSequential(params=first.collect_params())
    with second.name_scope():
        second.add(nn.Dense(4, in_units=3), nn.Dense(2, in_units=4))
    assert second.prefix == "hybridsequential0_" and second[0].prefix == \
        "hybridsequential0_dense0_"
    assert list(second.collect_params()) == list(first.collect_params())
    first.initialize()
    x = nd.ones((2, 3))
    second.hybridize()
    np.testing.assert_array_equal(second(x).asnumpy(), first(x).asnumpy())


# ----------------------------------------------------------------- counters
def test_each_thread_counts_its_own_names():
    assert nn.Dense(1).prefix == "dense0_"
    prefixes = []
    thread = threading.Thread(target=lambda: prefixes.append(nn.Dense(1).prefix))
    thread.start()
    thread.join()
    assert prefixes == ["dense0_"] and nn.Dense(1).prefix == "dense1_"


def test_threads_in_one_blocks_name_scope_at_once_keep_their_own_names():
    entered, first_left = [], threading.Event()

    class Waits(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.dense = nn.Dense(2)

        def hybrid_forward(self, F, x):
            entered.append(threading.get_ident())
            while len(entered) < 2:        # both threads inside the block's name_scope()
                time.sleep(0.001)
            if entered[1] == threading.get_ident():
                first_left.wait()           # the thread that entered first leaves first
            return self.dense(F.relu(x))

    net = Waits()
    names = []

    def trace():
        before = ast_hybrid.name.current()
        out = net(ast_hybrid.sym.var("data"))
        first_left.set()
        names.append((out.get_internals().list_outputs(), ast_hybrid.name.current() is before))

    threads = [threading.Thread(target=trace) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    want = ["data", "waits0_relu0_output", "waits0_dense0_weight", "waits0_dense0_bias",
            "waits0_dense0_fwd_output"]
    assert names == [(want, True)] * 2


def test_a_block_made_while_its_parent_traces_is_named_inside_it():
    class Grows(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            self.made = nn.Dense(1, prefix=None)
            return x

    net = Grows()
    net(ast_hybrid.sym.var("data"))
    assert net.made.prefix == "grows0_dense0_"
    assert nn.Dense(1).prefix == "dense0_"      # the scope ended with the call


# ----------------------------------------------------------------- programs and training
def test_programs_name_their_arguments_by_structural_path():
    net = nn.HybridSequential(prefix="model_")
    with net.name_scope():
        net.add(nn.Dense(3, in_units=2))
    net.initialize()
    net.hybridize()
    source = ast_hybrid.to_source(net, nd.ones((1, 2)))
    assert source.startswith("def HybridSequential(x, p0_weight, p0_bias):")


def test_training_resumes_from_saved_parameters_and_trainer_states(tmp_path):
    def train(steps, params=None, states=None):
        with ast_hybrid.name.NameManager():
            net = nn.Dense(2, in_units=3)
        net.initialize(ast_hybrid.init.Constant(0.5))
        if params is not None:
            net.load_parameters(params)
        trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.1})
        if states is not None:
            trainer.load_states(states)
        for _ in range(steps):
            with autograd.record():
                loss = (net(nd.array(np.arange(12.0).reshape(4, 3))) ** 2).sum()
            loss.backward()
            gluon.utils.clip_global_norm([p.grad() for p in net.collect_params().values()],
                                         1.0)
            trainer.step(4)
        return net, trainer

    whole, _ = train(4)
    assert list(whole.collect_params()) == ["dense0_weight", "dense0_bias"]
    half, trainer = train(2)
    params, states = str(tmp_path / "net.params"), str(tmp_path / "trainer.states")
    half.save_parameters(params)
    trainer.save_states(states)
    resumed, _ = train(2, params, states)
    np.testing.assert_allclose(resumed.weight.data().asnumpy(), whole.weight.data().asnumpy(),
                               rtol=1e-6)


# ----------------------------------------------------------------- files
def test_files_of_full_names_load_after_the_prefix_or_as_they_are(tmp_path):
    net = nn.HybridSequential(prefix="model_")
    with net.name_scope():
        net.add(nn.Dense(2, in_units=3))
    net.initialize()
    full, stripped = str(tmp_path / "full.params"), str(tmp_path / "stripped.params")
    net.collect_params().save(full)
    net.collect_params().save(stripped, strip_prefix="model_")
    assert sorted(np.load(stripped, allow_pickle=False).files) == ["dense0_bias",
                                                                   "dense0_weight"]
    with pytest.raises(ValueError, match="parameter 'model_dense0_weight' does not start "
                                         "with the prefix 'other_' to strip"):
        net.collect_params().save(stripped, strip_prefix="other_")
    older = str(tmp_path / "older.params")
    net.save_params(older)
    assert sorted(np.load(older, allow_pickle=False).files) == ["dense0_bias", "dense0_weight"]
    for path in (full, stripped, older):
        net[0].weight.set_data(np.zeros((2, 3)))
        net.load_parameters(path)
        assert net[0].weight.data().asnumpy().any()
    net.collect_params().load_dict({"arg:model_dense0_weight": nd.ones((2, 3))},
                                   allow_missing=True)
    np.testing.assert_array_equal(net[0].weight.data().asnumpy(), np.ones((2, 3)))


BEFORE = os.path.join(DATA, "before_mxnet_names")


def _built_as_before():
    """The network of tests/data/before_mxnet_names: written by ast_hybrid 0.1.0 (commit
    74eedec), whose names were structural everywhere ('0.weight', `arg:0.weight`)."""
    net = nn.HybridSequential()
    net.add(nn.Dense(4, activation="relu", in_units=3), nn.BatchNorm(in_channels=4),
            nn.Dense(2, in_units=4))
    return net


@pytest.mark.parametrize("params", ["mlp.params", "mlp-0000.params"],
                         ids=["save_parameters", "export"])
def test_files_written_before_mxnets_names_still_load(params):
    x = nd.array(np.load(os.path.join(BEFORE, "input.npy")))
    want = np.load(os.path.join(BEFORE, "output.npy"))
    net = _built_as_before()
    net.load_parameters(os.path.join(BEFORE, params))
    np.testing.assert_allclose(net(x).asnumpy(), want, rtol=1e-6)


def test_a_pair_exported_before_mxnets_names_still_imports():
    x = nd.array(np.load(os.path.join(BEFORE, "input.npy")))
    block = gluon.SymbolBlock.imports(os.path.join(BEFORE, "mlp-symbol.json"), ["data"],
                                      os.path.join(BEFORE, "mlp-0000.params"))
    assert list(block.collect_params())[:2] == ["0.weight", "0.bias"]
    np.testing.assert_allclose(block(x).asnumpy(), np.load(os.path.join(BEFORE, "output.npy")),
                               rtol=1e-6)


def test_a_symbol_block_saves_and_loads_its_own_parameters(tmp_path):
    net = _built_as_before()
    net.initialize()
    net.hybridize()
    x = nd.ones((2, 3))
    net(x)
    symbol_file, params_file = net.export(str(tmp_path / "net"))
    block = gluon.SymbolBlock.imports(symbol_file, ["data"], params_file)
    assert block.name == "symbolblock0" and block.prefix == ""
    path = str(tmp_path / "block.params")
    block.save_parameters(path)     # by the graph's names: MXNet 1.x strips a common prefix
    assert sorted(np.load(path, allow_pickle=False).files)[:2] == ["batchnorm0_beta",
                                                                   "batchnorm0_gamma"]
    again = gluon.SymbolBlock.imports(symbol_file, ["data"])
    again.load_parameters(path)
    np.testing.assert_allclose(again(x).asnumpy(), net(x).asnumpy(), rtol=1e-6)
