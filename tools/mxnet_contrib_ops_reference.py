"""Record MXNet 1.9.1's outputs and input gradients for the operators whose layouts and edge
rules are subtle (tests/ops/test_contrib_ops.py compares ast_hybrid's with them).

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_contrib_ops_reference.py tests/data/mxnet_contrib_reference.json
(see tools/mxnet_reference.py for installing it). The test imports `scenario` and passes
ast_hybrid in place of mxnet, so both libraries run the same inputs.
"""
import json
import sys

import numpy as np


def _uniform(*shape, low=-1.0, high=1.0):
    return ("uniform", shape, low, high)


def _values(values, dtype="float32"):
    return ("values", values, dtype)


# name: (operator path under nd, inputs, attributes); uniform inputs are differentiable
CASES = {
    "div_sqrt_dim": ("contrib.div_sqrt_dim", [_uniform(2, 3, 8)], {}),
    "arange_like": ("contrib.arange_like", [_uniform(2, 3)], {}),
    "arange_like_axis": ("contrib.arange_like", [_uniform(2, 5)],
                         {"axis": 1, "start": 2.0, "step": 0.5, "repeat": 2}),
    "arange_like_repeat": ("contrib.arange_like", [_uniform(2, 3, 2)], {"repeat": 4}),
    "selfatt_qk": ("contrib.interleaved_matmul_selfatt_qk", [_uniform(4, 2, 18)],
                   {"heads": 2}),
    "selfatt_valatt": ("contrib.interleaved_matmul_selfatt_valatt",
                       [_uniform(4, 2, 18), _uniform(4, 4, 4)], {"heads": 2}),
    "encdec_qk": ("contrib.interleaved_matmul_encdec_qk",
                  [_uniform(3, 2, 6), _uniform(5, 2, 12)], {"heads": 2}),
    "encdec_valatt": ("contrib.interleaved_matmul_encdec_valatt",
                      [_uniform(5, 2, 12), _uniform(4, 3, 5)], {"heads": 2}),
    "adaptive_pool": ("contrib.AdaptiveAvgPooling2D", [_uniform(1, 2, 5, 7)],
                      {"output_size": (3, 4)}),
    "adaptive_pool_square": ("contrib.AdaptiveAvgPooling2D", [_uniform(2, 1, 6, 4)],
                             {"output_size": 4}),
    "adaptive_pool_global": ("contrib.AdaptiveAvgPooling2D", [_uniform(1, 2, 3, 5)], {}),
    "resize_up": ("contrib.BilinearResize2D", [_uniform(1, 2, 4, 5)],
                  {"height": 7, "width": 3}),
    "resize_not_aligned": ("contrib.BilinearResize2D", [_uniform(1, 2, 4, 5)],
                           {"height": 3, "width": 8, "align_corners": False}),
    "resize_scale": ("contrib.BilinearResize2D", [_uniform(1, 1, 4, 6)],
                     {"scale_height": 1.5, "scale_width": 0.5}),
    "resize_odd_scale": ("contrib.BilinearResize2D", [_uniform(1, 1, 5, 4)],
                         {"scale_height": 2.0, "scale_width": 2.0, "mode": "odd_scale"}),
    "resize_to_even_up": ("contrib.BilinearResize2D", [_uniform(1, 1, 5, 4)],
                          {"mode": "to_even_up"}),
    "resize_to_odd_down": ("contrib.BilinearResize2D", [_uniform(1, 1, 5, 4)],
                           {"mode": "to_odd_down", "align_corners": False}),
    "resize_like": ("contrib.BilinearResize2D", [_uniform(1, 2, 3, 3), _values(
        np.zeros((1, 1, 5, 2)).tolist())], {"mode": "like"}),
    "sequence_mask": ("SequenceMask", [_uniform(4, 3, 2), _values([1, 3, 4])],
                      {"use_sequence_length": True, "value": -1.0}),
    "sequence_mask_axis1": ("SequenceMask", [_uniform(3, 4, 2), _values([0, 2.7, 6])],
                            {"use_sequence_length": True, "axis": 1}),
    "sequence_mask_plain": ("SequenceMask", [_uniform(3, 2)], {}),
    "sequence_last": ("SequenceLast", [_uniform(4, 3, 2), _values([1, 3, 4])],
                      {"use_sequence_length": True}),
    "sequence_last_axis1": ("SequenceLast", [_uniform(3, 4, 2), _values([2, 1.5, 4])],
                            {"use_sequence_length": True, "axis": 1}),
    "sequence_last_plain": ("SequenceLast", [_uniform(4, 3, 2)], {}),
    "sequence_reverse": ("SequenceReverse", [_uniform(4, 3, 2), _values([0, 2, 4])],
                         {"use_sequence_length": True}),
    "sequence_reverse_plain": ("SequenceReverse", [_uniform(4, 3, 2)], {}),
    "softmax_length": ("softmax", [_uniform(2, 3, 5), _values(
        [[1, 5, 3], [0, 2, 4]], "int32")], {"use_length": True}),
    "softmax_length_axis1": ("softmax", [_uniform(2, 4, 3), _values(
        [[1, 4, 2], [3, 0, 4]], "int32")], {"use_length": True, "axis": 1,
                                             "temperature": 2.0}),
    "gather_nd": ("gather_nd", [_uniform(3, 4, 2), _values([[0, 2, 2, 0], [1, 3, 0, 1]])],
                  {}),
    "gather_nd_negative": ("gather_nd", [_uniform(3, 4), _values([[0, -1, -3], [-4, 1, 3]])],
                           {}),
    "gather_nd_full": ("gather_nd", [_uniform(3, 4), _values([[[0, 2], [1, 1]],
                                                              [[3, 0], [2, 2]]])], {}),
    "scatter_nd": ("scatter_nd", [_uniform(3, 2), _values([[0, 3, 2]])], {"shape": (4, 2)}),
    "scatter_nd_full": ("scatter_nd", [_uniform(2, 2), _values([[[0, 1], [1, 0]],
                                                                [[2, 0], [1, 1]]])],
                        {"shape": (2, 3)}),
    "scatter_nd_repeated": ("scatter_nd", [_uniform(2, 2), _values([[[0, 1], [1, 0]],
                                                                    [[2, 0], [1, 2]]])],
                            {"shape": (2, 3)}),
    "shape_array": ("shape_array", [_uniform(2, 3, 4)], {}),
    "size_array": ("size_array", [_uniform(2, 3, 4)], {}),
    "erf": ("erf", [_uniform(3, 4, low=-3, high=3)], {}),
    "erfinv": ("erfinv", [_uniform(3, 4, low=-0.95, high=0.95)], {}),
    "reshape_like": ("reshape_like", [_uniform(6, 7), _values(np.zeros((3, 2, 4)).tolist())],
                     {"lhs_begin": 0, "lhs_end": 1, "rhs_begin": 0, "rhs_end": 2}),
    "reshape_like_tail": ("reshape_like", [_uniform(2, 3, 4), _values(
        np.zeros((5, 12)).tolist())], {"lhs_begin": -2, "rhs_begin": 1}),
    "broadcast_like_axes": ("broadcast_like", [_uniform(1, 3, 1), _values(
        np.zeros((2, 3, 4)).tolist())], {"lhs_axes": (0, 2), "rhs_axes": (0, -1)}),
    "slice_like": ("slice_like", [_uniform(3, 4, 5), _values(np.zeros((2, 3, 5)).tolist())],
                   {}),
    "slice_like_axes": ("slice_like", [_uniform(3, 4, 5), _values(np.zeros((2, 2)).tolist())],
                        {"axes": (0, -2)}),
}
# no gradient to record: integer results, and where MXNet 1.9.1's backward disagrees with its
# own forward (the tests check ours by finite differences): SequenceLast without lengths
# writes wrong values and corrupts memory, gather_nd drops negative indices' gradients and
# scatter_nd gives gradient to the elements a repeated index overwrote
VALUES_ONLY = {"shape_array", "size_array", "arange_like", "arange_like_axis",
               "arange_like_repeat", "sequence_last_plain", "gather_nd_negative",
               "scatter_nd_repeated"}


