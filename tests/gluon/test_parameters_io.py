"""Parameter names, save_parameters/load_parameters, and loading an exported params file."""
import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import init, nd
from ast_hybrid.gluon import HybridBlock, nn

from gluontest import array, assert_same


class TwoTowers(HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.left = nn.HybridSequential()
        self.left.add(nn.Dense(4, activation="relu"), nn.BatchNorm())
        self.right = nn.Dense(4)
        self.mix = self.params.get("mix", shape=(1,), init=init.Constant(0.5))

    def hybrid_forward(self, F, x, mix):
        return F.broadcast_mul(self.left(x), mix) + self.right(x)


def cnn():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(3, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
            nn.MaxPool2D(), nn.Flatten(), nn.Dense(5))
    return net


def test_full_names_count_per_process_and_saved_names_are_structural(tmp_path):
    first, second = TwoTowers(), TwoTowers()
    assert list(first.collect_params()) == [
        "twotowers0_mix", "dense0_weight", "dense0_bias", "batchnorm0_gamma", "batchnorm0_beta",
        "batchnorm0_running_mean", "batchnorm0_running_var", "dense1_weight", "dense1_bias"]
    assert list(second.collect_params())[:2] == ["twotowers1_mix", "dense2_weight"]
    with ast_hybrid.name.NameManager():         # fresh counters: the names of a new process
        assert list(TwoTowers().collect_params()) == list(first.collect_params())
    saved = []
    for net in (first, second):
        _trained(net, array(3, 6))
        net.save_parameters(str(tmp_path / "net.params"))
        saved.append(list(np.load(str(tmp_path / "net.params"), allow_pickle=False).files))
    assert saved[0] == saved[1] == [
        "mix", "left.0.weight", "left.0.bias", "left.1.gamma", "left.1.beta",
        "left.1.running_mean", "left.1.running_var", "right.weight", "right.bias"]
    assert list(first.collect_params("running").keys()) == []   # re.match: from the start
    assert list(first.collect_params(".*running.*")) == ["batchnorm0_running_mean",
                                                          "batchnorm0_running_var"]


def _trained(net, x):
    net.initialize(init.Normal(0.5))
    net(x)
    for param in net.collect_params().values():       # every value distinct from init
        param.set_data(np.random.default_rng(len(param.shape)).normal(
            size=param.shape).astype(np.float32) ** 2 + 0.1)
    return net


@pytest.mark.parametrize("make, shape", [(TwoTowers, (3, 6)), (cnn, (2, 2, 6, 6))],
                         ids=["custom", "cnn"])
def test_save_and_load_parameters_round_trip(tmp_path, make, shape):
    x = array(*shape)
    net = _trained(make(), x)
    want = net(x)
    path = str(tmp_path / "net.params")
    net.save_parameters(path)
    fresh = make()                             # deferred shapes: taken from the file
    fresh.load_parameters(path)
    assert_same(fresh(x), want)
    for param, saved in zip(fresh.collect_params().values(), net.collect_params().values()):
        assert_same(param.data(), saved.data())
    initialized = make()
    initialized.initialize()                   # deferred initialization pending: file wins
    initialized.load_parameters(path)
    assert_same(initialized(x), want)
    initialized.hybridize(mode="trace")
    assert_same(initialized(x), want)


def test_load_parameters_errors_name_the_problem(tmp_path):
    net = _trained(TwoTowers(), array(3, 6))
    path = str(tmp_path / "net.params")
    net.save_parameters(path)
    other = nn.Dense(4)
    with pytest.raises(KeyError, match="no values for parameters weight, bias"):
        other.load_parameters(path)
    with pytest.raises(KeyError, match="not in this network"):
        other.load_parameters(path, allow_missing=True)
    other.load_parameters(path, allow_missing=True, ignore_extra=True)
    bigger = TwoTowers()
    bigger.extra = bigger.params.get("extra", shape=(2,))
    with pytest.raises(KeyError, match="extra"):
        bigger.load_parameters(path)
    wrong = TwoTowers()
    wrong.initialize()
    wrong(array(3, 7))                          # in_units 7, the file has 6
    with pytest.raises(ValueError, match="shape"):
        wrong.load_parameters(path)


def test_load_parameters_after_hybridize_updates_the_program(tmp_path):
    x = array(3, 6)
    source = _trained(TwoTowers(), x)
    path = str(tmp_path / "net.params")
    source.save_parameters(path)
    net = TwoTowers()
    net.initialize()
    net.hybridize(mode="trace")
    before = net(x)
    net.load_parameters(path)
    after = net(x)
    assert not np.allclose(before.asnumpy(), after.asnumpy())
    assert_same(after, source(x))


def test_load_parameters_reads_an_exported_params_file(tmp_path):
    x = array(2, 2, 6, 6)
    with ast_hybrid.name.NameManager():
        net = _trained(cnn(), x)
    net.hybridize(mode="trace")
    want = net(x)
    symbol_file, params_file = net.export(str(tmp_path / "cnn"))
    keys = set(np.load(params_file, allow_pickle=False).files)
    assert "aux:batchnorm0_running_mean" in keys and "arg:conv0_weight" in keys
    with ast_hybrid.name.NameManager():         # built again with the same names
        fresh = cnn()
    fresh.load_parameters(params_file)
    assert_same(fresh(x), want)
    cnn()                                       # named conv0_weight, ... here
    with pytest.raises(ValueError, match="does not start with: they are not this network's"):
        cnn().load_parameters(params_file)      # named conv1_weight, ...


def test_nd_save_load_round_trip(tmp_path):
    path = str(tmp_path / "arrays")
    data = {"a": nd.array([1.0, 2.0]), "b": nd.ones((2, 3))}
    nd.save(path, data)
    loaded = nd.load(path)
    assert sorted(loaded) == ["a", "b"]
    assert_same(loaded["b"], data["b"])
    nd.save(path, [data["a"], data["b"]])
    loaded = nd.load(path)
    assert isinstance(loaded, list) and len(loaded) == 2


def test_cast_keeps_the_gradient_buffer():
    from ast_hybrid import autograd
    layer = nn.Dense(2, in_units=3)
    layer.initialize()
    layer.cast("float64")
    x = nd.array(np.ones((1, 3)), dtype="float64")
    with autograd.record():
        y = layer(x).sum()
    y.backward()
    assert layer.weight.grad().dtype == np.float64
    np.testing.assert_array_equal(layer.weight.grad().asnumpy(), np.ones((2, 3)))
