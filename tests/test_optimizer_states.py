"""Optimizer states files: one layout for the Trainer and the kvstore's updater, the layouts
written before it still read, bad files refused naming the file, old files kept on failure."""
import numpy as np
import pytest

import ast_hybrid as mx
from ast_hybrid import autograd, gluon, nd, optimizer_states
from ast_hybrid.kvstore.updater import Updater
from ast_hybrid.ndarray.io import LoadError


def _trained(optimizer="adam", steps=3):
    mx.random.seed(0)
    net = gluon.nn.Dense(3, in_units=4)
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), optimizer, {"learning_rate": 0.1},
                            kvstore=None)
    x = nd.array(np.random.default_rng(0).standard_normal((5, 4)).astype("float32"))
    for _ in range(steps):
        with autograd.record():
            loss = (net(x) ** 2).sum()
        loss.backward()
        trainer.step(5)
    return net, trainer, x


def _same_states(a, b):
    assert a.keys() == b.keys()
    for key in a:
        left = a[key] if isinstance(a[key], tuple) else (a[key],)
        right = b[key] if isinstance(b[key], tuple) else (b[key],)
        assert type(a[key]) is type(b[key])
        assert all(np.array_equal(u, v) for u, v in zip(left, right, strict=True))


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "nag"])
def test_a_trainer_round_trip_continues_training_as_without_saving(tmp_path, optimizer):
    net, trainer, x = _trained(optimizer)
    path = str(tmp_path / "trainer.states")
    trainer.save_states(path)
    other_net, other, _ = _trained(optimizer)
    other.load_states(path)
    _same_states(trainer._states, other._states)
    assert other._optimizer.num_update == trainer._optimizer.num_update
    assert other._optimizer._index_update_count == trainer._optimizer._index_update_count
    for model, step in ((net, trainer), (other_net, other)):
        with autograd.record():
            loss = (model(x) ** 2).sum()
        loss.backward()
        step.step(5)
    for p, q in zip(net.collect_params().values(), other_net.collect_params().values()):
        assert np.array_equal(p.data().asnumpy(), q.data().asnumpy())


def test_the_updater_and_the_trainer_read_each_others_files(tmp_path):
    _, trainer, _ = _trained("adam")
    path = str(tmp_path / "from_trainer.states")
    trainer.save_states(path)
    updater = Updater(mx.optimizer.create("adam"))
    updater.load(path)
    _same_states(updater.states, trainer._states)
    assert updater.optimizer.num_update == trainer._optimizer.num_update

    back = str(tmp_path / "from_updater.states")
    updater.states["embedding"] = None            # kvstores may key by name
    updater.save(back)
    again = Updater(mx.optimizer.create("adam"))
    again.load(back)
    _same_states(again.states, updater.states)


def test_the_trainer_layout_written_before_is_read(tmp_path):
    first, second = np.arange(3.0), np.ones((2, 2))
    path = tmp_path / "old_trainer.states"
    with open(path, "wb") as stream:
        np.savez(stream, **{"state:0:2:1": np.zeros(0), "part:0:0": first, "part:0:1": second,
                            "state:1:1:0": np.zeros(0), "part:1:0": second,
                            "state:2:0:0": np.zeros(0), "count:0": np.asarray(4),
                            "count:1": np.asarray(3), "num_update": np.asarray(4)})
    states, counts, num_update = optimizer_states.load(str(path))
    _same_states(states, {0: (first, second), 1: second, 2: None})
    assert (counts, num_update) == ({0: 4, 1: 3}, 4)


def test_the_updater_layout_written_before_is_read(tmp_path):
    weight = np.full(4, 0.5)
    path = tmp_path / "old_updater.states"
    with open(path, "wb") as stream:
        np.savez(stream, **{"num_update": np.asarray(7), "key:0": np.asarray("w"),
                            "kind:0": np.asarray(0), "part:0:0": weight,
                            "key:1": np.asarray(3), "kind:1": np.asarray(-1),
                            "countkey:0": np.asarray("w"), "count:0": np.asarray(7)})
    states, counts, num_update = optimizer_states.load(str(path))
    _same_states(states, {"w": weight, 3: None})
    assert (counts, num_update) == ({"w": 7}, 7)


def test_bad_files_are_refused_naming_the_file(tmp_path):
    garbage = tmp_path / "garbage.states"
    garbage.write_bytes(b"\x00not a zip file at all" * 10)
    with pytest.raises(LoadError, match="garbage.states: not an optimizer states file"):
        optimizer_states.load(str(garbage))
    foreign = tmp_path / "foreign.states"
    with open(foreign, "wb") as stream:
        np.savez(stream, weights=np.ones(3))
    with pytest.raises(LoadError, match="foreign.states: not an optimizer states file"):
        optimizer_states.load(str(foreign))
    damaged = tmp_path / "damaged.states"
    with open(damaged, "wb") as stream:
        np.savez(stream, num_update=np.asarray(1), **{"key:0": np.asarray(0),
                                                      "kind:0": np.asarray(2)})
    with pytest.raises(LoadError, match="damaged.states: a damaged optimizer states file"):
        optimizer_states.load(str(damaged))
    newer = tmp_path / "newer.states"
    with open(newer, "wb") as stream:
        np.savez(stream, format=np.asarray(optimizer_states.FORMAT),
                 version=np.asarray(optimizer_states.VERSION + 1), num_update=np.asarray(0))
    with pytest.raises(LoadError, match="newer.states: .* version 2"):
        optimizer_states.load(str(newer))


def test_a_failed_save_leaves_the_previous_file(tmp_path):
    _, trainer, _ = _trained("adam")
    path = tmp_path / "kept.states"
    trainer.save_states(str(path))
    before = path.read_bytes()
    with pytest.raises(TypeError, match="keys must be ints or strings"):
        optimizer_states.save(str(path), {(1, 2): np.ones(2)}, {}, 0)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.states"]
