"""Learning-rate schedules, alone and in optimizers and Trainer, as MXNet 1.9.1 computes them
(recorded in tests/data/mxnet_lr_scheduler_reference.json by
tools/mxnet_lr_scheduler_reference.py), and a scheduled training run checked in numpy."""
import json
import os
import sys

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, gluon, lr_scheduler, nd, optimizer

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import mxnet_lr_scheduler_reference as recorder  # noqa: E402

with open(os.path.join(os.path.dirname(__file__), "data",
                       "mxnet_lr_scheduler_reference.json")) as _stream:
    REFERENCE = json.load(_stream)


def test_reference_is_mxnet_1_9_1():
    assert REFERENCE["mxnet"] == "1.9.1"


@pytest.mark.parametrize("index", range(len(recorder.SCHEDULES)))
def test_schedule_rates_match_mxnet(index):
    name, kwargs, calls = recorder.SCHEDULES[index]
    scheduler = getattr(lr_scheduler, name)(**kwargs)
    got = [scheduler(n) for n in calls]
    np.testing.assert_allclose(got, REFERENCE["schedules"]["rates"][index], rtol=1e-15)


def test_bad_schedules_raise_mxnets_errors():
    assert recorder.schedules(ast_hybrid)["errors"] == REFERENCE["schedules"]["errors"]


@pytest.mark.parametrize("case", sorted(REFERENCE["optimizer_hooks"]))
def test_optimizer_reads_scheduler_as_mxnet(case):
    got = recorder.optimizer_hooks(ast_hybrid)[case]
    assert got == REFERENCE["optimizer_hooks"][case]


def test_factor_schedule_is_the_closed_form_for_increasing_updates():
    # base * factor ** floor((n - 1) / step), MXNet's documented rule shifted by its strict
    # comparison, until the floor stop_factor_lr
    scheduler = lr_scheduler.FactorScheduler(step=3, factor=0.5, stop_factor_lr=0.01,
                                             base_lr=1.0)
    for n in range(1, 40):
        want = max(1.0 * 0.5 ** ((n - 1) // 3), 0.01)
        assert scheduler(n) == pytest.approx(want)


@pytest.mark.parametrize("mode", [None, "ast", "trace"])
@pytest.mark.parametrize("case", sorted(recorder.TRAININGS))
def test_trainer_follows_schedule_as_mxnet(case, mode):
    options = None if mode is None else {"mode": mode, "fallback": False}
    got = recorder.training(ast_hybrid, case, hybridize_options=options)
    want = REFERENCE["trainings"][case]
    assert got["printed"] == want["printed"]
    assert got["num_update"] == want["num_update"]
    np.testing.assert_allclose(got["rates"], want["rates"], rtol=1e-12)
    np.testing.assert_allclose(got["final_rate"], want["final_rate"], rtol=1e-12)
    np.testing.assert_allclose(got["weights"], want["weights"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["biases"], want["biases"], rtol=1e-5, atol=1e-6)


def test_stale_parameters_count_their_own_updates_as_mxnet():
    assert recorder.stale_counts(ast_hybrid) == REFERENCE["stale_counts"]


def test_scheduled_sgd_run_equals_numpy():
    rng = np.random.RandomState(3)
    x = rng.randn(5, 4).astype(np.float32)
    y = rng.randn(5, 2).astype(np.float32)
    weight = rng.randn(2, 4).astype(np.float32)
    bias = rng.randn(2).astype(np.float32)
    net = gluon.nn.Dense(2, in_units=4)
    net.initialize()
    net.weight.set_data(nd.array(weight))
    net.bias.set_data(nd.array(bias))
    net.hybridize()
    schedule = lr_scheduler.MultiFactorScheduler(step=[2, 5], factor=0.1, base_lr=0.2,
                                                 warmup_steps=2, warmup_begin_lr=0.05)
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": 0.5, "lr_scheduler": schedule})
    loss_fn = gluon.loss.L2Loss()
    for t in range(1, 9):
        with autograd.record():
            loss = loss_fn(net(nd.array(x)), nd.array(y))
        loss.backward()
        trainer.step(len(x))
        # the rate for update t: warm-up from 0.05 towards the schedule's own base rate
        # (0.2, fixed when it was made) for t < 2, then 0.5 (the trainer's) times 0.1 per
        # step in [2, 5] that t has passed
        rate = 0.05 + (0.2 - 0.05) * t / 2 if t < 2 else 0.5 * 0.1 ** sum(t > s for s in (2, 5))
        out_grad = (x @ weight.T + bias - y) / y.shape[1] / len(x)
        weight = weight - np.float32(rate) * (out_grad.T @ x)
        bias = bias - np.float32(rate) * out_grad.sum(axis=0)
        np.testing.assert_allclose(net.weight.data().asnumpy(), weight, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(net.bias.data().asnumpy(), bias, rtol=1e-5, atol=1e-6)
    assert trainer.optimizer.num_update == 8


def test_set_learning_rate_without_scheduler_changes_the_rate():
    trainer = gluon.Trainer([gluon.Parameter("w", shape=(1,))], "sgd", {"learning_rate": 0.3})
    trainer.set_learning_rate(0.7)
    assert trainer.learning_rate == 0.7


def test_set_learning_rate_with_scheduler_refuses():
    sgd = optimizer.SGD(lr_scheduler=lr_scheduler.CosineScheduler(max_update=4))
    with pytest.raises(UserWarning, match="LRScheduler of the optimizer has already"):
        sgd.set_learning_rate(0.1)
