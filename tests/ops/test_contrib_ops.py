"""The contrib, attention, resizing, gather/scatter, shape and erf operators against plain
numpy written here and MXNet 1.9.1's recorded numbers (finite differences of their gradients:
tests/autograd/test_op_grads.py)."""
import importlib.util
import json
import math
import os

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import nd, sym
from ast_hybrid.gluon import SymbolBlock
from ast_hybrid.ops import OpError, get
from optest import rand, run_op, shape_fails

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..")


def _reference_module():
    path = os.path.join(ROOT, "tools", "mxnet_contrib_ops_reference.py")
    spec = importlib.util.spec_from_file_location("mxnet_contrib_ops_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFERENCE = _reference_module()
with open(os.path.join(ROOT, "tests", "data", "mxnet_contrib_reference.json")) as _stream:
    RECORDED = json.load(_stream)
GRAPH = RECORDED["graph"]


def input_grads(name, arrays, **attrs):
    """The declared gradient of each input for an output gradient of ones."""
    op = get(name)
    parsed = op.parse_attrs(attrs)
    outputs = [op.kernel(*arrays, **parsed)]
    return op.grad(parsed, arrays, outputs, [np.ones_like(outputs[0])])


@pytest.mark.parametrize("name", sorted(REFERENCE.CASES))
def test_matches_mxnet(name):
    got, want = REFERENCE.scenario(ast_hybrid, name), RECORDED["cases"][name]
    np.testing.assert_allclose(got["output"], want["output"], rtol=1e-5, atol=1e-6)
    assert len(got["gradients"]) == len(want["gradients"])
    for g, w in zip(got["gradients"], want["gradients"]):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def _graph_arrays():
    return {name: nd.array(np.array(values, dtype=dtype), dtype=dtype)
            for name, (values, dtype) in REFERENCE.graph_inputs().items()}


@pytest.mark.parametrize("mode", [None, "ast", "trace"])
def test_graph_written_by_mxnet_loads_and_runs(tmp_path, mode):
    path = tmp_path / "contrib-symbol.json"
    path.write_text(GRAPH["json"])
    arrays = _graph_arrays()
    block = SymbolBlock.imports(str(path), list(arrays))
    if mode is not None:
        block.hybridize(mode=mode, fallback=False)
    got = block(*arrays.values())
    assert len(got) == len(GRAPH["outputs"])
    for g, w in zip(got, GRAPH["outputs"]):
        np.testing.assert_allclose(g.asnumpy(), w, rtol=1e-5, atol=1e-6)


def test_graph_built_here_computes_mxnet_values():
    graph = REFERENCE.graph(sym)
    arrays = _graph_arrays()
    block = SymbolBlock(graph, [sym.var(name) for name in arrays])
    for g, w in zip(block(*arrays.values()), GRAPH["outputs"]):
        np.testing.assert_allclose(g.asnumpy(), w, rtol=1e-5, atol=1e-6)


def test_contrib_names_in_every_namespace():
    x = nd.array(rand(2, 4))
    np.testing.assert_allclose(nd.contrib.div_sqrt_dim(x).asnumpy(), x.asnumpy() / 2)
    graph = sym.contrib.div_sqrt_dim(sym.var("x"))
    assert '"op": "_contrib_div_sqrt_dim"' in graph.tojson()
    assert graph.name == "div_sqrt_dim0"       # MXNet names a contrib node by its short name
    assert not hasattr(nd.contrib, "relu")


# ----- plain numpy references
def _heads(x, heads, parts, part):
    """MXNet's documented equivalent: reshape (0, 0, heads, parts, -1), pick the part,
    transpose (1, 2, 0, 3), merge batch and heads."""
    steps, batch, _ = x.shape
    chosen = x.reshape(steps, batch, heads, parts, -1)[:, :, :, part]
    return chosen.transpose(1, 2, 0, 3).reshape(batch * heads, steps, -1)


def test_interleaved_matmuls_against_their_documented_equivalents():
    qkv, heads = rand(4, 3, 2 * 3 * 5), 2
    q, k, v = (_heads(qkv, heads, 3, i) for i in range(3))
    (scores,) = run_op("_contrib_interleaved_matmul_selfatt_qk", qkv, heads=heads)
    np.testing.assert_allclose(scores, q @ k.transpose(0, 2, 1) / np.sqrt(5), rtol=1e-5)
    att = rand(6, 4, 4, seed=1)
    (out,) = run_op("_contrib_interleaved_matmul_selfatt_valatt", qkv, att, heads=heads)
    want = (att @ v).reshape(3, heads, 4, 5).transpose(2, 0, 1, 3).reshape(4, 3, heads * 5)
    np.testing.assert_allclose(out, want, rtol=1e-5)
    queries, kv = rand(2, 3, heads * 5, seed=2), rand(4, 3, heads * 2 * 5, seed=3)
    (scores,) = run_op("_contrib_interleaved_matmul_encdec_qk", queries, kv, heads=heads)
    want = _heads(queries, heads, 1, 0) @ _heads(kv, heads, 2, 0).transpose(0, 2, 1)
    np.testing.assert_allclose(scores, want / np.sqrt(5), rtol=1e-5)
    att = rand(6, 2, 4, seed=4)
    (out,) = run_op("_contrib_interleaved_matmul_encdec_valatt", kv, att, heads=heads)
    want = (att @ _heads(kv, heads, 2, 1)).reshape(3, heads, 2, 5).transpose(2, 0, 1, 3)
    np.testing.assert_allclose(out, want.reshape(2, 3, heads * 5), rtol=1e-5)


def test_interleaved_matmul_shape_errors():
    shape_fails("_contrib_interleaved_matmul_selfatt_qk", [(3, 2, 10)], "multiple", heads=2)
    shape_fails("_contrib_interleaved_matmul_selfatt_valatt", [(3, 2, 12), (4, 2, 2)],
                "attention", heads=2)
    shape_fails("_contrib_interleaved_matmul_encdec_qk", [(3, 2, 4), (5, 2, 4)], "twice",
                heads=2)


def test_div_sqrt_dim():
    x = rand(2, 3, 9)
    (out,) = run_op("_contrib_div_sqrt_dim", x)
    np.testing.assert_allclose(out, x / 3, rtol=1e-6)


@pytest.mark.parametrize("attrs, want", [
    ({}, np.arange(6.0).reshape(2, 3)),
    ({"axis": -1, "start": 1.0, "step": 2.0}, np.array([1.0, 3.0, 5.0])),
    ({"repeat": 4}, np.array([[0.0, 0, 0], [0, 1, 1]]))])
def test_arange_like(attrs, want):
    (out,) = run_op("_contrib_arange_like", rand(2, 3), **attrs)
    np.testing.assert_array_equal(out, want)


def _naive_adaptive(x, out_h, out_w):
    n, c, h, w = x.shape
    out = np.zeros((n, c, out_h, out_w), dtype=np.float64)
    for i in range(out_h):
        for j in range(out_w):
            h0, h1 = math.floor(i * h / out_h), math.ceil((i + 1) * h / out_h)
            w0, w1 = math.floor(j * w / out_w), math.ceil((j + 1) * w / out_w)
            out[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return out


@pytest.mark.parametrize("output_size, target", [((), (1, 1)), ((3,), (3, 3)),
                                                 ((4, 2), (4, 2)), ((7, 5), (7, 5))])
def test_adaptive_avg_pooling(output_size, target):
    x = rand(2, 3, 7, 5)
    (out,) = run_op("_contrib_AdaptiveAvgPooling2D", x, output_size=output_size)
    np.testing.assert_allclose(out, _naive_adaptive(x, *target), rtol=1e-5, atol=1e-6)


def _naive_bilinear(x, out_h, out_w, align_corners):
    _, _, h, w = x.shape

    def source(i, size, out_size):
        if out_size == 1:
            return 0.0
        if align_corners:
            return i * (size - 1) / (out_size - 1)
        return max((i + 0.5) * size / out_size - 0.5, 0.0)

    out = np.zeros(x.shape[:2] + (out_h, out_w))
    for i in range(out_h):
        y = source(i, h, out_h)
        y0 = int(y)
        y1, dy = min(y0 + 1, h - 1), y - y0
        for j in range(out_w):
            s = source(j, w, out_w)
            x0 = int(s)
            x1, dx = min(x0 + 1, w - 1), s - x0
            out[:, :, i, j] = ((1 - dy) * ((1 - dx) * x[:, :, y0, x0] + dx * x[:, :, y0, x1])
                               + dy * ((1 - dx) * x[:, :, y1, x0] + dx * x[:, :, y1, x1]))
    return out


@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize("size", [(7, 3), (1, 9), (4, 5), (2, 2)])
def test_bilinear_resize(size, align_corners):
    x = rand(2, 2, 4, 5)
    (out,) = run_op("_contrib_BilinearResize2D", x, height=size[0], width=size[1],
                    align_corners=align_corners)
    np.testing.assert_allclose(out, _naive_bilinear(x, *size, align_corners), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("mode, shape, want", [
    ("to_even_down", (5, 4), (4, 4)), ("to_even_up", (5, 4), (6, 4)),
    ("to_odd_down", (5, 4), (5, 3)), ("to_odd_up", (5, 4), (5, 5))])
def test_bilinear_resize_parity_modes(mode, shape, want):
    (out,) = run_op("_contrib_BilinearResize2D", rand(1, 1, *shape), mode=mode)
    assert out.shape[2:] == want


def test_bilinear_resize_like_takes_the_second_input_shape_only():
    x, like = rand(1, 2, 3, 3), rand(4, 1, 5, 2, seed=1)
    (out,) = run_op("_contrib_BilinearResize2D", x, like, mode="like")
    np.testing.assert_allclose(out, _naive_bilinear(x, 5, 2, True), rtol=1e-5, atol=1e-6)
    assert input_grads("_contrib_BilinearResize2D", [x, like], mode="like")[1] is None


def test_resizing_errors():
    shape_fails("_contrib_BilinearResize2D", [(2, 3, 4)], "4-d", height=2, width=2)
    shape_fails("_contrib_BilinearResize2D", [(1, 1, 3, 4)], "positive", height=0, width=2)
    shape_fails("_contrib_BilinearResize2D", [(1, 1, 3, 4)], "scale_width", scale_height=2.0)
    shape_fails("_contrib_AdaptiveAvgPooling2D", [(1, 1, 3, 4)], "positive", output_size=(0,))


def _naive_gather(data, indices):
    count = indices.shape[0]
    columns = indices.reshape(count, -1).astype(int).T
    out = np.stack([data[tuple(c)] for c in columns])
    return out.reshape(indices.shape[1:] + data.shape[count:])


@pytest.mark.parametrize("shape, indices", [
    ((3, 4, 2), [[0, 2, -1], [1, 3, 0]]), ((3, 4), [[[0, 2], [1, 1]], [[3, 0], [-2, 2]]]),
    ((5,), [[4, 0, 4]])])
def test_gather_nd(shape, indices):
    data, indices = rand(*shape), np.array(indices, dtype=np.float32)
    (out,) = run_op("gather_nd", data, indices)
    np.testing.assert_array_equal(out, _naive_gather(data, indices))
    assert input_grads("gather_nd", [data, indices])[1] is None


def test_scatter_nd_keeps_the_last_of_repeated_indices_and_gives_it_the_gradient():
    data, indices = rand(4, 2), np.array([[0, 2, 0, 1]], dtype=np.float32)
    (out,) = run_op("scatter_nd", data, indices, shape=(3, 2))
    want = np.zeros((3, 2), dtype=np.float32)
    for row, position in enumerate(indices[0].astype(int)):
        want[position] = data[row]
    np.testing.assert_array_equal(out, want)
    d_data, d_indices = input_grads("scatter_nd", [data, indices], shape=(3, 2))
    np.testing.assert_array_equal(d_data, [[0, 0], [1, 1], [1, 1], [1, 1]])
    assert d_indices is None


def test_gather_and_scatter_errors():
    shape_fails("gather_nd", [(3, 4), (3, 2)], "between 1 and 2")
    shape_fails("scatter_nd", [(3,), (1, 2)], "data must have shape", shape=(4,))
    with pytest.raises(OpError, match="out of range"):
        nd.gather_nd(nd.array(rand(3, 4)), nd.array([[3], [0]]))


def test_shape_and_size_arrays_are_integers_without_gradient():
    x = nd.array(rand(2, 3, 4))
    assert x.shape_array().asnumpy().tolist() == [2, 3, 4]
    assert nd.size_array(x).asnumpy().tolist() == [24]
    assert x.shape_array().dtype == np.int64
    assert input_grads("shape_array", [rand(2, 3)]) == [None]


def test_erf_is_within_float32_rounding_of_math_erf():
    x = np.linspace(-6, 6, 20001).astype(np.float32)
    (out,) = run_op("erf", x)
    want = np.array([math.erf(v) for v in x.astype(np.float64)])
    assert np.abs(out - want).max() < 1e-7


def test_erfinv_inverts_erf():
    y = np.linspace(-0.999, 0.999, 2001)
    (x,) = run_op("erfinv", y)
    np.testing.assert_allclose([math.erf(v) for v in x], y, rtol=0, atol=1e-14)
    (edges,) = run_op("erfinv", np.array([-1.0, 0.0, 1.0, 1.5]))
    assert edges[0] == -np.inf and edges[1] == 0 and edges[2] == np.inf and np.isnan(edges[3])


def test_gelu_uses_the_exact_erf():
    x = np.linspace(-4, 4, 101).astype(np.float32)
    (out,) = run_op("LeakyReLU", x, act_type="gelu")
    want = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)]
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-7)


