"""Trainer.step's updates give, bit for bit, what the optimizers' formulas written here give,
and follow every change between steps (rates, multipliers, batch size, dtype, values, the
parameters themselves)."""
import math

import numpy as np
import pytest

from ast_hybrid import autograd, gluon, lr_scheduler, nd
from ast_hybrid.gluon import nn

STEPS = 4
BATCH = 3


def _reference_sgd(weight, grad, state, lr, wd, rescale, momentum, clip):
    """MXNet's sgd(_mom)_update, each temporary a new array."""
    if state is None and clip is None and not wd:
        weight -= grad * weight.dtype.type(lr * rescale)
        return
    step = grad * np.asarray(rescale, dtype=grad.dtype)
    if clip is not None:
        bound = np.asarray(clip, dtype=grad.dtype)
        np.clip(step, -bound, bound, out=step)
    if wd:
        step += wd * weight
    step *= lr
    if state is None:
        weight -= step
    else:
        state *= momentum
        state -= step
        weight += state


def _reference_adam(weight, grad, state, lr, wd, rescale, clip, t, beta1=0.9, beta2=0.999,
                    epsilon=1e-8):
    lr *= math.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
    g = grad * np.asarray(rescale, dtype=grad.dtype)
    if wd:
        g += wd * weight
    if clip is not None:
        np.clip(g, -clip, clip, out=g)
    mean, var = state
    mean *= beta1
    mean += (1.0 - beta1) * g
    var *= beta2
    var += (1.0 - beta2) * np.square(g)
    weight -= lr * mean / (np.sqrt(var) + epsilon)


def _net(dtype="float32"):
    net = nn.HybridSequential()
    net.add(nn.Dense(5, activation="relu", in_units=4), nn.Dense(3, in_units=5))
    net.initialize()
    if dtype != "float32":
        net.cast(dtype)
    return net


def _backward(net, seed):
    rng = np.random.default_rng(seed)
    dtype = next(iter(net.collect_params().values())).dtype
    x = nd.array(rng.standard_normal((BATCH, 4)), dtype=dtype)
    with autograd.record():
        loss = (net(x) ** 2).sum()
    loss.backward()


class _Reference:
    """The parameters' values as the formulas above update them."""

    def __init__(self, params, optimizer, options):
        self.params = params
        self.optimizer, self.options = optimizer, options
        self.weights = [p.data().asnumpy().copy() for p in params]
        self.states = [None] * len(params)
        self.count = 0

    def step(self, lr, batch=BATCH):
        self.count += 1
        wd, clip = self.options.get("wd", 0.0), self.options.get("clip_gradient")
        for i, param in enumerate(self.params):
            grad = param.grad().asnumpy()
            weight = self.weights[i]
            lr_p, wd_p = lr * param.lr_mult, wd * param.wd_mult
            rescale = self.options.get("rescale_grad", 1.0) / batch
            if self.optimizer == "sgd":
                momentum = self.options.get("momentum", 0.0)
                if self.states[i] is None and momentum:
                    self.states[i] = np.zeros_like(weight)
                _reference_sgd(weight, grad, self.states[i], lr_p, wd_p, rescale, momentum,
                               clip)
            else:
                if self.states[i] is None:
                    self.states[i] = (np.zeros_like(weight), np.zeros_like(weight))
                _reference_adam(weight, grad, self.states[i], lr_p, wd_p, rescale, clip,
                                self.count)

    def check(self):
        for param, want in zip(self.params, self.weights):
            got = param.data().asnumpy()
            assert got.dtype == want.dtype
            bits = np.dtype(f"u{got.itemsize}")     # NaNs and signed zeros compared too
            assert np.array_equal(got.view(bits), want.view(bits)), param.name


