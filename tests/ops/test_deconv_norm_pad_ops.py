"""Deconvolution, InstanceNorm, GroupNorm and Pad against naive numpy, and their refusals."""
import itertools

import numpy as np
import pytest

from ast_hybrid.base import MXNetError
from optest import infer, rand, run_op, shape_fails


def _naive_deconv(x, w, b, stride, pad, adj, dilate, groups, num_filter):
    """Scatter each input value times the kernel into the output, then crop `pad` at the
    start of each axis (the output's size is given by stride, kernel, pad and adj)."""
    n, c = x.shape[:2]
    k = w.shape[2:]
    nd = len(k)
    full = [(x.shape[2 + i] - 1) * stride[i] + dilate[i] * (k[i] - 1) + 1 + adj[i]
            for i in range(nd)]
    out = np.zeros((n, num_filter, *full))
    cg, fg = c // groups, num_filter // groups
    for batch, ch in itertools.product(range(n), range(c)):
        g = ch // cg
        for pos in itertools.product(*[range(s) for s in x.shape[2:]]):
            for f in range(fg):
                for kpos in itertools.product(*[range(kk) for kk in k]):
                    dst = tuple(pos[i] * stride[i] + kpos[i] * dilate[i] for i in range(nd))
                    out[(batch, g * fg + f) + dst] += x[(batch, ch) + pos] * w[(ch, f) + kpos]
    crop = tuple(slice(pad[i], full[i] - pad[i]) for i in range(nd))
    out = out[(slice(None), slice(None)) + crop]
    if b is not None:
        out += b.reshape((1, -1) + (1,) * nd)
    return out


DECONV_CASES = [
    ((2, 3, 4), dict(kernel=(3,), num_filter=2, stride=(2,), pad=(1,), adj=(1,))),
    ((1, 4, 3, 3), dict(kernel=(2, 3), num_filter=4, num_group=2, stride=(2, 1),
                        dilate=(1, 2), no_bias=False)),
    ((1, 2, 2, 2, 2), dict(kernel=(2, 2, 2), num_filter=3, stride=(2, 2, 2), no_bias=False)),
]


