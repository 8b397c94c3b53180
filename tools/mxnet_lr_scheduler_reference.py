"""Record MXNet 1.9.1's learning-rate schedules, their errors, and training runs that use them
into a JSON file that tests/test_lr_scheduler.py reads without mxnet.

Run under MXNet's own interpreter, from the repository root:
    /tmp/mx/bin/python tools/mxnet_lr_scheduler_reference.py \
        tests/data/mxnet_lr_scheduler_reference.json
The test imports this file's functions and runs them with ast_hybrid in place of mxnet.
"""
import contextlib
import io
import json
import sys

import numpy as np

# (class name, keyword arguments, the num_update of each call in turn): calls go backwards
# and jump ahead too, since FactorScheduler and MultiFactorScheduler keep state
SCHEDULES = [
    ("FactorScheduler", {"step": 3, "factor": 0.5, "base_lr": 1.0}, list(range(0, 16))),
    ("FactorScheduler", {"step": 3, "factor": 0.5, "base_lr": 1.0}, [0, 10, 4, 11, 3, 30]),
    ("FactorScheduler", {"step": 1, "factor": 0.1, "stop_factor_lr": 1e-4, "base_lr": 1.0},
     list(range(0, 9))),
    ("FactorScheduler", {"step": 2, "factor": 0.9, "base_lr": 0.5, "warmup_steps": 4,
                         "warmup_begin_lr": 0.1}, list(range(0, 12)) + [2, 20]),
    ("FactorScheduler", {"step": 2, "factor": 0.9, "base_lr": 0.5, "warmup_steps": 3,
                         "warmup_begin_lr": 0.05, "warmup_mode": "constant"},
     list(range(0, 8))),
    ("FactorScheduler", {"step": 5}, [0, 5, 6, 100]),
    ("MultiFactorScheduler", {"step": [2, 5, 9], "factor": 0.5, "base_lr": 0.8},
     list(range(0, 13))),
    ("MultiFactorScheduler", {"step": [2, 5, 9], "factor": 0.5, "base_lr": 0.8},
     [10, 0, 3, 6]),
    ("MultiFactorScheduler", {"step": [4, 6], "factor": 0.1, "base_lr": 1.0,
                              "warmup_steps": 3, "warmup_begin_lr": 0.2},
     list(range(0, 9))),
    ("PolyScheduler", {"max_update": 10, "base_lr": 0.5}, list(range(0, 14)) + [5]),
    ("PolyScheduler", {"max_update": 10, "base_lr": 0.5, "pwr": 1, "final_lr": 0.1},
     list(range(0, 12))),
    ("PolyScheduler", {"max_update": 12, "base_lr": 0.4, "pwr": 3, "final_lr": 0.01,
                       "warmup_steps": 4, "warmup_begin_lr": 0.04}, list(range(0, 15))),
    ("PolyScheduler", {"max_update": 6, "base_lr": 0.3, "pwr": 0.5, "warmup_steps": 2,
                       "warmup_mode": "constant", "warmup_begin_lr": 0.1},
     list(range(0, 8))),
    ("CosineScheduler", {"max_update": 10, "base_lr": 1.0}, list(range(0, 13)) + [4]),
    ("CosineScheduler", {"max_update": 20, "base_lr": 0.1, "final_lr": 0.001,
                         "warmup_steps": 5, "warmup_begin_lr": 0.01},
     list(range(0, 24))),
]

BAD_SCHEDULES = [
    ("FactorScheduler", {"step": 0}),
    ("FactorScheduler", {"step": 2, "factor": 1.5}),
    ("FactorScheduler", {"step": 2, "base_lr": 0.1, "warmup_begin_lr": 0.2}),
    ("FactorScheduler", {"step": 2, "warmup_steps": -1}),
    ("FactorScheduler", {"step": 2, "warmup_steps": 2.0}),
    ("FactorScheduler", {"step": 2, "warmup_mode": "cosine"}),
    ("MultiFactorScheduler", {"step": [3, 3]}),
    ("MultiFactorScheduler", {"step": [0, 3]}),
    ("MultiFactorScheduler", {"step": (2, 3)}),
    ("MultiFactorScheduler", {"step": []}),
    ("MultiFactorScheduler", {"step": [2], "factor": 2}),
    ("PolyScheduler", {"max_update": 0}),
    ("PolyScheduler", {"max_update": 5.0}),
    ("CosineScheduler", {"max_update": -3}),
]


