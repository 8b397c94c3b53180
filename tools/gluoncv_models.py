"""Run GluonCV's own classification model code, unchanged, on ast_hybrid and on MXNet 1.9.1.

GluonCV's source is not part of this repository: the model files are exported from a git
clone of dmlc/gluon-cv (its newest 0.x tag by default) into a temporary folder, beside
small stand-ins for the GluonCV modules unrelated to these models (data sets, downloads):
    python tools/gluoncv_models.py GLUONCV_CLONE [--tag v0.10.0] [--mxnet-python PATH]
                                   [--keep DIR] [model ...]
In this project's environment `mxnet` is ast_hybrid (an import hook maps `mxnet.X` to
`ast_hybrid.X`: GluonCV's import lines are the only thing that changes meaning); under
MXNet's interpreter (default /tmp/mx/bin/python, never this project's dependency) it is the
real MXNet. MXNet makes each network, sets its parameters by tools/mxnet_model_zoo_reference's
rule, saves them with save_parameters and records its outputs and gradients; ast_hybrid makes
the same network from the same code, loads that file with load_parameters, and prints per
model: whether it imports and builds, the max abs difference from MXNet's output
imperatively, in AST mode (fallback=False) and in trace mode, the max abs difference of a
training step's gradients (input and parameters) and running statistics from imperative
mode's and from MXNet's (in float64, relative to each array's largest value; "dropout"
where the two libraries' random masks differ), and that of the output of its export loaded
back by SymbolBlock.imports.
"""
import argparse
import contextlib
import importlib
import importlib.abc
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxnet_model_zoo_reference import parameter_value  # noqa: E402  (tools/ is no package)

# model -> (GluonCV's module in model_zoo, its function, keyword arguments, input side:
# large enough that the last stage keeps several values of each channel for batch statistics)
MODELS = {
    "resnet18_v1b": ("resnetv1b", "resnet18_v1b", {}, 64),
    "resnet50_v1d": ("resnetv1b", "resnet50_v1d", {}, 64),
    "resnet18_v1": ("resnet", "resnet18_v1", {}, 64),
    "mobilenet_v3_small": ("mobilenetv3", "mobilenet_v3_small", {}, 64),
    "mobilenet_v3_large": ("mobilenetv3", "mobilenet_v3_large", {}, 64),
    "mobilenet1.0": ("mobilenet", "mobilenet1_0", {}, 64),
    "se_resnet18_v1": ("se_resnet", "se_resnet18_v1", {}, 64),
    "se_resnext50_32x4d": ("resnext", "se_resnext50_32x4d", {}, 64),
    "resnest14": ("resnest", "resnest14", {}, 64),
    "resnest50": ("resnest", "resnest50", {}, 224),     # its DropBlock's masks are of 224's
    "cifar_resnet20_v1": ("cifarresnet", "cifar_resnet20_v1", {}, 32),
    "squeezenet1.1": ("squeezenet", "squeezenet1_1", {}, 209),
    "densenet121": ("densenet", "densenet121", {}, 221),
    "vgg11_bn": ("vgg", "vgg11_bn", {}, 64),
}

# GluonCV's files the models need, exported as they are
EXPORTED = sorted({f"gluoncv/model_zoo/{module}.py" for module, _, _, _ in MODELS.values()}
                  | {"gluoncv/nn/block.py", "gluoncv/nn/splat.py", "gluoncv/nn/dropblock.py",
                     "gluoncv/nn/gn.py"})

# stand-ins for the package files that import data sets, downloads and detection code
STAND_INS = {
    "gluoncv/__init__.py": '"""GluonCV\'s model code only."""\n',
    "gluoncv/model_zoo/__init__.py": '"""Model files imported one by one."""\n',
    "gluoncv/nn/__init__.py": '"""GluonCV\'s layers."""\nfrom .block import *  # noqa\n'
                              'from .gn import *  # noqa\n',
    "gluoncv/data/__init__.py": '"""Data sets: not exported."""\n',
    "gluoncv/model_zoo/model_store.py":
        '"""Pretrained files: not exported."""\n\n\ndef get_model_file(*args, **kwargs):\n'
        '    raise RuntimeError("pretrained models are not part of this run")\n',
}


def export_gluoncv(clone, tag, folder):
    """GluonCV's model files at `tag` and the stand-ins, written under `folder`."""
    for path in EXPORTED:
        text = subprocess.run(["git", "-C", clone, "show", f"{tag}:{path}"], check=True,
                              capture_output=True, text=True).stdout
        _write(folder, path, text)
    for path, text in STAND_INS.items():
        _write(folder, path, text)