def _naive_masked_softmax(x, lengths, axis, log):
    x = np.moveaxis(x.astype(np.float64), axis, -1)
    out = np.zeros_like(x)
    for index in np.ndindex(x.shape[:-1]):
        n = int(lengths[index])
        row = x[index][:n]
        if n:
            p = np.exp(row - row.max())
            out[index][:n] = np.log(p / p.sum()) if log else p / p.sum()
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_softmax_with_length(name, axis):
    x = rand(3, 4, 5)
    reduced = list(x.shape)
    del reduced[axis]
    lengths = np.random.default_rng(1).integers(0, x.shape[axis] + 1, reduced).astype(np.int32)
    (out,) = run_op(name, x, lengths, axis=axis, use_length=True)
    np.testing.assert_allclose(out, _naive_masked_softmax(x, lengths, axis, name != "softmax"),
                               rtol=1e-5, atol=1e-6)
    assert input_grads(name, [x, lengths], axis=axis, use_length=True)[1] is None


def test_log_softmax_takes_its_axis_second_and_length_by_keyword_as_mxnet_signature():
    x = nd.array(rand(2, 3))
    np.testing.assert_allclose(nd.log_softmax(x, 0).asnumpy(),
                               nd.log_softmax(x, axis=0).asnumpy())
    masked = nd.log_softmax(x, length=nd.array([1, 3]), use_length=True).asnumpy()
    assert masked[0, 0] == 0 and masked[0, 1:].tolist() == [0, 0]
    assert nd.softmax(x, nd.array([1, 3]), use_length=True).asnumpy()[0].tolist() == [1, 0, 0]