def _outcome(call, *args, **kwargs):
    """('ok', call's value) or (exception type name, message)."""
    try:
        return ["ok", call(*args, **kwargs)]
    except Exception as error:  # noqa: BLE001 (the recorded outcome is the point)
        return [type(error).__name__, str(error)]


def _made(cls, kwargs):
    cls(**kwargs)
    return "made"


def _set_rate(optimizer, rate):
    optimizer.set_learning_rate(rate)
    return optimizer.lr


def schedules(mx):
    """Each schedule's rates for its calls, then each bad construction's error."""
    rates = []
    for name, kwargs, calls in SCHEDULES:
        scheduler = getattr(mx.lr_scheduler, name)(**kwargs)
        rates.append([scheduler(n) for n in calls])
    errors = [_outcome(_made, getattr(mx.lr_scheduler, name), kwargs)
              for name, kwargs in BAD_SCHEDULES]
    return {"rates": rates, "errors": errors}


def optimizer_hooks(mx):
    """How optimizers read a scheduler: the base rate they give it, what they print, what
    learning_rate reads, and what set_learning_rate does."""
    sched = mx.lr_scheduler
    record = {}
    cases = {
        "sgd_overwrites": lambda: mx.optimizer.SGD(
            learning_rate=0.1, lr_scheduler=sched.FactorScheduler(step=2, base_lr=1.0)),
        "sgd_keeps": lambda: mx.optimizer.SGD(
            lr_scheduler=sched.FactorScheduler(step=2, base_lr=1.0)),
        "sgd_same_rate": lambda: mx.optimizer.SGD(
            learning_rate=1.0, lr_scheduler=sched.FactorScheduler(step=2, base_lr=1.0)),
        "adam_default_rate": lambda: mx.optimizer.Adam(
            lr_scheduler=sched.FactorScheduler(step=2, base_lr=1.0)),
        # the curve of Poly and Cosine starts from the rate they were made with
        "sgd_poly": lambda: mx.optimizer.SGD(
            learning_rate=0.2, lr_scheduler=sched.PolyScheduler(max_update=4, base_lr=1.0,
                                                                pwr=1)),
        "sgd_cosine_warmup": lambda: mx.optimizer.SGD(
            learning_rate=0.2, lr_scheduler=sched.CosineScheduler(
                max_update=6, base_lr=1.0, warmup_steps=2, warmup_begin_lr=0.5)),
        "plain": lambda: mx.optimizer.SGD(),
        "begin_num_update": lambda: mx.optimizer.SGD(
            lr_scheduler=sched.FactorScheduler(step=2, factor=0.5, base_lr=1.0),
            begin_num_update=5),
    }
    for case, make in cases.items():
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            optimizer = make()
        rates = []
        for num_update in (0, 1, 3, 5, 8):
            optimizer.num_update = max(optimizer.num_update, num_update)
            rates.append(optimizer.learning_rate)
        record[case] = {"printed": printed.getvalue(), "lr": optimizer.lr,
                        "base_lr": getattr(optimizer.lr_scheduler, "base_lr", None),
                        "rates": rates,
                        "set_learning_rate": _outcome(_set_rate, optimizer, 0.05)}
    return record


def _data(mx):
    x = np.linspace(-1.0, 1.0, 24, dtype=np.float32).reshape(6, 4)
    y = np.cos(np.arange(18, dtype=np.float32)).reshape(6, 3)
    return mx.nd.array(x), mx.nd.array(y)