@pytest.mark.parametrize("shape, attrs", DECONV_CASES)
def test_deconvolution_matches_loops(shape, attrs):
    nd = len(attrs["kernel"])
    groups = attrs.get("num_group", 1)
    w_shape = (shape[1], attrs["num_filter"] // groups) + attrs["kernel"]
    x, w = rand(*shape), rand(*w_shape, seed=1)
    b = rand(attrs["num_filter"], seed=2) if attrs.get("no_bias") is False else None
    in_shapes = infer("Deconvolution", [shape, None] + ([] if b is None else [None]),
                      **attrs)[0]
    assert in_shapes[1] == w_shape
    outs = run_op("Deconvolution", x, w, *([] if b is None else [b]), **attrs)
    ref = _naive_deconv(x, w, b, attrs.get("stride", (1,) * nd), attrs.get("pad", (0,) * nd),
                        attrs.get("adj", (0,) * nd), attrs.get("dilate", (1,) * nd), groups,
                        attrs["num_filter"])
    np.testing.assert_allclose(outs[0], ref, rtol=1e-4, atol=1e-5)


def test_deconvolution_target_shape_deduces_pad_and_adj():
    x, w = rand(1, 2, 3, 2), rand(2, 2, 3, 3, seed=1)
    target = run_op("Deconvolution", x, w, kernel=(3, 3), num_filter=2, stride=(2, 2),
                    target_shape=(6, 4))[0]
    assert target.shape == (1, 2, 6, 4)
    # H: 2 * 2 + 3 - 6 = 1 -> pad 1, adj 1; W: 2 * 1 + 3 - 4 = 1 -> pad 1, adj 1
    explicit = run_op("Deconvolution", x, w, kernel=(3, 3), num_filter=2, stride=(2, 2),
                      pad=(1, 1), adj=(1, 1))[0]
    np.testing.assert_allclose(target, explicit)


def test_deconvolution_refusals():
    shape_fails("Deconvolution", [(1, 2, 3, 3), None], kernel=(3, 3), num_filter=2,
                stride=(2, 2), adj=(2, 2), pattern="adj")
    shape_fails("Deconvolution", [(1, 2, 3, 3), None], kernel=(3, 3), num_filter=2,
                target_shape=(20, 20), pattern="too big")
    shape_fails("Deconvolution", [(1, 3, 3, 3), None], kernel=(3, 3), num_filter=2,
                num_group=2, pattern="num_group")
    shape_fails("Deconvolution", [(1, 2, 3, 3), (2, 3, 3, 3)], kernel=(3, 3), num_filter=2,
                pattern=r"weight must have shape \(2, 2, 3, 3\)")
    with pytest.raises(MXNetError, match="NHWC"):
        infer("Deconvolution", [(1, 3, 3, 2), None], kernel=(3, 3), num_filter=2,
              layout="NHWC")
    with pytest.raises(MXNetError, match="NHWC"):
        infer("Convolution", [(1, 3, 3, 2), None, None], kernel=(3, 3), num_filter=2,
              layout="NHWC")


def _naive_group_norm(x, gamma, beta, groups, eps):
    n = x.shape[0]
    grouped = x.astype(np.float64).reshape(n, groups, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    var = grouped.var(axis=2, keepdims=True)
    out = (grouped - mean) / np.sqrt(var + eps) * gamma.reshape(1, -1, 1) \
        + beta.reshape(1, -1, 1)
    return out.reshape(x.shape)


def test_instance_norm_and_group_norm_match_numpy():
    x = rand(2, 4, 3, 5)
    gamma, beta = rand(4, seed=1), rand(4, seed=2)
    got = run_op("InstanceNorm", x, gamma, beta, eps=1e-3)[0]
    np.testing.assert_allclose(got, _naive_group_norm(x, gamma, beta, 4, 1e-3), rtol=1e-4,
                               atol=1e-5)
    got = run_op("GroupNorm", x, gamma[:2], beta[:2], num_groups=2)[0]
    np.testing.assert_allclose(got, _naive_group_norm(x, gamma[:2], beta[:2], 2, 1e-5),
                               rtol=1e-4, atol=1e-5)
    shape_fails("GroupNorm", [(2, 4, 3), None, None], num_groups=3, pattern="num_groups=3")
    shape_fails("GroupNorm", [(2, 4, 3), (4,), None], num_groups=2, pattern="gamma")
    shape_fails("InstanceNorm", [(2, 4), None, None], pattern="3 dimensions")


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
def test_pad_matches_numpy(mode):
    x = rand(2, 3, 4, 5)
    width = (0, 0, 0, 0, 1, 3, 2, 0)
    got = run_op("Pad", x, mode=mode, pad_width=width, constant_value=0.5)[0]
    kwargs = {"constant_values": 0.5} if mode == "constant" else {}
    want = np.pad(x, [(0, 0), (0, 0), (1, 3), (2, 0)], mode=mode, **kwargs)
    np.testing.assert_array_equal(got, want)
    assert run_op("pad", x, mode=mode, pad_width=width)[0].shape == (2, 3, 8, 7)


def test_pad_refusals_as_mxnets():
    shape_fails("Pad", [(2, 3, 4)], mode="constant", pad_width=(0, 0, 0, 0, 1, 1),
                pattern="4-d or 5-d")
    shape_fails("Pad", [(2, 3, 4, 4)], mode="constant", pad_width=(0, 1, 0, 0, 1, 1, 1, 1),
                pattern="first two axes")
    shape_fails("Pad", [(2, 3, 4, 4)], mode="reflect", pad_width=(0, 0, 0, 0, 4, 1, 1, 1),
                pattern="smaller")
    shape_fails("Pad", [(2, 3, 4, 4)], mode="edge", pad_width=(0, 0, 0, 0, 1, 1),
                pattern="2 entries per axis")


def test_pooling_channel_last_is_the_channel_first_pooling_transposed():
    x = rand(2, 5, 4, 3)
    for attrs in (dict(kernel=(2, 2), pool_type="max"),
                  dict(kernel=(3, 2), pool_type="avg", pad=(1, 1), stride=(2, 1)),
                  dict(global_pool=True, pool_type="sum")):
        last = run_op("Pooling", x, layout="NHWC", **attrs)[0]
        first = run_op("Pooling", np.moveaxis(x, -1, 1).copy(), **attrs)[0]
        np.testing.assert_allclose(last, np.moveaxis(first, 1, -1), rtol=1e-6, atol=1e-6)
    shape_fails("Pooling", [(2, 2, 2, 3)], kernel=(3, 3), layout="NHWC", pattern="larger")
