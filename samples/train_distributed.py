"""Train the lecture's MLP on the spirals data, data-parallel over MPI processes, hybridized.

    mpiexec -n 2 python samples/train_distributed.py       # 10 epochs: about 96% test accuracy
    mpiexec -n 4 python samples/train_distributed.py --epochs 2 --batch-size 16

Each worker reads its share of the training set (gluon.data.SplitSampler), computes the
gradients of its batch, and `Trainer(..., kvstore='dist_sync')` sums them over the workers
before each update; `trainer.step` gets the global batch size. Every worker holds the same
weights throughout. At the end rank 0 trains the same network alone on the same global
batches (each the workers' batches of one step, put together) and prints that the losses
and final weights equal the workers' (to float32 rounding: the sums are added in another
order). Needs the 'dist' extra (pip install -e '.[dist]').
"""
import argparse
import os
import sys

import numpy as np

import ast_hybrid as mx
from ast_hybrid import autograd, gluon, nd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_mlp import accuracy, build_net, load_spirals  # noqa: E402

SEED = 0
RTOL, ATOL = 1e-5, 1e-6


def make_model(x):
    """The same weights on every worker (rank 0's are broadcast anyway), shapes known."""
    mx.random.seed(SEED)
    net = build_net()
    net.initialize(mx.init.Xavier())
    net(nd.array(x[:1]))
    net.hybridize()
    return net


def loaders(train, batch_size, workers):
    """The batches of each worker, epoch after epoch: worker r's are its rank's share."""
    dataset = gluon.data.ArrayDataset(*train)
    return [gluon.data.DataLoader(dataset, batch_size=batch_size, last_batch="discard",
                                  sampler=gluon.data.SplitSampler(len(dataset), workers, r,
                                                                  shuffle=True))
            for r in range(workers)]


def epoch_batches(loader_list, epoch):
    """Every worker's batches of one epoch, reproducibly: each shuffles its share with the
    same seed, so any process can tell what all of them read."""
    per_worker = []
    for loader in loader_list:
        np.random.seed(1000 + epoch)
        per_worker.append([(x.asnumpy(), y.asnumpy()) for x, y in loader])
    return per_worker


def train(net, kvstore, batches_of, epochs, lr, report=None):
    """The per-step losses (mean over the global batch); batches_of(epoch) gives this
    process's batches and the global batch size; report(epoch, losses) after each epoch."""
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr,
                                                          "momentum": 0.9}, kvstore=kvstore)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    summed = mx.kv.create("dist_sync") if kvstore else None
    if summed:
        summed.init("loss", nd.zeros((1,)))
    losses = []
    for epoch in range(epochs):
        batches, global_batch = batches_of(epoch)
        for x, y in batches:
            with autograd.record():
                loss = loss_fn(net(nd.array(x)), nd.array(y))
            loss.backward()
            trainer.step(global_batch)
            total = nd.array([float(loss.sum().asscalar())])
            if summed:
                summed.pushpull("loss", total)
            losses.append(float(total.asscalar()) / global_batch)
        if report:
            report(epoch, losses)
    return losses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="per worker")
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args(argv)
    kv = mx.kv.create("dist_sync")
    rank, workers = kv.rank, kv.num_workers
    train_set, test_set = load_spirals()
    loader_list = loaders(train_set, args.batch_size, workers)
    global_batch = args.batch_size * workers
    if rank == 0:
        print(f"{workers} worker(s), {args.batch_size} samples each per step: global batch "
              f"{global_batch}, {len(loader_list[0])} steps per epoch")

    def my_batches(epoch):
        return epoch_batches(loader_list, epoch)[rank], global_batch

    def report(epoch, losses):
        if rank == 0:
            steps = len(loader_list[0])
            print(f"epoch {epoch + 1}: loss {np.mean(losses[-steps:]):.4f}, test accuracy "
                  f"{accuracy(net, *test_set):.3f}")

    net = make_model(train_set[0])
    losses = train(net, kv, my_batches, args.epochs, args.lr, report)
    weights = [p.data() for p in net.collect_params().values()]
    # every worker must hold rank 0's weights exactly
    check = mx.kv.create("dist_sync")
    differ = 0
    for i, w in enumerate(weights):
        got = nd.zeros(w.shape)
        check.broadcast(i, w, out=got)
        differ += int(not np.array_equal(got.asnumpy(), w.asnumpy()))
    count = nd.array([float(differ)])
    check.init("differ", nd.zeros((1,)))
    check.pushpull("differ", count)
    if rank != 0:
        return 0
    print("every worker holds rank 0's weights" if count.asscalar() == 0
          else f"WORKERS DIFFER in {int(count.asscalar())} array(s)")

    def global_batches(epoch):
        parts = epoch_batches(loader_list, epoch)
        return [tuple(np.concatenate([p[s][k] for p in parts]) for k in (0, 1))
                for s in range(len(parts[0]))], global_batch

    alone = make_model(train_set[0])
    alone_losses = train(alone, None, global_batches, args.epochs, args.lr)
    loss_diff = float(np.max(np.abs(np.subtract(losses, alone_losses))))
    weight_diff = max(float(np.max(np.abs(a.asnumpy() - w.asnumpy())))
                      for a, w in zip([p.data() for p in alone.collect_params().values()],
                                      weights))
    same = np.allclose(losses, alone_losses, rtol=RTOL, atol=ATOL) and all(
        np.allclose(w.asnumpy(), a.data().asnumpy(), rtol=RTOL, atol=ATOL)
        for w, a in zip(weights, alone.collect_params().values()))
    print(f"one process on the same {len(losses)} global batches: max |loss difference| "
          f"{loss_diff:.2e}, max |weight difference| {weight_diff:.2e}")
    print(f"losses and final weights equal one process's (rtol {RTOL:g}, atol {ATOL:g})"
          if same else "LOSSES OR WEIGHTS DIFFER from one process's")
    return 0 if same and count.asscalar() == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