@pytest.mark.filterwarnings("error")
def test_masked_entries_of_any_size_are_dropped_quietly():
    x = np.array([[1.0, 1e4, 2.0]], dtype=np.float32)
    (out,) = run_op("softmax", x, np.array([1], dtype=np.float32), use_length=True)
    assert out.tolist() == [[1, 0, 0]]


def test_softmax_length_shape():
    shape_fails("softmax", [(2, 3, 4), (2, 4)], r"length must have shape \(2, 3\)",
                use_length=True)
    with pytest.raises(OpError, match="not used"):
        nd.softmax(nd.array(rand(2, 3)), nd.array([1, 2]))


def test_reshape_like_axis_ranges():
    lhs, rhs = rand(30, 7), rand(15, 2, 4)
    (out,) = run_op("reshape_like", lhs, rhs, lhs_begin=0, lhs_end=1, rhs_begin=0, rhs_end=2)
    assert out.shape == (15, 2, 7)
    (out,) = run_op("reshape_like", rand(2, 3, 4), rand(5, 12), lhs_begin=-2, rhs_begin=1)
    assert out.shape == (2, 12)
    shape_fails("reshape_like", [(2, 3), (4, 5)], "cannot reshape", lhs_begin=1)
    shape_fails("reshape_like", [(2, 3), (4, 5)], "do not lie", lhs_begin=3)


@pytest.mark.parametrize("shape, like, axes, want", [
    ((3, 4, 5), (2, 3, 5), (), (2, 3, 5)), ((3, 4, 5), (2, 2), (0, -2), (2, 2, 5)),
    ((3, 4), (1, 1, 1), (1,), (3, 1))])
def test_slice_like(shape, like, axes, want):
    x = rand(*shape)
    (out,) = run_op("slice_like", x, rand(*like), axes=axes)
    np.testing.assert_array_equal(out, x[tuple(slice(0, n) for n in want)])
    assert input_grads("slice_like", [x, rand(*like)], axes=axes)[1] is None


def test_slice_like_errors():
    shape_fails("slice_like", [(3, 4), (2,)], "as many dimensions")
    shape_fails("slice_like", [(3, 4), (4, 4)], "at most", axes=(0,))


def test_broadcast_like_axes():
    lhs = rand(1, 3, 1)
    (out,) = run_op("broadcast_like", lhs, rand(2, 5, 4), lhs_axes=(0, 2), rhs_axes=(0, -1))
    np.testing.assert_array_equal(out, np.broadcast_to(lhs, (2, 3, 4)))