def _write(folder, path, text):
    target = os.path.join(folder, path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as stream:
        stream.write(text)


class MXNetAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`mxnet` and `mxnet.X` resolve to ast_hybrid and `ast_hybrid.X`, the same modules."""

    def find_spec(self, name, path=None, target=None):
        if name != "mxnet" and not name.startswith("mxnet."):
            return None
        real = "ast_hybrid" + name[len("mxnet"):]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        return importlib.import_module("ast_hybrid" + spec.name[len("mxnet"):])

    def exec_module(self, module):
        """The module ran when ast_hybrid imported it."""


def inputs(side):
    """The case's input image."""
    return np.random.RandomState(0).uniform(-1, 1, (1, 3, side, side)).astype("float32")


def batch(x):
    """The training step's batch: `x` and another image (batch statistics of one image
    would be those of a single value at the last stages)."""
    return np.concatenate([x, np.random.RandomState(2).uniform(-1, 1, x.shape)])


def build(mx, name):
    module_name, function, kwargs, side = MODELS[name]
    module = importlib.import_module(f"gluoncv.model_zoo.{module_name}")
    net = getattr(module, function)(**kwargs)
    net.initialize()
    return net, side


def training_step(mx, net, x):
    """A training step on `x` in float64 (the network cast to it): the gradients of (output *
    cotangent).sum() for the input and each parameter, and the running statistics it leaves
    ('KEY:after'). In float64, because a deep network's gradients through batch statistics
    of a small batch are so sensitive to rounding that two float32 computations differ in
    the first digits. Under autograd.record(): batch statistics, dropout drawn from a fixed
    seed. (MXNet's BatchNorm gives the gradient of batch statistics under
    record(train_mode=False) too, where its forward uses the running ones; ast_hybrid gives
    the forward's gradient, so the check is made where both are right.)"""
    net.cast("float64")
    mx.random.seed(0)
    data = mx.nd.array(x, dtype="float64")
    data.attach_grad()
    with mx.autograd.record():
        out = net(data)
        cotangent = np.random.RandomState(1).uniform(-1, 1, out.shape)
        loss = (out * mx.nd.array(cotangent, dtype="float64")).sum()
    loss.backward()
    grads = {"data": data.grad.asnumpy()}
    for key, param in net._collect_params_with_prefix().items():
        if param.grad_req != "null":
            grads[key] = param.grad().asnumpy()
        else:
            grads[key + ":after"] = param.data().asnumpy()
    return grads


def has_dropout(net):
    """Whether a Dropout or DropBlock layer of `net` draws (the two libraries draw different
    masks)."""
    found = []
    net.apply(lambda block: found.append(
        (type(block).__name__ == "Dropout" and block._rate > 0)
        or (type(block).__name__ == "DropBlock" and block.drop_prob > 0)))
    return any(found)


def mxnet_side(folder, names):
    """Under MXNet: each network's parameters file, and its outputs and gradients."""
    import mxnet as mx
    sys.path.insert(0, folder)
    for name in names:
        try:
            net, side = build(mx, name)
            x = inputs(side)
            net(mx.nd.array(x))
            for key, param in net._collect_params_with_prefix().items():
                param.set_data(mx.nd.array(parameter_value(key, param.shape)))
            net.save_parameters(os.path.join(folder, f"{name}.params"))
            out = net(mx.nd.array(x)).asnumpy()
            grads = training_step(mx, net, batch(x))
            np.savez(os.path.join(folder, f"{name}.npz"), out=out,
                     **{"grad:" + key: value for key, value in grads.items()})
        except Exception as error:      # each model's failure is reported, the run goes on
            print(f"MXNet failed on {name}: {type(error).__name__}: {error}")


def _max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))))


def _grads_diff(grads, reference):
    """The largest of each array's max abs difference relative to its largest value (or to a
    millionth of the largest of all, for an array that is zero up to rounding)."""
    if set(grads) != set(reference):
        return f"names differ: {sorted(set(grads) ^ set(reference))[:3]}"
    largest = {key: float(np.max(np.abs(value), initial=0)) for key, value in reference.items()}
    floor = 1e-6 * max(largest.values()) or 1e-30
    return max(_max_diff(grads[key], reference[key]) / max(largest[key], floor)
               for key in grads)


@contextlib.contextmanager
def _step(row, column):
    """A step of a model's check: an exception it raises is written in `row[column]` and
    stops the check (at the end of the with statement)."""
    try:
        yield
    except Exception as error:      # each step's failure is reported, the run goes on
        row[column] = f"{type(error).__name__}: {' '.join(str(error).split())[:160]}"
        row["_tracebacks"].append(traceback.format_exc())


