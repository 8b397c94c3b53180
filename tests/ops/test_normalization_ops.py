"""BatchNorm and LayerNorm (ops/normalization.py) against loops over channels."""
import numpy as np
import pytest

from ast_hybrid.ops import get
from optest import infer, rand, run_op, shape_fails

X = rand(4, 3, 5, 2)


def _bn_ref(x, gamma, beta, mean, var, eps, axis):
    out = np.empty(x.shape)
    moved = np.moveaxis(x.astype(np.float64), axis, 0)
    for c in range(moved.shape[0]):
        out_c = (moved[c] - mean[c]) / np.sqrt(var[c] + eps) * gamma[c] + beta[c]
        np.moveaxis(out, axis, 0)[c] = out_c
    return out


def _stats(x, axis):
    moved = np.moveaxis(x.astype(np.float64), axis, 0).reshape(x.shape[axis], -1)
    mean = moved.mean(axis=1)
    return mean, ((moved - mean[:, None]) ** 2).mean(axis=1)


@pytest.mark.parametrize("fix_gamma", [True, False])
@pytest.mark.parametrize("use_global_stats", [False, True])
@pytest.mark.parametrize("axis", [1, -1])
def test_batch_norm_inference_uses_moving_stats(fix_gamma, use_global_stats, axis):
    c = X.shape[axis]
    gamma, beta = rand(c, seed=1), rand(c, seed=2)
    mm, mv = rand(c, seed=3), rand(c, low=0.5, high=1.5, seed=4)
    mm0, mv0 = mm.copy(), mv.copy()
    (out,) = run_op("BatchNorm", X, gamma, beta, mm, mv, fix_gamma=fix_gamma, axis=axis,
                    use_global_stats=use_global_stats, training=False)
    g = np.ones(c) if fix_gamma else gamma
    np.testing.assert_allclose(out, _bn_ref(X, g, beta, mm0, mv0, 1e-3, axis % 4), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_array_equal(mm, mm0)
    np.testing.assert_array_equal(mv, mv0)


@pytest.mark.parametrize("axis", [1, -1])
def test_batch_norm_training_uses_batch_stats_and_updates_moving_stats_in_place(axis):
    c = X.shape[axis]
    gamma, beta = rand(c, seed=1), rand(c, seed=2)
    mm, mv = rand(c, seed=3), rand(c, low=0.5, high=1.5, seed=4)
    mm0, mv0 = mm.copy(), mv.copy()
    out, mean, inv_std = run_op("BatchNorm", X, gamma, beta, mm, mv, fix_gamma=False, axis=axis,
                                momentum=0.8, eps=1e-5, output_mean_var=True, training=True)
    batch_mean, batch_var = _stats(X, axis % 4)
    np.testing.assert_allclose(out, _bn_ref(X, gamma, beta, batch_mean, batch_var, 1e-5,
                                            axis % 4), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mean, batch_mean, rtol=1e-5)
    np.testing.assert_allclose(inv_std, 1 / np.sqrt(batch_var + 1e-5), rtol=1e-5)
    # MXNet's convention: biased (divide by N) batch variance
    np.testing.assert_allclose(mm, mm0 * 0.8 + batch_mean * 0.2, rtol=1e-5)
    np.testing.assert_allclose(mv, mv0 * 0.8 + batch_var * 0.2, rtol=1e-5)
    assert mm.dtype == np.float32 and mv.dtype == np.float32


def test_batch_norm_declaration():
    op = get("BatchNorm")
    assert op.aux == ("moving_mean", "moving_var") and op.mode_dependent
    assert op.input_names(op.parse_attrs({})) == ("data", "gamma", "beta", "moving_mean",
                                                  "moving_var")
    in_shapes, out_shapes = infer("BatchNorm", [(4, 3, 5, 2), None, None, None, None])
    assert in_shapes[1:] == [(3,)] * 4 and out_shapes == [(4, 3, 5, 2)]
    assert infer("BatchNorm", [(4, 3, 5), None, None, None, None], axis=-1)[0][1] == (5,)
    shape_fails("BatchNorm", [(4, 3, 5, 2), (4,), None, None, None], pattern="gamma")
    shape_fails("BatchNorm", [(4, 3)], axis=2, pattern="axis 2")


@pytest.mark.parametrize("axis", [-1, 1])
def test_layer_norm(axis):
    c = X.shape[axis]
    gamma, beta = rand(c, seed=5), rand(c, seed=6)
    out, mean, std = run_op("LayerNorm", X, gamma, beta, axis=axis, eps=1e-3,
                            output_mean_var=True)
    x = X.astype(np.float64)
    m = x.mean(axis=axis, keepdims=True)
    s = np.sqrt(((x - m) ** 2).mean(axis=axis, keepdims=True) + 1e-3)
    shape = [1] * 4
    shape[axis] = c
    np.testing.assert_allclose(out, (x - m) / s * gamma.reshape(shape) + beta.reshape(shape),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mean, m, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(std, s, rtol=1e-5)


def test_layer_norm_deduces_gamma_beta():
    in_shapes, out_shapes = infer("LayerNorm", [(2, 7), None, None])
    assert in_shapes[1:] == [(7,), (7,)] and out_shapes == [(2, 7)]
    shape_fails("LayerNorm", [(2, 7), (6,), None], pattern="gamma")
