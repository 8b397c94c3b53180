"""Train a LeNet, hybridized, and deploy it: export the graph, convert it to ONNX, run it with
onnxruntime and compare with ours; print the layer table and draw the network.

The data set is written by the sample in FashionMNIST's own format (gzip-compressed IDX files,
`train-images-idx3-ubyte.gz` and the rest, which `gluon.data.vision.FashionMNIST` reads from
`root`): 28x28 grey images of ten synthetic garment-like classes (a fixed random template per
class, shifted and noised per image), small enough to train in seconds. Put the real
FashionMNIST files in a folder and pass it with --data to train on them instead.

    python samples/deploy_onnx.py                      # into ./deploy_onnx_out
    python samples/deploy_onnx.py --epochs 1 --out /tmp/deploy

ONNX needs the `onnx` extra (onnx, onnxruntime); the picture needs the `viz` extra (the
graphviz package) and Graphviz's `dot` program to render a PNG (else the .gv source is
written). Without them the sample says which extra to install and does the rest.
"""
import argparse
import gzip
import os
import shutil
import struct
import sys
import time

import numpy as np

import ast_hybrid
from ast_hybrid import autograd, gluon, nd
from ast_hybrid.bench.progress import Progress
from ast_hybrid.gluon import nn
from ast_hybrid.gluon.data.vision import FashionMNIST, transforms

CLASSES = 10
SIDE = 28


def write_idx(path, array):
    """An IDX file (gzip-compressed) of unsigned bytes, as MNIST and FashionMNIST ship."""
    magic = 0x0800 | array.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as stream:
        stream.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def make_dataset(root, train_size=1200, test_size=400, seed=0):
    """Write the four files of a FashionMNIST-format data set into `root`."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((CLASSES, 7, 7)) > 0.55
    templates = np.kron(coarse, np.ones((4, 4))).astype(np.float32)
    os.makedirs(root, exist_ok=True)
    for prefix, count in (("train", train_size), ("t10k", test_size)):
        labels = rng.integers(0, CLASSES, count)
        images = np.empty((count, SIDE, SIDE), dtype=np.uint8)
        for i, label in enumerate(labels):
            shifted = np.roll(templates[label], tuple(rng.integers(-2, 3, 2)), axis=(0, 1))
            noisy = 0.8 * shifted + 0.35 * rng.random((SIDE, SIDE))
            images[i] = np.clip(noisy * 255, 0, 255).astype(np.uint8)
        write_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"), images)
        write_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz"), labels.astype(np.uint8))


def lenet():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, kernel_size=5, padding=2, activation="relu"),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Conv2D(16, kernel_size=5, activation="relu"),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Dense(120, activation="relu"), nn.Dense(84, activation="relu"),
            nn.Dense(CLASSES))
    return net


def section(title):
    print(f"===== {title}")


def evaluate(net, loader):
    correct = count = 0
    for x, y in loader:
        correct += int((net(x).asnumpy().argmax(axis=1) == y.asnumpy()).sum())
        count += x.shape[0]
    return correct / count


def train(net, data_root, epochs, batch_size, lr):
    to_tensor = transforms.ToTensor()
    train_set = FashionMNIST(root=data_root, train=True).transform_first(to_tensor)
    test_set = FashionMNIST(root=data_root, train=False).transform_first(to_tensor)
    train_loader = gluon.data.DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_loader = gluon.data.DataLoader(test_set, batch_size=batch_size)
    print(f"{len(train_set)} training and {len(test_set)} test images from {data_root}")
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        total, count = 0.0, 0
        bar = Progress(len(train_loader), desc=f"epoch {epoch}/{epochs}", stream=sys.stdout)
        for x, y in train_loader:
            with autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(x.shape[0])
            total += float(loss.sum().asscalar())
            count += x.shape[0]
            bar.step(f"loss {total / count:.4f}")
        bar.close()
    print(f"trained {epochs} epochs in {time.perf_counter() - start:.1f}s (AST mode)")
    accuracy = evaluate(net, test_loader)
    print(f"test accuracy: {accuracy:.3f}")
    return test_set


def compare_with_onnxruntime(net, symbol_file, params_file, onnx_path, test_set):
    try:
        import onnxruntime
        from ast_hybrid import onnx as mx_onnx
        mx_onnx.export_model(symbol_file, params_file, in_shapes=[(1, 1, SIDE, SIDE)],
                             in_types=np.float32, onnx_file_path=onnx_path)
    except ImportError as error:
        print(f"no ONNX ({error.name or error} is missing): pip install -e '.[onnx]'")
        return
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), batch axis left free")
    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    for batch in (1, 16):
        x = np.stack([test_set[i][0].asnumpy() for i in range(batch)])
        ours = net(nd.array(x)).asnumpy()
        theirs = session.run(None, {input_name: x})[0]
        agree = (ours.argmax(axis=1) == theirs.argmax(axis=1)).mean()
        print(f"batch {batch}: max |onnxruntime - ours| = {np.abs(theirs - ours).max():.3g}, "
              f"same class for {agree:.0%}")


def draw(symbol, out_dir):
    try:
        picture = ast_hybrid.viz.plot_network(symbol, title="lenet", save_format="png",
                                              shape={"data": (1, 1, SIDE, SIDE)})
    except ImportError:
        print("no picture (the graphviz package is missing): pip install -e '.[viz]'")
        return
    stem = os.path.join(out_dir, "lenet")
    if shutil.which("dot"):
        print(f"picture written to {picture.render(stem, cleanup=True)}")
    else:
        picture.save(stem + ".gv")
        print(f"Graphviz's dot program is not installed, so no PNG: wrote the graph source "
              f"{stem}.gv (render it with `dot -Tpng {stem}.gv`)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="deploy_onnx_out", help="folder for every file written")
    parser.add_argument("--data", default=None,
                        help="a folder holding FashionMNIST's files (default: make a small one)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    section("data")
    data_root = args.data
    if data_root is None:
        data_root = os.path.join(args.out, "fashion-mnist")
        make_dataset(data_root)
        print(f"made a FashionMNIST-format data set of synthetic classes in {data_root}")

    section("training")
    ast_hybrid.random.seed(0)
    np.random.seed(0)
    net = lenet()
    net.initialize(ast_hybrid.init.Xavier())
    net.hybridize()
    test_set = train(net, data_root, args.epochs, args.batch_size, args.lr)

    section("export")
    prefix = os.path.join(args.out, "lenet")
    net.export(prefix)
    symbol_file, params_file = f"{prefix}-symbol.json", f"{prefix}-0000.params"
    print(f"wrote {symbol_file} and {params_file}")

    section("onnx")
    compare_with_onnxruntime(net, symbol_file, params_file, prefix + ".onnx", test_set)

    section("summary")
    symbol = ast_hybrid.sym.load(symbol_file)
    ast_hybrid.viz.print_summary(symbol, shape={"data": (1, 1, SIDE, SIDE)})

    section("picture")
    draw(symbol, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
