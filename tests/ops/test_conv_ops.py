"""Convolution and Pooling (ops/conv.py) against naive loops on small sizes."""
import itertools

import numpy as np
import pytest

from ast_hybrid.base import MXNetError

from optest import infer, rand, run_op, shape_fails


def _naive_conv(x, w, b, stride, pad, dilate, groups):
    n, c = x.shape[:2]
    f = w.shape[0]
    k = w.shape[2:]
    nd = len(k)
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [(p, p) for p in pad])
    out_sp = [(xp.shape[2 + i] - dilate[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    out = np.zeros((n, f, *out_sp))
    cg, fg = c // groups, f // groups
    for batch, filt in itertools.product(range(n), range(f)):
        g = filt // fg
        for pos in itertools.product(*[range(o) for o in out_sp]):
            total = 0.0 if b is None else float(b[filt])
            for ch in range(cg):
                for kpos in itertools.product(*[range(kk) for kk in k]):
                    src = tuple(pos[i] * stride[i] + kpos[i] * dilate[i] for i in range(nd))
                    total += xp[(batch, g * cg + ch) + src] * w[(filt, ch) + kpos]
            out[(batch, filt) + pos] = total
    return out


CONV_CASES = [
    ((2, 3, 6, 5), dict(kernel=(3, 3), num_filter=4)),
    ((2, 4, 7, 6), dict(kernel=(3, 2), num_filter=6, stride=(2, 1), pad=(1, 2), dilate=(1, 2),
                        num_group=2)),
    ((1, 4, 5, 5), dict(kernel=(3, 3), num_filter=4, num_group=4, pad=(1, 1))),
    ((2, 3, 4, 4), dict(kernel=(1, 1), num_filter=2, no_bias=True)),
    ((2, 3, 9), dict(kernel=(3,), num_filter=4, stride=(2,), pad=(1,), dilate=(2,))),
    ((1, 2, 8), dict(kernel=(2,), num_filter=4, num_group=2)),
    # four channels or more per filter, stride 1: products of shifted views, no gathered columns
    ((2, 8, 6, 7), dict(kernel=(3, 3), num_filter=2, pad=(1, 1))),
    ((1, 12, 7, 6), dict(kernel=(3, 2), num_filter=3, pad=(2, 0), dilate=(2, 1), no_bias=True)),
]


@pytest.mark.parametrize("shape, attrs", CONV_CASES)
def test_convolution_matches_loops(shape, attrs):
    nd = len(attrs["kernel"])
    groups = attrs.get("num_group", 1)
    w_shape = (attrs["num_filter"], shape[1] // groups) + attrs["kernel"]
    x, w = rand(*shape), rand(*w_shape, seed=1)
    b = None if attrs.get("no_bias") else rand(attrs["num_filter"], seed=2)
    in_shapes = infer("Convolution", [shape, None] + ([] if b is None else [None]), **attrs)[0]
    assert in_shapes[1] == w_shape
    if b is not None:
        assert in_shapes[2] == (attrs["num_filter"],)
    outs = run_op("Convolution", x, w, *([] if b is None else [b]), **attrs)
    ref = _naive_conv(x, w, b, attrs.get("stride", (1,) * nd), attrs.get("pad", (0,) * nd),
                      attrs.get("dilate", (1,) * nd), groups)
    np.testing.assert_allclose(outs[0], ref, rtol=1e-4, atol=1e-5)


def test_convolution_errors_name_operator_and_shapes():
    shape_fails("Convolution", [(2, 3, 5, 5), None, None], kernel=(3,), num_filter=2,
                pattern="3 dimensions")
    shape_fails("Convolution", [(2, 3, 5, 5), None, None], kernel=(3, 3), num_filter=2,
                num_group=2, pattern="num_group=2")
    shape_fails("Convolution", [(2, 3, 5, 5), (2, 4, 3, 3), None], kernel=(3, 3), num_filter=2,
                pattern=r"weight must have shape \(2, 3, 3, 3\)")
    shape_fails("Convolution", [(2, 3, 2, 2), None, None], kernel=(3, 3), num_filter=2,
                pattern="larger")
    shape_fails("Convolution", [(2, 3, 5, 5), None, None], kernel=(3, 3), num_filter=2,
                stride=(1,), pattern="stride")
    # MXNet 1.9.1 on CPU refuses channel-last convolutions with an MXNetError
    with pytest.raises(MXNetError, match="NHWC"):
        infer("Convolution", [(2, 5, 5, 3), None, None], kernel=(3, 3), num_filter=2,
              layout="NHWC")


def _naive_pool(x, kernel, stride, pad, pool_type, convention, include_pad):
    nd = len(kernel)
    spatial = x.shape[2:]
    size = []
    for i in range(nd):
        room = spatial[i] + 2 * pad[i] - kernel[i]
        size.append((-(-room // stride[i]) if convention == "full" else room // stride[i]) + 1)
    out = np.zeros(x.shape[:2] + tuple(size))
    for pos in itertools.product(*[range(s) for s in size]):
        starts = [pos[i] * stride[i] - pad[i] for i in range(nd)]
        ends = [min(starts[i] + kernel[i], spatial[i] + pad[i]) for i in range(nd)]
        count_pad = int(np.prod([e - s for s, e in zip(starts, ends)]))
        lo = [max(s, 0) for s in starts]
        hi = [min(e, spatial[i]) for i, e in enumerate(ends)]
        window = x[(slice(None), slice(None)) + tuple(slice(a, b) for a, b in zip(lo, hi))]
        window = window.reshape(x.shape[:2] + (-1,)).astype(np.float64)
        if pool_type == "max":
            value = (window.max(axis=-1) if window.shape[-1]
                     else np.full(x.shape[:2], np.finfo(np.float32).min))
        else:
            value = window.sum(axis=-1)
            if pool_type == "avg":
                count = count_pad if include_pad else window.shape[-1]
                value = value / count if count else value * 0
        out[(slice(None), slice(None)) + pos] = value
    return out


POOL_CASES = [dict(kernel=(2, 2)), dict(kernel=(2, 2), stride=(2, 2)),
              dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1)),
              dict(kernel=(3, 3), stride=(2, 2), pooling_convention="full"),
              dict(kernel=(2, 3), stride=(2, 2), pad=(1, 1), pooling_convention="full"),
              dict(kernel=(3,), stride=(2,), pad=(1,)),
              # more offsets than windows: one reduction over a copy of the windows
              dict(kernel=(5, 4)), dict(kernel=(5, 5), stride=(2, 1), pad=(1, 1)),
              dict(kernel=(5, 4), stride=(2, 2), pooling_convention="full")]


@pytest.mark.parametrize("attrs", POOL_CASES)
@pytest.mark.parametrize("pool_type, include_pad", [("max", None), ("sum", None), ("avg", True),
                                                    ("avg", False)])
def test_pooling_matches_loops(attrs, pool_type, include_pad):
    nd = len(attrs["kernel"])
    x = rand(2, 3, 7, 6)[..., 0] if nd == 1 else rand(2, 3, 7, 6)
    full = dict(attrs, pool_type=pool_type)
    if include_pad is not None:
        full["count_include_pad"] = include_pad
    (out,) = run_op("Pooling", x, **full)
    ref = _naive_pool(x, attrs["kernel"], attrs.get("stride", (1,) * nd),
                      attrs.get("pad", (0,) * nd), pool_type,
                      attrs.get("pooling_convention", "valid"), include_pad is not False)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pool_type, reduce", [("max", np.max), ("avg", np.mean),
                                               ("sum", np.sum)])
@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (2, 3, 5)])
def test_global_pooling(pool_type, reduce, shape):
    x = rand(*shape)
    (out,) = run_op("Pooling", x, kernel=(1,) * (len(shape) - 2), pool_type=pool_type,
                    global_pool=True)
    axes = tuple(range(2, len(shape)))
    np.testing.assert_allclose(out, reduce(x, axis=axes, keepdims=True), rtol=1e-5)


@pytest.mark.parametrize("pool_type", ["max", "avg"])
def test_pooling_reads_the_first_entries_of_a_longer_stride_or_pad(pool_type):
    # as MXNet 1.9.1 does: GluonCV's DropBlock pools 2-d masks with four pads
    x = rand(2, 3, 7, 6)
    (out,) = run_op("Pooling", x, kernel=(3, 3), pool_type=pool_type, pad=(1, 2, 0, 0),
                    stride=(2, 1, 3))
    ref = _naive_pool(x, (3, 3), (2, 1), (1, 2), pool_type, "valid", True)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    shape_fails("Pooling", [(2, 3, 7, 6)], kernel=(3, 3), pad=(1,), pattern="pad")


def test_pooling_errors():
    shape_fails("Pooling", [(2, 3, 5, 5)], kernel=(3,), pattern="kernel")
    shape_fails("Pooling", [(2, 3, 2, 2)], kernel=(3, 3), pattern="larger")
    shape_fails("Pooling", [(2, 3, 5, 5)], kernel=(2, 2), pool_type="lp", pattern="lp")


@pytest.mark.parametrize("shape, pad, extra, value", [
    ((2, 3, 5, 4), (1, 2), None, 0), ((1, 2, 6, 5), (1, 0), (1, 2), -7.5),
    ((2, 1, 7), (3,), (1,), np.finfo(np.float32).min), ((1, 2, 3, 4, 5), (1, 0, 2), None, 0)])
def test_padding_sets_the_border_and_keeps_the_interior(shape, pad, extra, value):
    from ast_hybrid.ops.conv import _pad
    x = rand(*shape)
    after = extra or (0,) * len(pad)
    want = np.pad(x, [(0, 0), (0, 0)] + [(p, p + e) for p, e in zip(pad, after)],
                  constant_values=value)
    got = _pad(x, pad, value, extra)
    assert got.dtype == x.dtype and np.array_equal(got, want)