def check_model(mx, folder, name):
    """The figures of one model (a row of the table) under ast_hybrid."""
    row, started = {"_tracebacks": []}, time.perf_counter()
    reference_file = os.path.join(folder, f"{name}.npz")
    if not os.path.exists(reference_file):
        return {"mxnet": "no MXNet record", "_tracebacks": []}
    reference = dict(np.load(reference_file))
    expected = reference.pop("out")
    reference_grads = {key[5:]: value for key, value in reference.items()
                       if key.startswith("grad:")}
    with _step(row, "imports"):
        importlib.import_module(f"gluoncv.model_zoo.{MODELS[name][0]}")
        row["imports"] = True
    with _step(row, "builds"):
        net, side = build(mx, name)
        row["builds"] = True
    if not row.get("builds"):
        return row
    x = inputs(side)
    parameters_file = os.path.join(folder, f"{name}.params")
    with _step(row, "loads MXNet's file"):
        net(mx.nd.array(x))
        net.load_parameters(parameters_file)
        row["loads MXNet's file"] = True
    if not row.get("loads MXNet's file"):
        return row
    with _step(row, "imperative"):
        row["imperative"] = _max_diff(net(mx.nd.array(x)).asnumpy(), expected)
        grads = training_step(mx, net, batch(x))
        row["grads vs MXNet"] = ("dropout" if has_dropout(net)
                                 else _grads_diff(grads, reference_grads))
    if "grads vs MXNet" not in row:
        return row
    for mode, options in (("ast", {"fallback": False}), ("trace", {"mode": "trace"})):
        with _step(row, mode):
            net.cast("float32")
            net.load_parameters(parameters_file)    # the running statistics of the start
            net.hybridize(**options)
            row[mode] = _max_diff(net(mx.nd.array(x)).asnumpy(), expected)
            row[f"{mode} grads vs imperative"] = _grads_diff(
                training_step(mx, net, batch(x)), grads)
    net.cast("float32")
    net.load_parameters(parameters_file)
    with _step(row, "export/import"), tempfile.TemporaryDirectory() as where:
        net.hybridize(mode="trace")
        net(mx.nd.array(x))
        path = os.path.join(where, name)
        net.export(path)
        loaded = mx.gluon.SymbolBlock.imports(f"{path}-symbol.json", ["data"],
                                              f"{path}-0000.params")
        row["export/import"] = _max_diff(loaded(mx.nd.array(x)).asnumpy(), expected)
    row["seconds"] = round(time.perf_counter() - started, 1)
    row["scale"] = float(np.max(np.abs(expected)))
    return row


def ours_side(folder, names, verbose):
    """Under ast_hybrid: a row of figures per model."""
    sys.meta_path.insert(0, MXNetAlias())
    import mxnet as mx
    sys.path.insert(0, folder)
    rows = {}
    for name in names:
        rows[name] = check_model(mx, folder, name)
        if verbose:
            for text in rows[name]["_tracebacks"]:
                print(text)
    return rows


COLUMNS = ("imports", "builds", "loads MXNet's file", "imperative", "ast", "trace",
           "grads vs MXNet", "ast grads vs imperative", "trace grads vs imperative",
           "export/import", "scale", "seconds")


def _cell(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2g}"
    return str(value) if value is not None else "-"


def print_table(rows):
    print("| model | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for name, row in rows.items():
        if "mxnet" in row:
            print(f"| {name} | {row['mxnet']} |")
            continue
        print(f"| {name} | " + " | ".join(_cell(row.get(c)) for c in COLUMNS) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clone", help="a git clone of dmlc/gluon-cv (a bare one will do)")
    parser.add_argument("models", nargs="*", help=f"of {', '.join(MODELS)} (default: all)")
    parser.add_argument("--tag", help="GluonCV's tag (default: its newest 0.x)")
    parser.add_argument("--mxnet-python", default="/tmp/mx/bin/python")
    parser.add_argument("--keep", help="a folder to keep the files in (default: a temporary one)")
    parser.add_argument("--verbose", action="store_true", help="print each failure's traceback")
    parser.add_argument("--side", choices=("mxnet",), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.models or list(MODELS)
    if args.side == "mxnet":
        mxnet_side(args.folder, names)
        return
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"unknown models: {unknown}")
    tag = args.tag or newest_tag(args.clone)
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or temporary
        export_gluoncv(args.clone, tag, folder)
        subprocess.run([args.mxnet_python, os.path.abspath(__file__), args.clone, *names,
                        "--side", "mxnet", "--folder", folder], check=True)
        print(f"GluonCV {tag}")
        print_table(ours_side(folder, names, args.verbose))


def newest_tag(clone):
    tags = subprocess.run(["git", "-C", clone, "tag", "--list", "v0.*"], check=True,
                          capture_output=True, text=True).stdout.split()
    return max(tags, key=lambda tag: tuple(int(part) for part in tag[1:].split(".")))


if __name__ == "__main__":
    main()