def scenario(mx, name):
    """The output of case `name` and, for its uniform inputs, their gradients under the output
    gradient drawn after the inputs."""
    nd, autograd = mx.nd, mx.autograd
    path, specs, attrs = CASES[name]
    function = nd
    for part in path.split("."):
        function = getattr(function, part)
    rng = np.random.RandomState(sorted(CASES).index(name))
    inputs, differentiable = [], []
    for spec in specs:
        if spec[0] == "uniform":
            array = nd.array(rng.uniform(spec[2], spec[3], spec[1]).astype("float32"))
            if name not in VALUES_ONLY:
                array.attach_grad()
                differentiable.append(array)
        else:
            array = nd.array(np.array(spec[1], dtype=spec[2]), dtype=spec[2])
        inputs.append(array)
    if name in VALUES_ONLY:
        return {"output": function(*inputs, **attrs).asnumpy().tolist(), "gradients": []}
    with autograd.record():
        output = function(*inputs, **attrs)
    out_grad = rng.uniform(-1, 1, output.shape).astype("float32")
    output.backward(nd.array(out_grad))
    return {"output": output.asnumpy().tolist(),
            "gradients": [a.grad.asnumpy().tolist() for a in differentiable]}


def graph_inputs():
    """The inputs of the graph MXNet writes: name -> (values, dtype)."""
    rng = np.random.RandomState(7)
    return {"qkv": (rng.uniform(-1, 1, (4, 2, 18)).tolist(), "float32"),
            "scores_length": ([[4, 1, 2, 3], [2, 2, 4, 1], [3, 4, 4, 4], [1, 2, 3, 4]],
                              "int32"),
            "steps": ([3, 1], "float32"),
            "image": (rng.uniform(-1, 1, (1, 2, 4, 5)).tolist(), "float32"),
            "indices": ([[0, 1, 1], [5, 0, 3]], "float32")}


