"""The benchmark's models: Gluon definitions, inputs, and the catalog pairing each with its twin."""
from collections import namedtuple

import numpy as np

from .. import nd
from .. import random as mx_random
from ..gluon import nn
from ..gluon.block import HybridBlock
from .numpy_forward import numpy_lenet, numpy_mlp, numpy_residual, numpy_rnn
from .numpy_training import numpy_train_lenet, numpy_train_mlp


class RNNCell(HybridBlock):
    """A simple recurrent cell unrolled over `steps` time steps by a Python `for` loop:
    h = tanh(dense_x(x_t) + dense_h(h)), h starting at zero."""

    def __init__(self, steps=20, hidden=64, in_units=32, **kwargs):
        super().__init__(**kwargs)
        self.steps = steps
        self.dense_x = nn.Dense(hidden, in_units=in_units)
        self.dense_h = nn.Dense(hidden, in_units=hidden)

    def hybrid_forward(self, F, x):
        for t in range(self.steps):
            a = self.dense_x(F.slice_axis(x, axis=1, begin=t, end=t + 1))
            if t == 0:
                h = F.zeros_like(a)     # h starts at zero (shaped without an extra product)
            h = F.tanh(a + self.dense_h(h))
        return h


class ResidualBlock(HybridBlock):
    """x + Dense(units, relu)(x)."""

    def __init__(self, units=64, **kwargs):
        super().__init__(**kwargs)
        self.dense = nn.Dense(units, activation="relu", in_units=units)

    def hybrid_forward(self, F, x):
        return x + self.dense(x)


def mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(256, activation="relu", in_units=512),
            nn.Dense(128, activation="relu", in_units=256),
            nn.Dense(2, in_units=128))
    return net


def lenet():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, 5, activation="relu", in_channels=1), nn.MaxPool2D(2),
            nn.Conv2D(16, 5, activation="relu", in_channels=6), nn.MaxPool2D(2),
            nn.Dense(120, activation="relu", in_units=256),
            nn.Dense(84, activation="relu", in_units=120),
            nn.Dense(10, in_units=84))
    return net


def rnn():
    return RNNCell(steps=20, hidden=64, in_units=32)


def residual(blocks):
    net = nn.HybridSequential()
    for _ in range(blocks):
        net.add(ResidualBlock(64))
    return net


# kind: the architecture, which names its PyTorch peer
ModelSpec = namedtuple("ModelSpec", "kind build numpy_forward input_shape description")
TrainSpec = namedtuple("TrainSpec", "model numpy_step classes")

MODELS = {
    "mlp1": ModelSpec("mlp", mlp, numpy_mlp, (1, 512), "MLP 512-256-128-2, batch 1"),
    "mlp256": ModelSpec("mlp", mlp, numpy_mlp, (256, 512), "MLP 512-256-128-2, batch 256"),
    "lenet1": ModelSpec("lenet", lenet, numpy_lenet, (1, 1, 28, 28), "LeNet, batch 1"),
    "lenet64": ModelSpec("lenet", lenet, numpy_lenet, (64, 1, 28, 28), "LeNet, batch 64"),
    "rnn1": ModelSpec("rnn", rnn, numpy_rnn, (1, 20, 32), "RNN cell x20 steps, batch 1"),
    "res50": ModelSpec("residual", lambda: residual(50), numpy_residual, (1, 64),
                       "residual MLP 50 blocks, batch 1"),
}

# models whose first hybridized call is measured but not the steady state
FIRST_CALL_ONLY = {
    "res200": ModelSpec("residual", lambda: residual(200), numpy_residual, (1, 64),
                        "residual MLP 200 blocks"),
}

# training-step rows: the forward model of MODELS each trains, with its numpy step
TRAIN_MODELS = {
    "mlp1": TrainSpec("mlp1", numpy_train_mlp, 2),
    "mlp256": TrainSpec("mlp256", numpy_train_mlp, 2),
    "lenet1": TrainSpec("lenet1", numpy_train_lenet, 10),
    "lenet64": TrainSpec("lenet64", numpy_train_lenet, 10),
}


def spec_of(name):
    """The ModelSpec of a model of MODELS or FIRST_CALL_ONLY."""
    return MODELS.get(name) or FIRST_CALL_ONLY[name]


def make_labels(name, seed=0):
    """Integer class labels for a training row's batch, as a numpy int array."""
    model, _, classes = TRAIN_MODELS[name]
    batch = MODELS[model].input_shape[0]
    return np.random.RandomState(seed + 1).randint(0, classes, size=batch)


def make(name, seed=0):
    """(net, x as NDArray, x as numpy) for a model of MODELS or FIRST_CALL_ONLY, initialized
    with a fixed seed (parameters created eagerly, never deferred)."""
    spec = spec_of(name)
    mx_random.seed(seed)
    net = spec.build()
    net.initialize()
    x = np.random.RandomState(seed).standard_normal(spec.input_shape).astype(np.float32)
    return net, nd.array(x), x


def copy_params(src, dst):
    """Give `dst` (same architecture) the very same parameter values as `src`."""
    # same architecture, other names (dense0_ and dense3_): matched in collect_params' order
    for source, target in zip(src.collect_params().values(), dst.collect_params().values()):
        target.set_data(source.data())
