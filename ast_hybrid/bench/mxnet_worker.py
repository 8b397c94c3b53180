"""MXNet 1.x's side of the benchmark, run by path in its own interpreter: JSON lines over pipes.

It imports only mxnet and numpy (the interpreter that runs it has no ast_hybrid). Each
request is one line on stdin and gets one reply line on stdout, {"ok": true, ...} or
{"ok": false, "error": traceback}:

- {"op": "build", "kind": K, "args": {...}, "weights": [npy paths], "input": path,
   "out_dir": dir, "train": null or {"labels": path, "lr": float}}
  builds the model (K: mlp, lenet, rnn, residual, or zoo with args {"name": get_model's
  name}), gives it the weights in collect_params' order, hybridizes it with
  static_alloc/static_shape and runs it once: a forward (its output written to
  out_dir/output.npy), or one training step (out_dir/loss.npy and the updated weights
  out_dir/weight_<i>.npy); replies {"id": N}.
- {"op": "sample", "id": N, "number": n}: n forwards or training steps of model N, each
  waited for, after one untimed; replies {"seconds": mean seconds per call}.
- {"op": "free", "id": N} forgets model N; end of input ends the worker.
"""
import json
import os
import sys
import time
import traceback

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon
from mxnet.gluon import nn


class RNNCell(gluon.HybridBlock):
    """h = tanh(dense_x(x_t) + dense_h(h)) over `steps` time steps, h starting at zero."""

    def __init__(self, steps, hidden, in_units, **kwargs):
        super().__init__(**kwargs)
        self.steps = steps
        with self.name_scope():
            self.dense_x = nn.Dense(hidden, in_units=in_units)
            self.dense_h = nn.Dense(hidden, in_units=hidden)

    def hybrid_forward(self, F, x):
        for t in range(self.steps):
            a = self.dense_x(F.slice_axis(x, axis=1, begin=t, end=t + 1))
            if t == 0:
                h = F.zeros_like(a)
            h = F.tanh(a + self.dense_h(h))
        return h


class ResidualBlock(gluon.HybridBlock):
    """x + Dense(units, relu)(x)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
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


def residual(blocks, units=64):
    net = nn.HybridSequential()
    for _ in range(blocks):
        net.add(ResidualBlock(units))
    return net


def zoo(name):
    from mxnet.gluon.model_zoo import vision
    return vision.get_model(name)


BUILDERS = {"mlp": mlp, "lenet": lenet, "rnn": RNNCell, "residual": residual, "zoo": zoo}


def _set_weights(net, x, paths):
    params = list(net.collect_params().values())
    if len(params) != len(paths):
        raise ValueError(f"MXNet's model has {len(params)} parameters, {len(paths)} were sent")
    net.initialize()
    net(x).wait_to_read()    # shapes deferred to the first call (the model zoo's) are known now
    for i, (param, path) in enumerate(zip(params, paths)):
        value = np.load(path)
        if tuple(param.shape) != value.shape:
            raise ValueError(f"parameter {i} ({param.name}): MXNet's shape {param.shape}, "
                             f"sent {value.shape}")
        param.set_data(mx.nd.array(value, dtype=value.dtype))


def _forward(net, x, out_dir):
    np.save(os.path.join(out_dir, "output.npy"), net(x).asnumpy())

    def call():
        net(x).wait_to_read()
    return call


def _training(net, x, out_dir, labels_path, lr):
    y = mx.nd.array(np.load(labels_path))
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    loss_fn.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    batch = x.shape[0]

    def step():
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(batch)
        return loss

    np.save(os.path.join(out_dir, "loss.npy"), step().asnumpy())
    for i, param in enumerate(net.collect_params().values()):
        np.save(os.path.join(out_dir, f"weight_{i}.npy"), param.data().asnumpy())

    def call():
        step()
        mx.nd.waitall()     # the update too, as the in-process steps finish theirs
    return call


def _sample(call, number):
    # one call untimed: between samples the worker idles while the benchmark times the
    # others, and the first call after that pays for waking MXNet's engine threads (up to
    # 0.7 ms measured), which a loop that keeps MXNet busy never pays
    call()
    t0 = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - t0) / number


class Worker:
    def __init__(self):
        self.models = {}
        self.next_id = 0

    def build(self, kind, args, weights, input, out_dir, train=None):
        net = BUILDERS[kind](**args)
        x = mx.nd.array(np.load(input))
        _set_weights(net, x, weights)
        net.hybridize(static_alloc=True, static_shape=True)
        call = (_forward(net, x, out_dir) if train is None
                else _training(net, x, out_dir, train["labels"], train["lr"]))
        self.next_id += 1
        self.models[self.next_id] = call
        return {"id": self.next_id}

    def sample(self, id, number):
        return {"seconds": _sample(self.models[id], number)}

    def free(self, id):
        del self.models[id]
        return {}


def hello():
    features = mx.runtime.Features()
    return {"mxnet": mx.__version__, "numpy": np.__version__,
            "features": sorted(name for name in features if features.is_enabled(name)),
            "env": {k: os.environ.get(k) for k in (
                "OMP_NUM_THREADS", "MXNET_CPU_WORKER_NTHREADS", "OPENBLAS_NUM_THREADS",
                "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}}


def main():
    # replies go to the real stdout only: whatever MXNet prints goes to stderr
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr
    worker = Worker()

    def reply(data):
        replies.write(json.dumps(data) + "\n")
        replies.flush()

    reply({"ok": True, **hello()})
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        try:
            reply({"ok": True, **getattr(worker, op)(**request)})
        except Exception:  # noqa: BLE001 - the benchmark reports it and goes on
            reply({"ok": False, "error": traceback.format_exc()})


if __name__ == "__main__":
    main()