def graph(sym):
    """A graph of the operators (MXNet's sym or ast_hybrid's), its inputs named as in
    graph_inputs."""
    qkv, steps, image, indices = (sym.var(n) for n in ("qkv", "steps", "image", "indices"))
    scores = sym.contrib.interleaved_matmul_selfatt_qk(qkv, heads=2)
    att = sym.softmax(scores, length=sym.var("scores_length"), use_length=True)
    values = sym.erf(sym.contrib.div_sqrt_dim(
        sym.contrib.interleaved_matmul_selfatt_valatt(qkv, att, heads=2)))
    masked = sym.SequenceMask(values, steps, use_sequence_length=True, value=0.5)
    last = sym.SequenceLast(sym.SequenceReverse(masked, steps, use_sequence_length=True),
                            steps, use_sequence_length=True)
    resized = sym.contrib.BilinearResize2D(image, height=6, width=3, align_corners=False)
    pooled = sym.contrib.AdaptiveAvgPooling2D(resized, output_size=(2,))
    picked = sym.gather_nd(sym.reshape_like(resized, image, lhs_begin=0, lhs_end=2,
                                            rhs_begin=1, rhs_end=2), indices)
    return sym.Group([last, pooled, picked,
                      sym.scatter_nd(picked, indices, shape=(2, 6, 3)),
                      sym.slice_like(resized, pooled, axes=(2, 3)),
                      sym.contrib.arange_like(image, axis=-1, step=0.5),
                      sym.broadcast_like(sym.sum(pooled, axis=(2, 3), keepdims=True), resized,
                                         lhs_axes=(2, 3), rhs_axes=(2, 3)),
                      sym.erfinv(sym.tanh(pooled)), sym.shape_array(image)])


def graph_scenario(mx):
    """MXNet's JSON of `graph` and its outputs on graph_inputs."""
    graph_symbol = graph(mx.sym)
    inputs = {name: mx.nd.array(np.array(v, dtype=d), dtype=d)
              for name, (v, d) in graph_inputs().items()}
    outputs = graph_symbol.eval(ctx=mx.cpu(), **inputs)
    return {"json": graph_symbol.tojson(), "outputs": [o.asnumpy().tolist() for o in outputs]}


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__,
                 "cases": {name: scenario(mx, name) for name in CASES},
                 "graph": graph_scenario(mx)}
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