OPTIONS = {
    "sgd": {},
    "sgd-wd": {"wd": 0.01},
    "sgd-clip": {"clip_gradient": 0.05},
    "sgd-momentum": {"momentum": 0.9},
    "sgd-momentum-wd-clip": {"momentum": 0.9, "wd": 0.01, "clip_gradient": 0.05,
                             "rescale_grad": 0.5},
    "adam": {},
    "adam-wd-clip": {"wd": 0.01, "clip_gradient": 0.05},
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("name", sorted(OPTIONS))
@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")   # Adam in float16
def test_steps_equal_the_formulas_bit_for_bit(name, dtype):
    optimizer = name.split("-")[0]
    options = OPTIONS[name]
    lr = 0.1 if optimizer == "sgd" else 0.01
    net = _net(dtype)
    params = list(net.collect_params().values())
    trainer = gluon.Trainer(params, optimizer, dict(options, learning_rate=lr))
    reference = _Reference(params, optimizer, options)
    for step in range(STEPS):
        _backward(net, step)
        trainer.step(BATCH)
        reference.step(lr)
        reference.check()


def test_a_schedule_and_changes_between_steps_take_effect():
    """The rate from a scheduler, set_learning_rate, lr_mult, wd_mult and the batch size are
    read at each step, not kept from the first."""
    net = _net()
    params = list(net.collect_params().values())
    schedule = lr_scheduler.FactorScheduler(step=1, factor=0.5, base_lr=0.2)
    trainer = gluon.Trainer(params, "sgd", {"lr_scheduler": schedule, "momentum": 0.5,
                                            "wd": 0.01})
    reference = _Reference(params, "sgd", {"momentum": 0.5, "wd": 0.01})
    rates = []
    for step in range(3):
        _backward(net, step)
        trainer.step(BATCH)
        rates.append(trainer.learning_rate)    # the rate at this step's update count
        reference.step(rates[-1])
        reference.check()
    assert rates[0] > rates[2]
    trainer = gluon.Trainer(params, "sgd", {"learning_rate": 0.1})
    reference = _Reference(params, "sgd", {})
    for step, (lr, batch) in enumerate([(0.1, BATCH), (0.3, BATCH), (0.3, 7)]):
        trainer.set_learning_rate(lr)
        params[0].lr_mult = 1.0 + step
        params[2].wd_mult = 2.0 * step
        _backward(net, step)
        trainer.step(batch)
        reference.step(lr, batch)
        reference.check()


def test_numpy_scalars_keep_numpy_promotion():
    """A float64 numpy scalar makes numpy compute wd * weight in float64: the update rounds
    as that does, not as float32 arithmetic would."""
    net = _net()
    params = list(net.collect_params().values())
    trainer = gluon.Trainer(params, "sgd", {"learning_rate": 0.1, "wd": np.float64(0.37),
                                            "momentum": 0.9})
    reference = _Reference(params, "sgd", {"wd": np.float64(0.37), "momentum": 0.9})
    for step in range(STEPS):
        _backward(net, step)
        trainer.step(BATCH)
        reference.step(0.1)
        reference.check()


@pytest.mark.parametrize("change", ["cast", "set_data", "new parameter", "grad_req"])
def test_parameters_changed_between_steps(change):
    """Updates follow a parameter cast to another dtype, new values, a Trainer over more
    parameters, and a parameter whose gradient is no longer wanted."""
    net = _net()
    params = list(net.collect_params().values())
    trainer = gluon.Trainer(params, "adam", {"learning_rate": 0.01, "wd": 0.01})
    _backward(net, 0)
    trainer.step(BATCH)
    if change == "cast":
        net.cast("float64")
    elif change == "set_data":
        params[0].set_data(np.full(params[0].shape, 0.25, np.float32))
    elif change == "new parameter":
        wider = nn.Dense(7, in_units=3)
        wider.initialize()
        net.add(wider)
        params = list(net.collect_params().values())
        trainer = gluon.Trainer(params, "adam", {"learning_rate": 0.01, "wd": 0.01})
    else:
        params[2].grad_req = "null"
    kept = [p for p in params if p.grad_req != "null"]
    frozen = params[2].data().asnumpy().copy()
    reference = _Reference(kept, "adam", {"wd": 0.01})
    if change != "new parameter":    # the trainer's Adam has taken one step already
        reference.count = 1
        # copies of the trainer's states, as they are (float32 still after a cast)
        reference.states = [tuple(s.copy() for s in trainer._states[params.index(p)])
                            for p in kept]
    for step in range(1, 3):
        _backward(net, step)
        trainer.step(BATCH)
        reference.step(0.01)
        reference.check()
    if change == "grad_req":
        assert np.array_equal(params[2].data().asnumpy(), frozen)
