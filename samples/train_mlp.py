"""Train the lecture's MLP (Dense 256 relu, Dense 128 relu, Dense 3), hybridized, on a small
real data set shipped with the samples: three interleaved spirals in the plane
(samples/data/spirals.csv, generated once by `make_spirals` with seed 0: 600 training and
300 test points, labels 0..2).

    python samples/train_mlp.py                   # 30 epochs, AST mode: about 99% test accuracy
    python samples/train_mlp.py --epochs 2 --mode trace --plot loss.png

It first checks that imperative and hybridized training give the same losses for the first
steps (printing both), then trains the hybridized network with a progress bar (tqdm's when it
is installed, the `progress` extra, else a plain one), prints
the test accuracy reached, and saves a loss curve PNG when matplotlib is installed.
"""
import argparse
import os
import sys
import time

import numpy as np

import ast_hybrid
from ast_hybrid import autograd, gluon, nd
from ast_hybrid.bench.progress import Progress
from ast_hybrid.gluon import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_FILE = os.path.join(HERE, "data", "spirals.csv")
CLASSES = 3


def make_spirals(path=DATA_FILE, per_class=300, seed=0):
    """Write the data set: per class, points along an arm of a spiral with some noise; every
    third point goes to the test split."""
    rng = np.random.default_rng(seed)
    rows = []
    for label in range(CLASSES):
        radius = np.linspace(0.05, 1.0, per_class)
        angle = (np.linspace(label * 4.0, (label + 1) * 4.0, per_class)
                 + rng.normal(0, 0.2, per_class))
        x = radius * np.sin(angle)
        y = radius * np.cos(angle)
        for i in range(per_class):
            split = "test" if i % 3 == 2 else "train"
            rows.append(f"{x[i]:.5f},{y[i]:.5f},{label},{split}")
    with open(path, "w") as f:
        f.write("x,y,label,split\n" + "\n".join(rows) + "\n")


def load_spirals(path=DATA_FILE):
    with open(path) as f:
        lines = f.read().splitlines()[1:]
    parts = [line.split(",") for line in lines]
    features = np.array([[float(p[0]), float(p[1])] for p in parts], dtype=np.float32)
    labels = np.array([int(p[2]) for p in parts], dtype=np.float32)
    train = np.array([p[3] == "train" for p in parts])
    return (features[train], labels[train]), (features[~train], labels[~train])


def build_net():
    net = nn.HybridSequential()
    net.add(nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"),
            nn.Dense(CLASSES))
    return net


def make_model(seed, sample):
    """A network with weights fixed by `seed` (initialized by running it once)."""
    ast_hybrid.random.seed(seed)
    np.random.seed(seed)
    net = build_net()
    net.initialize(ast_hybrid.init.Xavier())
    net(sample)
    return net


def train_steps(net, batches, lr, steps):
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    losses = []
    for (x, y), _ in zip(batches, range(steps)):
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(x.shape[0])
        losses.append(float(loss.mean().asscalar()))
    return losses


def check_same_losses(train, mode, lr, batch_size, steps=5):
    """Imperative and hybridized training from the same weights on the same batches."""
    order = np.random.default_rng(0).permutation(len(train[0]))
    x, y = train[0][order], train[1][order]
    batches = [(nd.array(x[i:i + batch_size]), nd.array(y[i:i + batch_size]))
               for i in range(0, steps * batch_size, batch_size)]
    imperative = make_model(1, batches[0][0])
    hybrid = make_model(1, batches[0][0])
    hybrid.hybridize(mode=mode)
    a = train_steps(imperative, batches, lr, steps)
    b = train_steps(hybrid, batches, lr, steps)
    print(f"first {steps} steps, imperative vs hybridized ({mode} mode):")
    for i, (u, v) in enumerate(zip(a, b)):
        print(f"  step {i + 1}: {u:.6f}  {v:.6f}")
    same = np.allclose(a, b, rtol=1e-5, atol=1e-6)
    print("losses agree" if same else "LOSSES DIFFER")
    return same


def accuracy(net, x, y):
    predicted = net(nd.array(x)).asnumpy().argmax(axis=1)
    return float((predicted == y).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--mode", choices=("ast", "trace"), default="ast")
    parser.add_argument("--plot", default="train_mlp_loss.png",
                        help="where to save the loss curve ('' for none)")
    parser.add_argument("--regenerate", action="store_true",
                        help="rewrite samples/data/spirals.csv (seed 0) and exit")
    args = parser.parse_args(argv)
    if args.regenerate:
        make_spirals()
        print(f"wrote {DATA_FILE}")
        return 0
    train, test = load_spirals()
    print(f"spirals: {len(train[0])} training and {len(test[0])} test points, {CLASSES} classes")
    if not check_same_losses(train, args.mode, args.lr, args.batch_size):
        return 1

    loader = gluon.data.DataLoader(gluon.data.ArrayDataset(*train), batch_size=args.batch_size,
                                   shuffle=True)
    net = make_model(0, nd.array(train[0][:2]))
    net.hybridize(mode=args.mode)
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": args.lr, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    curve = []
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        total, count = 0.0, 0
        bar = Progress(len(loader), desc=f"epoch {epoch:3d}/{args.epochs}", stream=sys.stdout)
        for x, y in loader:
            with autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(x.shape[0])
            total += float(loss.sum().asscalar())
            count += x.shape[0]
            bar.step(f"loss {total / count:.4f}")
        bar.close()
        curve.append(total / count)
        print(f"  train acc {accuracy(net, *train):.3f}")
    elapsed = time.perf_counter() - start
    test_accuracy = accuracy(net, *test)
    print(f"trained {args.epochs} epochs in {elapsed:.1f}s ({args.mode} mode)")
    print(f"test accuracy: {test_accuracy:.3f}")
    if args.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib is not installed: no loss curve")
        else:
            plt.figure(figsize=(5, 3.5))
            plt.plot(range(1, len(curve) + 1), curve, marker="o")
            plt.xlabel("epoch")
            plt.ylabel("training loss")
            plt.title(f"MLP on spirals ({args.mode} mode)")
            plt.tight_layout()
            plt.savefig(args.plot)
            print(f"loss curve saved to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
