"""One worker of the kvstore tests, started by `mpiexec -n 2` from tests/test_kvstore.py.

    python tests/kvstore_worker.py SCENARIO OUT_DIR

good: summed pushes, broadcast and 5 training steps (update_on_kvstore on and off), saved
to OUT_DIR/rank{R}.npz; raise, exit, kill, sleep: rank 1 fails at step 3 in that way;
shapes: rank 1's model has other shapes; deferred: the workers' models, initialized
differently, get their shapes at the first forward; stale: rank 1 skips a backward.
"""
import os
import signal
import sys
import time

import numpy as np

import ast_hybrid as mx
from ast_hybrid import autograd, gluon, nd

STEPS, BATCH, LR = 5, 4, 0.1


def pushed(rank, key):
    """What `rank` pushes under `key`: two arrays (two 'devices'), uneven floats."""
    rng = np.random.RandomState(100 * rank + key)
    return [rng.standard_normal((3, 5)).astype(np.float32) for _ in range(2)]


def global_batches(steps=STEPS, batch=BATCH, workers=2):
    rng = np.random.RandomState(7)
    x = rng.standard_normal((steps, workers * batch, 4)).astype(np.float32)
    y = rng.randint(0, 3, size=(steps, workers * batch)).astype(np.float32)
    return x, y


def make_net(seed, hidden=8, deferred=False):
    mx.random.seed(seed)
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(hidden, activation="relu", in_units=0 if deferred else 4),
            gluon.nn.Dense(3, in_units=0 if deferred else hidden))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    return net


def train(net, kvstore, rank, workers, update_on_kvstore=None, fail=None):
    """STEPS steps of SGD with momentum on this worker's slice of each global batch (of two
    workers' batches; workers=1 trains on the whole of it); returns the weights after the
    first step and at the end."""
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR,
                                                          "momentum": 0.9},
                            kvstore=kvstore, update_on_kvstore=update_on_kvstore)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    xs, ys = global_batches()
    size = xs.shape[1] // workers
    share = slice(rank * size, (rank + 1) * size)
    first = None
    for step in range(STEPS):
        if fail is not None and step == 2 and rank == 1:
            fail()
        with autograd.record():
            loss = loss_fn(net(nd.array(xs[step, share])), nd.array(ys[step, share]))
        loss.backward()
        trainer.step(xs.shape[1])
        if first is None:
            first = [p.data().asnumpy().copy() for p in net.collect_params().values()]
    last = [p.data().asnumpy().copy() for p in net.collect_params().values()]
    return first, last, trainer


def good(out):
    kv = mx.kv.create("dist_sync")
    rank, workers = kv.rank, kv.num_workers
    saved = {"workers": np.asarray(workers), "type": np.asarray(kv.type)}
    keys = [3, 4]
    kv.init(keys, [nd.zeros((3, 5)), nd.zeros((3, 5))])
    outs = [nd.zeros((3, 5)) for _ in keys]
    kv.pushpull(keys, [[nd.array(a) for a in pushed(rank, k)] for k in keys], out=outs)
    for k, o in zip(keys, outs):
        saved[f"sum{k}"] = o.asnumpy()
    # broadcast: each worker offers its own value, every one gets rank 0's
    got = nd.zeros((2, 2))
    kv.broadcast("b", nd.full((2, 2), float(rank + 1)), out=got)
    saved["broadcast"] = got.asnumpy()
    kv.barrier()
    for update_on_kvstore in (None, False):
        net = make_net(seed=rank)       # different initial weights on every worker
        saved[f"init{update_on_kvstore}"] = np.concatenate(
            [p.data().asnumpy().ravel() for p in net.collect_params().values()])
        first, last, trainer = train(net, "dist_sync", rank, workers, update_on_kvstore)
        saved[f"on_kvstore{update_on_kvstore}"] = np.asarray(trainer._update_on_kvstore)
        for i, (a, b) in enumerate(zip(first, last)):
            saved[f"first{update_on_kvstore}_{i}"] = a
            saved[f"last{update_on_kvstore}_{i}"] = b
    np.savez(os.path.join(out, f"rank{rank}.npz"), **saved)


def failing(scenario):
    def fail():
        if scenario == "raise":
            raise ValueError("worker failure on purpose")
        if scenario == "exit":
            sys.exit(0)
        if scenario == "kill":
            print(f"rank 1 pid {os.getpid()}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(60)
    kv = mx.kv.create("dist_sync")
    train(make_net(0), kv, kv.rank, kv.num_workers, fail=fail)
    print(f"rank {kv.rank} finished", flush=True)


def shapes():
    kv = mx.kv.create("dist_sync")
    train(make_net(0, hidden=8 + kv.rank), kv, kv.rank, kv.num_workers)


def stale():
    """Rank 1 skips backward at the second step: its gradients are stale, rank 0's fresh."""
    kv = mx.kv.create("dist_sync")
    net = make_net(0)
    trainer = gluon.Trainer(net.collect_params(), "sgd", kvstore=kv)
    xs, ys = global_batches()
    for step in range(2):
        with autograd.record():
            loss = gluon.loss.SoftmaxCrossEntropyLoss()(net(nd.array(xs[step])),
                                                        nd.array(ys[step]))
        if step == 0 or kv.rank == 0:
            loss.backward()
        trainer.step(xs.shape[1], ignore_stale_grad=True)


def deferred():
    """Shapes known at the first forward only, so the Trainer cannot broadcast before it."""
    kv = mx.kv.create("dist_sync")
    train(make_net(kv.rank, deferred=True), kv, kv.rank, kv.num_workers)


if __name__ == "__main__":
    scenario, out = sys.argv[1], sys.argv[2]
    if scenario == "good":
        good(out)
    elif scenario == "shapes":
        shapes()
    elif scenario == "deferred":
        deferred()
    elif scenario == "stale":
        stale()
    else:
        failing(scenario)
