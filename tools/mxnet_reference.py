"""Record MXNet 1.9.1's numbers for tests/test_mxnet_parity.py.

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    python3 -m venv /tmp/mx && /tmp/mx/bin/pip install mxnet==1.9.1 'numpy<1.24'
    /tmp/mx/bin/python tools/mxnet_reference.py tests/data/mxnet_reference.json
The same scenario runs under ast_hybrid in the test, which imports this file's `scenario` and
passes its own modules in place of MXNet's.
"""
import json
import sys

import numpy as np


def scenario(mx, optimizer, hybridize_options=None):
    """Train a small net with fixed weights and data; return losses per step and outputs.
    With hybridize_options (a dict, possibly empty), the net is hybridized with them."""
    nd, autograd, gluon, nn = mx.nd, mx.autograd, mx.gluon, mx.gluon.nn
    rng = np.random.RandomState(0)
    features = rng.randn(60, 10).astype("float32")
    labels = rng.randint(0, 3, size=60).astype("float32")
    loader = gluon.data.DataLoader(
        gluon.data.ArrayDataset(nd.array(features), nd.array(labels)), batch_size=20)
    net = nn.HybridSequential()
    net.add(nn.Dense(16, activation="tanh", in_units=10), nn.BatchNorm(in_channels=16),
            nn.Dense(3, in_units=16))
    net.initialize()
    for param in net.collect_params().values():
        if "running" not in param.name and "moving" not in param.name:
            param.set_data(nd.array(rng.randn(*param.shape).astype("float32") * 0.3))
    if hybridize_options is not None:
        net.hybridize(**hybridize_options)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    settings = {"sgd": {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.001},
                "adam": {"learning_rate": 0.01}, "rmsprop": {"learning_rate": 0.01},
                "nag": {"learning_rate": 0.05, "momentum": 0.9}}[optimizer]
    trainer = gluon.Trainer(net.collect_params(), optimizer, settings)
    losses = []
    for _ in range(3):
        for data, label in loader:
            with autograd.record():
                loss = loss_fn(net(data), label)
            loss.backward()
            trainer.step(data.shape[0])
            losses.append(float(loss.mean().asscalar()))
    outputs = net(nd.array(features[:4])).asnumpy()
    return {"losses": losses, "outputs": outputs.tolist()}


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__, "scenarios": {}}
    for optimizer in ("sgd", "nag", "adam", "rmsprop"):
        reference["scenarios"][optimizer] = scenario(mx, optimizer)
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