def _dense(mx, units, in_units, seed):
    layer = mx.gluon.nn.Dense(units, in_units=in_units)
    layer.initialize()
    rng = np.random.RandomState(seed)
    layer.weight.set_data(mx.nd.array(rng.uniform(-0.5, 0.5, (units, in_units))))
    layer.bias.set_data(mx.nd.array(rng.uniform(-0.5, 0.5, (units,))))
    return layer


def _scheduler(mx, spec):
    name, kwargs = spec
    return getattr(mx.lr_scheduler, name)(**kwargs)


TRAININGS = {
    "sgd_factor": ("sgd", {"learning_rate": 0.4},
                   ("FactorScheduler", {"step": 2, "factor": 0.5})),
    "sgd_momentum_multifactor": ("sgd", {"learning_rate": 0.3, "momentum": 0.9, "wd": 0.01},
                                 ("MultiFactorScheduler", {"step": [2, 4], "factor": 0.3,
                                                           "base_lr": 0.3,
                                                           "warmup_steps": 2,
                                                           "warmup_begin_lr": 0.1})),
    "nag_poly": ("nag", {"momentum": 0.5},
                 ("PolyScheduler", {"max_update": 5, "base_lr": 0.2, "pwr": 2,
                                    "final_lr": 0.02})),
    "adam_cosine": ("adam", {},
                    ("CosineScheduler", {"max_update": 6, "base_lr": 0.05,
                                         "final_lr": 0.005})),
}


def training(mx, case, steps=7, hybridize_options=None):
    """A Dense layer trained on fixed data with an L2 loss under a scheduled rate: the rate
    the trainer reads before each step, the weights after each step, and what was printed."""
    optimizer, params, spec = TRAININGS[case]
    x, y = _data(mx)
    net = _dense(mx, 3, 4, seed=0)
    if hybridize_options is not None:
        net.hybridize(**hybridize_options)
    loss_fn = mx.gluon.loss.L2Loss()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        trainer = mx.gluon.Trainer(net.collect_params(), optimizer,
                                   dict(params, lr_scheduler=_scheduler(mx, spec)))
    rates, weights, biases = [], [], []
    for _ in range(steps):
        rates.append(trainer.learning_rate)
        with mx.autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(x.shape[0])
        weights.append(net.weight.data().asnumpy().tolist())
        biases.append(net.bias.data().asnumpy().tolist())
    return {"printed": printed.getvalue(), "rates": rates, "final_rate": trainer.learning_rate,
            "weights": weights, "biases": biases,
            "num_update": trainer.optimizer.num_update}


def stale_counts(mx, steps=5):
    """Two layers, the second used on even steps only (its gradient then stale): the update
    counts per parameter index, num_update, and the rate after each step."""
    x, y = _data(mx)
    first, second = _dense(mx, 3, 4, seed=1), _dense(mx, 3, 3, seed=2)
    params = list(first.collect_params().values()) + list(second.collect_params().values())
    trainer = mx.gluon.Trainer(params, "sgd", {
        "learning_rate": 0.1,
        "lr_scheduler": mx.lr_scheduler.FactorScheduler(step=2, factor=0.5)})
    record = []
    for step in range(steps):
        with mx.autograd.record():
            out = first(x)
            if step % 2 == 0:
                out = second(out)
            loss = ((out - y) ** 2).sum()
        loss.backward()
        trainer.step(1, ignore_stale_grad=True)
        counts = trainer.optimizer._index_update_count
        record.append({"counts": [counts.get(i) for i in range(len(params))],
                       "num_update": trainer.optimizer.num_update,
                       "rate": trainer.learning_rate})
    return record


def main(path):
    import mxnet as mx
    reference = {
        "mxnet": mx.__version__,
        "schedules": schedules(mx),
        "optimizer_hooks": optimizer_hooks(mx),
        "trainings": {case: training(mx, case) for case in TRAININGS},
        "stale_counts": stale_counts(mx),
    }
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=1)
        stream.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
