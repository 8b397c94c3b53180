"""Optimized programs read parameters fresh on every call: after set_data, an in-place update
followed by mark_changed, or a Trainer step, they compute what unoptimized programs compute."""
import numpy as np

from ast_hybrid import nd
from ast_hybrid.gluon import nn


def _nets():
    def build():
        net = nn.HybridSequential()
        net.add(nn.Conv2D(3, 3, activation="relu", in_channels=2), nn.MaxPool2D(2),
                nn.Conv2D(4, 2, in_channels=3), nn.Dense(5))
        return net
    plain, optimized = build(), build()
    plain.initialize()
    optimized.initialize()
    x = nd.array(np.random.default_rng(0).standard_normal((2, 2, 9, 9)).astype(np.float32))
    plain(x)
    optimized(x)
    for p, q in zip(plain.collect_params().values(), optimized.collect_params().values()):
        q.set_data(p.data())
    plain.hybridize(optimize=False)
    optimized.hybridize()
    return plain, optimized, x


def _check(plain, optimized, x):
    np.testing.assert_allclose(optimized(x).asnumpy(), plain(x).asnumpy(), rtol=1e-5, atol=1e-5)


def test_no_stale_weight_after_set_data():
    plain, optimized, x = _nets()
    _check(plain, optimized, x)
    for p, q in zip(plain.collect_params().values(), optimized.collect_params().values()):
        value = p.data().asnumpy() * 2 + 1
        p.set_data(nd.array(value))
        q.set_data(nd.array(value))
    _check(plain, optimized, x)


def test_no_stale_weight_after_in_place_update_and_mark_changed():
    plain, optimized, x = _nets()
    _check(plain, optimized, x)
    for p, q in zip(plain.collect_params().values(), optimized.collect_params().values()):
        for param in (p, q):
            param.data()._data[...] *= -3     # in place: the same array object
            param.mark_changed()
    _check(plain, optimized, x)


def test_trainer_steps_are_seen():
    from ast_hybrid import autograd
    from ast_hybrid.gluon import Trainer
    plain, optimized, x = _nets()
    for net in (plain, optimized):
        trainer = Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
        with autograd.record():
            loss = (net(x) ** 2).sum()
        loss.backward()
        trainer.step(1)
    _check(plain, optimized, x)
