"""Record MXNet 1.9.1's outputs and gradients of the transposed convolution, instance and group
normalization, padding and channel-last layers, for tests/gluon/test_mxnet_layers.py.

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    python3 -m venv /tmp/mx && /tmp/mx/bin/pip install mxnet==1.9.1 'numpy<1.24'
    /tmp/mx/bin/python tools/mxnet_layers_reference.py tests/data/mxnet_layers_reference.json
The test imports this file's `run_case` and passes ast_hybrid's modules in place of MXNet's.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

# name -> (layer class, positional args, keyword args, input shape)
LAYER_CASES = {
    "conv2d_transpose": ("Conv2DTranspose", (6, 3), dict(strides=2, padding=1,
                         output_padding=1, groups=2, in_channels=4), (2, 4, 3, 3)),
    "conv2d_transpose_dilated": ("Conv2DTranspose", (3, (2, 3)), dict(
        strides=(1, 2), dilation=2, use_bias=False, activation="relu"), (2, 2, 4, 3)),
    "conv1d_transpose": ("Conv1DTranspose", (4, 3), dict(strides=2, padding=1), (2, 3, 5)),
    "conv3d_transpose": ("Conv3DTranspose", (2, 2), dict(strides=2, output_padding=(1, 0, 1)),
                         (1, 3, 2, 3, 2)),
    "instance_norm": ("InstanceNorm", (), dict(in_channels=3, scale=True), (2, 3, 4, 5)),
    "instance_norm_axis2": ("InstanceNorm", (), dict(axis=2, scale=True, epsilon=1e-3),
                            (2, 5, 3, 4)),
    "group_norm": ("GroupNorm", (2,), {}, (2, 4, 3, 3)),
    "group_norm_3d": ("GroupNorm", (3,), dict(epsilon=1e-3), (2, 6, 5)),
    "reflection_pad": ("ReflectionPad2D", (2,), {}, (1, 2, 4, 5)),
    "reflection_pad_tuple": ("ReflectionPad2D", ((0, 0, 0, 0, 1, 2, 3, 0),), {}, (2, 1, 4, 5)),
    # channel-last layouts, as MXNet 1.9.1 takes them (or refuses them) on CPU
    "conv1d_nwc": ("Conv1D", (4, 3), dict(layout="NWC"), (2, 6, 3)),
    "conv2d_nhwc": ("Conv2D", (4, 3), dict(layout="NHWC", padding=1), (2, 5, 5, 3)),
    "conv3d_ndhwc": ("Conv3D", (2, 2), dict(layout="NDHWC"), (1, 3, 3, 3, 2)),
    "conv2d_transpose_nhwc": ("Conv2DTranspose", (4, 3), dict(layout="NHWC"), (2, 3, 3, 2)),
    "maxpool1d_nwc": ("MaxPool1D", (2,), dict(layout="NWC"), (2, 6, 3)),
    "maxpool2d_nhwc": ("MaxPool2D", (2,), dict(layout="NHWC"), (2, 4, 6, 3)),
    "avgpool2d_nhwc": ("AvgPool2D", (3,), dict(layout="NHWC", strides=1, padding=1),
                       (2, 4, 5, 3)),
    "maxpool3d_ndhwc": ("MaxPool3D", (2,), dict(layout="NDHWC"), (1, 4, 4, 2, 3)),
    "globalavgpool2d_nhwc": ("GlobalAvgPool2D", (), dict(layout="NHWC"), (2, 3, 4, 5)),
}

# name -> (operator, input shapes, attributes): operators called directly
OP_CASES = {
    # MXNet 1.9.1's CPU build refuses target_shape (its oneDNN primitive fails): recorded
    "deconv_target_shape": ("Deconvolution", [(2, 2, 4, 3), (2, 3, 3, 3)],
                            dict(kernel=(3, 3), stride=(2, 2), target_shape=(8, 6),
                                 num_filter=3)),
    "deconv_bias_groups": ("Deconvolution", [(1, 4, 3, 4), (4, 1, 2, 2), (2,)],
                           dict(kernel=(2, 2), stride=(2, 1), pad=(0, 1), num_filter=2,
                                num_group=2, no_bias=False)),
    "group_norm_mean_var": ("GroupNorm", [(2, 6, 3), (3,), (3,)],
                            dict(num_groups=3, eps=1e-3, output_mean_var=True)),
    "pad_constant": ("pad", [(1, 2, 3, 4)], dict(mode="constant", constant_value=1.5,
                                                 pad_width=(0, 0, 0, 0, 1, 2, 0, 1))),
    "pad_edge": ("pad", [(1, 2, 3, 2, 2)], dict(mode="edge",
                                                pad_width=(0, 0, 0, 0, 2, 1, 0, 1, 1, 1))),
    "pad_reflect": ("pad", [(2, 1, 3, 4)], dict(mode="reflect",
                                                pad_width=(0, 0, 0, 0, 2, 1, 1, 3))),
}


def _values(rng, shape):
    return rng.uniform(-1, 1, shape).astype("float32")


def run_case(mx, name, hybridize=None):
    """One layer case: outputs, the data's and parameters' gradients (for a fixed head
    gradient), parameter names and shapes, and the operator nodes of the exported graph.
    `hybridize` (a dict of options, or None for imperative) hybridizes before the calls.
    Returns {"error": type name} where the layer or its call raises."""
    nd, autograd, nn = mx.nd, mx.autograd, mx.gluon.nn
    cls, args, kwargs, shape = LAYER_CASES[name]
    rng = np.random.RandomState(sum(map(ord, name)))
    try:
        net = getattr(nn, cls)(*args, **kwargs)
        net.initialize()
        x = nd.array(_values(rng, shape))
        net(x).asnumpy()          # MXNet raises a kernel's error when the value is read
    except Exception as err:   # noqa: BLE001  (the refusal's type is the record)
        return {"error": type(err).__name__}
    params = net.collect_params()
    names = sorted(params.keys())
    for key in names:
        params[key].set_data(nd.array(_values(rng, params[key].shape) + 0.5))
    if hybridize is not None:
        net.hybridize(**hybridize)
    x.attach_grad()
    with autograd.record():
        y = net(x)
    head = _values(rng, y.shape)
    y.backward(nd.array(head))
    result = {"input": x.asnumpy().tolist(), "output": y.asnumpy().tolist(),
              "head": head.tolist(), "data_grad": x.grad.asnumpy().tolist(),
              "params": {k: list(params[k].shape) for k in names},
              "param_values": {k: params[k].data().asnumpy().tolist() for k in names},
              "param_grads": {k: params[k].grad().asnumpy().tolist() for k in names
                              if params[k].grad_req != "null"}}
    if hybridize is None:
        result["nodes"], result["symbol_json"] = _exported(net, x)
    return result


def _exported(net, x):
    """The exported graph's operator nodes [op, attrs], and the graph's text."""
    net.hybridize()
    net(x)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "net")
        net.export(path)
        with open(path + "-symbol.json") as stream:
            text = stream.read()
    graph = json.loads(text)
    return [[node["op"], node.get("attrs", {})] for node in graph["nodes"]
            if node["op"] != "null"], text


def run_op_case(mx, name):
    """One operator case: output and every input's gradient for a fixed head gradient."""
    nd, autograd = mx.nd, mx.autograd
    op, shapes, attrs = OP_CASES[name]
    rng = np.random.RandomState(sum(map(ord, name)))
    inputs = [nd.array(_values(rng, s)) for s in shapes]
    try:
        first = getattr(nd, op)(*inputs, **attrs)
        (first[0] if isinstance(first, (list, tuple)) else first).asnumpy()
    except Exception as err:   # noqa: BLE001  (the refusal's type is the record)
        return {"error": type(err).__name__}
    for array in inputs:
        array.attach_grad()
    with autograd.record():
        y = getattr(nd, op)(*inputs, **attrs)
    outputs = list(y) if isinstance(y, (list, tuple)) else [y]
    head = _values(rng, outputs[0].shape)
    outputs[0].backward(nd.array(head))    # the gradient through the first output
    return {"inputs": [a.asnumpy().tolist() for a in inputs],
            "output": outputs[0].asnumpy().tolist(),
            "extra_outputs": [o.asnumpy().tolist() for o in outputs[1:]],
            "head": head.tolist(), "grads": [a.grad.asnumpy().tolist() for a in inputs]}


def _in_own_process(kind, name):
    """A case run by a fresh interpreter: MXNet's engine raises an asynchronous kernel error
    again in later, unrelated calls of the process that saw it."""
    done = subprocess.run([sys.executable, __file__, "--case", kind, name], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__,
                 "layers": {name: _in_own_process("layer", name) for name in LAYER_CASES},
                 "ops": {name: _in_own_process("op", name) for name in OP_CASES}}
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=0)


if __name__ == "__main__":
    if sys.argv[1] == "--case":
        import mxnet
        run = run_case if sys.argv[2] == "layer" else run_op_case
        print(json.dumps(run(mxnet, sys.argv[3])))
    else:
        main(sys.argv[1])
