"""Record MXNet 1.9.1's parameters on several contexts: their copies, and data-parallel
training over two CPU contexts (a batch split by split_and_load, one backward per slice,
Trainer.step on the whole batch).

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_contexts_reference.py tests/data/mxnet_contexts_reference.json
(see tools/mxnet_reference.py for installing it). tests/gluon/test_contexts.py imports
`copies_case` and `train_case` and runs them with ast_hybrid in place of mxnet.
"""
import json
import sys

import numpy as np

STEPS = 3
BATCH = 6


def copies_case(mx):
    """What a parameter initialized on [cpu(0), cpu(1)] lists, and after reset_ctx."""
    param = mx.gluon.Parameter("weight", shape=(3, 2))
    param.initialize(init=mx.init.Constant(0.5), ctx=[mx.cpu(0), mx.cpu(1)])
    before = {"list_ctx": [str(c) for c in param.list_ctx()],
              "list_data": len(param.list_data()), "list_grad": len(param.list_grad()),
              "data_cpu1_context": str(param.data(mx.cpu(1)).context),
              "copies_equal": bool((param.data(mx.cpu(0)).asnumpy()
                                    == param.data(mx.cpu(1)).asnumpy()).all())}
    param.reset_ctx(ctx=[mx.cpu(1), mx.cpu(2)])
    before["list_ctx_after_reset"] = [str(c) for c in param.list_ctx()]
    try:
        param.data(mx.cpu(0))
        before["data_cpu0_after_reset"] = "no error"
    except RuntimeError as error:
        before["data_cpu0_after_reset"] = type(error).__name__
    return before


def _data():
    rng = np.random.RandomState(0)
    return (rng.uniform(-1, 1, (BATCH, 4)).astype(np.float32),
            rng.uniform(-1, 1, (BATCH, 2)).astype(np.float32),
            rng.uniform(-0.5, 0.5, (3, 4)).astype(np.float32),
            rng.uniform(-0.5, 0.5, (2, 3)).astype(np.float32))


def train_case(mx, contexts, hybridize):
    """Weights and losses of STEPS momentum-SGD steps on a Dense(3, relu) -> Dense(2) net
    whose batch is split over `contexts` (a list of device ids)."""
    ctx = [mx.cpu(i) for i in contexts]
    x, y, w0, w1 = _data()
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(3, activation="relu", in_units=4),
            mx.gluon.nn.Dense(2, in_units=3))
    net.initialize(ctx=ctx)
    for layer, weight in zip(net, (w0, w1)):
        layer.weight.set_data(mx.nd.array(weight))
        layer.bias.set_data(mx.nd.full(layer.bias.shape, 0.1))
    if hybridize:
        net.hybridize()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd",
                               {"learning_rate": 0.1, "momentum": 0.9})
    loss_fn = mx.gluon.loss.L2Loss()
    losses = []
    for _ in range(STEPS):
        xs = mx.gluon.utils.split_and_load(mx.nd.array(x), ctx)
        ys = mx.gluon.utils.split_and_load(mx.nd.array(y), ctx)
        with mx.autograd.record():
            parts = [loss_fn(net(a), b) for a, b in zip(xs, ys)]
        for part in parts:
            part.backward()
        trainer.step(BATCH)
        losses.append(float(sum(p.sum().asscalar() for p in parts)))
    params = net.collect_params()
    return {"losses": losses,
            "weights": {k[k.index("_") + 1:]: p.data(ctx[-1]).asnumpy().tolist()
                        for k, p in params.items()},
            "copies_equal": all((p.list_data()[0].asnumpy() == d.asnumpy()).all()
                                for p in params.values() for d in p.list_data())}


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__, "copies": copies_case(mx),
                 "train": {f"{len(c)}_contexts_{'hybrid' if h else 'imperative'}":
                           train_case(mx, c, h)
                           for c in ([0], [0, 1]) for h in (False, True)}}
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
