"""Record which of MXNet 1.9.1's array results share memory with their input.

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_aliasing_reference.py tests/data/mxnet_aliasing_reference.json
(see tools/mxnet_reference.py for installing it). tests/test_aliasing.py imports `CASES` and
runs them with ast_hybrid in place of mxnet.

Each case makes a result from a source array, writes into the result, and records whether the
source changed, and (the other way) whether a write into the source shows in the result.
"""
import json
import sys

SHAPE = (2, 1, 3)

# name -> function of (mx, x) giving the result
CASES = {
    "reshape_method": lambda mx, x: x.reshape((6,)),
    "reshape_operator": lambda mx, x: mx.nd.reshape(x, shape=(6,)),
    "Reshape_operator": lambda mx, x: mx.nd.Reshape(x, shape=(3, 2)),
    "flatten_method": lambda mx, x: x.flatten(),
    "Flatten_operator": lambda mx, x: mx.nd.Flatten(x),
    "transpose_property": lambda mx, x: x.T,
    "transpose_operator": lambda mx, x: mx.nd.transpose(x, axes=(2, 0, 1)),
    "swapaxes": lambda mx, x: mx.nd.swapaxes(x, 0, 2),
    "squeeze_method": lambda mx, x: x.squeeze(),
    "squeeze_method_inplace": lambda mx, x: x.squeeze(inplace=True),
    "squeeze_operator": lambda mx, x: mx.nd.squeeze(x, axis=1),
    "expand_dims_method": lambda mx, x: x.expand_dims(0),
    "expand_dims_method_inplace": lambda mx, x: x.expand_dims(0, inplace=True),
    "expand_dims_operator": lambda mx, x: mx.nd.expand_dims(x, axis=0),
    "slice_axis": lambda mx, x: mx.nd.slice_axis(x, axis=0, begin=0, end=1),
    "slice": lambda mx, x: mx.nd.slice(x, begin=(0, 0, 1), end=(2, 1, 3)),
    "split": lambda mx, x: mx.nd.split(x, num_outputs=2, axis=0)[0],
    "index_first_axis": lambda mx, x: x[1],
    "slice_first_axis": lambda mx, x: x[0:1],
    "astype_same_dtype": lambda mx, x: x.astype("float32"),
    "astype_same_dtype_no_copy": lambda mx, x: x.astype("float32", copy=False),
    "identity": lambda mx, x: mx.nd.identity(x),
    "copy": lambda mx, x: x.copy(),
    "stop_gradient": lambda mx, x: mx.nd.stop_gradient(x),
    "Dropout_predict": lambda mx, x: mx.nd.Dropout(x, p=0.5),
    "broadcast_to_same_shape": lambda mx, x: mx.nd.broadcast_to(x, shape=SHAPE),
    "reshape_like": lambda mx, x: mx.nd.reshape_like(x, mx.nd.zeros((6,))),
    "relu": lambda mx, x: mx.nd.relu(x),
}


def run_case(mx, name):
    """(source changed by a write into the result, result changed by a write into the
    source)."""
    x = mx.nd.ones(SHAPE)
    result = CASES[name](mx, x)
    result[:] = 5
    source_changed = bool((x.asnumpy() == 5).any())
    x = mx.nd.ones(SHAPE)
    result = CASES[name](mx, x)
    x[:] = 7
    result_changed = bool((result.asnumpy() == 7).any())
    return [source_changed, result_changed]


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__,
                 "cases": {name: run_case(mx, name) for name in CASES}}
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
