"""Record MXNet 1.9.1's model zoo (vision) for tests/gluon/test_model_zoo.py: each network's
parameter names and shapes, and its output on a fixed input with weights set by a rule of
each parameter's structural name and shape; and the contrib pixel shuffles' outputs.

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_model_zoo_reference.py tests/data/mxnet_model_zoo_reference.json
(see tools/mxnet_reference.py for installing it). The test imports this file's functions and
passes ast_hybrid in place of mxnet. Each network is made in a fresh `mx.name.NameManager()`,
so its names are those of a fresh process (`resnetv10_conv0_weight`).
"""
import base64
import json
import os
import sys
import tempfile
import zlib

import numpy as np

# get_model name -> (side of the square images it is made for, side of the numeric case's
# input: the smallest the architecture takes where that is cheap, its own size where its
# final fixed-size pool needs it)
NETWORKS = {
    **{f"resnet{depth}_v{version}": (224, 32)
       for version in (1, 2) for depth in (18, 34, 50, 101, 152)},
    **{f"vgg{depth}{suffix}": (224, 32)
       for suffix in ("", "_bn") for depth in (11, 13, 16, 19)},
    "alexnet": (224, 63),
    **{f"densenet{depth}": (224, 221) for depth in (121, 161, 169, 201)},
    "squeezenet1.0": (224, 224),
    "squeezenet1.1": (224, 209),
    "inceptionv3": (299, 299),
    **{f"mobilenet{m}": (224, 32) for m in ("1.0", "0.75", "0.5", "0.25")},
    **{f"mobilenetv2_{m}": (224, 32) for m in ("1.0", "0.75", "0.5", "0.25")},
}

# networks whose graph, as MXNet exports it for the numeric case, is recorded too
EXPORTED = ("squeezenet1.1",)

# name -> dtype of the arrays of the small MXNet parameter file recorded (every type flag
# a parameter file may hold; a structural name, as save_parameters writes)
FILE_ARRAYS = {"features.0.weight": "float32", "features.1.gamma": "float64",
               "half": "float16", "bytes": "uint8", "ints": "int32", "small_ints": "int8",
               "longs": "int64", "mask": "bool"}

# name -> (layer, factor, input shape)
PIXEL_SHUFFLES = {
    "pixel_shuffle_1d": ("PixelShuffle1D", 2, (2, 6, 3)),
    "pixel_shuffle_2d": ("PixelShuffle2D", (2, 3), (1, 12, 3, 2)),
    "pixel_shuffle_3d": ("PixelShuffle3D", (2, 3, 2), (1, 24, 2, 1, 3)),
}

# the numeric cases' output width: every feature reaches each output through random
# weights, so ten outputs see what a thousand do, at a hundredth of the record's size
NUMERIC_CLASSES = 10


def parameter_value(structural_name, shape):
    """The value the records give a parameter: drawn from a generator seeded by its name
    (save_parameters' structural name, the same in both libraries), scaled so activations
    stay of order one: weights with variance 1 / fan-in, batch norm scales and variances
    near one, shifts and means near zero."""
    rng = np.random.RandomState(zlib.crc32(structural_name.encode()))
    kind = structural_name.rsplit(".", 1)[-1]
    if kind == "weight":
        fan_in = int(np.prod(shape[1:]))
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype("float32")
    if kind in ("gamma", "running_var"):
        return rng.uniform(0.8, 1.2, shape).astype("float32")
    return rng.uniform(-0.1, 0.1, shape).astype("float32")


def image(side):
    """The numeric case's input: one image of `side` x `side`."""
    return np.random.RandomState(0).uniform(-1, 1, (1, 3, side, side)).astype("float32")


def build(mx, name, **kwargs):
    """The network `name` made with `kwargs`, named as in a fresh process."""
    with mx.name.NameManager():
        return mx.gluon.model_zoo.vision.get_model(name, **kwargs)


def make(mx, name, **kwargs):
    """The network `name` made with `kwargs` and initialized (with zeros: set_parameters
    gives the values, and drawing random ones first would take longer)."""
    net = build(mx, name, **kwargs)
    net.initialize(mx.init.Zero())
    return net


def set_parameters(mx, net):
    """Every parameter (shapes known) set by parameter_value."""
    for key, param in net._collect_params_with_prefix().items():
        param.set_data(mx.nd.array(parameter_value(key, param.shape)))


def shapes(net):
    """[[name, shape], ...] of the network's parameters, sorted by name."""
    return [[key, list(param.shape)] for key, param in sorted(net.collect_params().items())]


def numeric_output(mx, net, name):
    """The output on the case's input, the parameters set by the rule after a first call
    (which gives the deferred shapes)."""
    x = mx.nd.array(image(NETWORKS[name][1]))
    net(x)
    set_parameters(mx, net)
    return net(x).asnumpy()


def pixel_shuffle(mx, name):
    layer, factor, shape = PIXEL_SHUFFLES[name]
    block = getattr(mx.gluon.contrib.nn, layer)(factor)
    x = mx.nd.array(np.arange(np.prod(shape), dtype="float32").reshape(shape))
    return block(x).asnumpy()


def record_network(mx, name):
    """Names and shapes at the network's own image size, then the numeric case. Names are
    stored without the network's prefix (the first name's up to its first '_')."""
    net = make(mx, name)
    net(mx.nd.array(np.zeros((1, 3) + (NETWORKS[name][0],) * 2, dtype="float32")))
    listed = shapes(net)
    prefix = listed[0][0].split("_", 1)[0] + "_"
    assert all(key.startswith(prefix) for key, _ in listed)
    net = make(mx, name, classes=NUMERIC_CLASSES)
    output = numeric_output(mx, net, name)
    record = {"prefix": prefix, "params": [[key[len(prefix):], shape] for key, shape in listed],
              "output": [float(f"{v:.7g}") for v in output.ravel()],
              "output_shape": list(output.shape)}
    if name in EXPORTED:
        record["symbol_json"] = exported_graph(mx, net, name)
    return record


def exported_graph(mx, net, name):
    """The graph `net.export` writes after a hybridized call, without its indentation."""
    net.hybridize()
    net(mx.nd.array(image(NETWORKS[name][1])))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "net")
        net.export(path)
        with open(path + "-symbol.json") as stream:
            return json.dumps(json.load(stream), separators=(",", ":"))


def file_arrays():
    """The arrays of the recorded MXNet file: small, of each dtype, of 1 to 4 dimensions."""
    rng = np.random.RandomState(3)
    shapes = [(2, 3, 1, 1), (3,), (2, 2), (5,), (2, 1, 2), (4,), (3,), (2, 3)]
    return {name: (rng.uniform(-100, 100, shape) if dtype != "bool"
                   else rng.uniform(size=shape) > 0.5).astype(dtype)
            for (name, dtype), shape in zip(FILE_ARRAYS.items(), shapes)}


def mxnet_file(mx):
    """The bytes MXNet's nd.save writes for file_arrays(), in base64."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "arrays.params")
        mx.nd.save(path, {name: mx.nd.array(value, dtype=value.dtype)
                          for name, value in file_arrays().items()})
        with open(path, "rb") as stream:
            return base64.b64encode(stream.read()).decode("ascii")


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__,
                 "networks": {name: record_network(mx, name) for name in NETWORKS},
                 "pixel_shuffles": {name: pixel_shuffle(mx, name).tolist()
                                    for name in PIXEL_SHUFFLES},
                 "mxnet_file": mxnet_file(mx)}
    with open(path, "w") as stream:
        json.dump(reference, stream, separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv[1])
