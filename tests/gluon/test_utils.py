"""gluon.utils against numpy."""
import numpy as np
import pytest

from ast_hybrid import cpu, nd
from ast_hybrid.gluon import utils


def test_split_and_load_one_context_and_several():
    data = nd.array(np.arange(12).reshape(6, 2))
    assert utils.split_and_load(data, [cpu()])[0] is data
    parts = utils.split_and_load(data, [cpu(0), cpu(1), cpu(2)])
    np.testing.assert_array_equal(np.concatenate([p.asnumpy() for p in parts]), data.asnumpy())
    with pytest.raises(ValueError, match="evenly"):
        utils.split_and_load(data, [cpu()] * 4)


def test_clip_global_norm_scales_jointly():
    a, b = nd.array([3.0, 0.0]), nd.array([[4.0]])
    norm = utils.clip_global_norm([a, b], 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(a.asnumpy(), [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(b.asnumpy(), [[0.8]], rtol=1e-6)


@pytest.mark.parametrize("num_slice, axis", [(4, 1), (15, 1), (5, 0), (3, 2)])
def test_uneven_splits_are_numpys_array_split(num_slice, axis):
    data = np.random.default_rng(0).uniform(size=(7, 33, 4)).astype(np.float32)
    parts = utils.split_data(nd.array(data), num_slice, axis, even_split=False)
    want = np.array_split(data, num_slice, axis=axis)    # the longer slices first, as MXNet's
    assert [p.shape for p in parts] == [w.shape for w in want]
    for got, expected in zip(parts, want):
        np.testing.assert_array_equal(got.asnumpy(), expected)


def test_split_slices_are_recorded_and_first_axis_slices_are_views():
    from ast_hybrid import autograd
    x = nd.array(np.arange(12, dtype=np.float32).reshape(4, 3))
    x.attach_grad()
    with autograd.record():
        first, second = utils.split_data(x, 2)
        loss = (first * 2).sum() + (second * 3).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [[2] * 3] * 2 + [[3] * 3] * 2)
    view = utils.split_data(x, 2)[0]
    view[:] = -1
    assert (x.asnumpy()[:2] == -1).all()      # basic indexing of the first axis, as MXNet's


def test_split_data_refuses_an_uneven_split_in_mxnets_words():
    with pytest.raises(ValueError, match="cannot be evenly split into 4 slices along axis 1"):
        utils.split_data(nd.ones((2, 33)), 4, 1)


def test_clip_global_norm_warns_on_a_non_finite_norm_and_returns_an_array_unchecked():
    import warnings
    small = nd.array([0.3, 0.4])
    assert utils.clip_global_norm([small], 1.0) == pytest.approx(0.5)
    np.testing.assert_allclose(small.asnumpy(), [0.3, 0.4], rtol=1e-6)   # within: unchanged
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        norm = utils.clip_global_norm([nd.ones((2,)), nd.array([1.0, np.nan])], 2.0)
    assert np.isnan(norm) and "nan or inf is detected" in str(caught[0].message)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        norm = utils.clip_global_norm([nd.array([3.0, 4.0])], 1.0, check_isfinite=False)
    assert not caught and isinstance(norm, nd.NDArray) and norm.shape == (1,)
    np.testing.assert_allclose(norm.asnumpy(), [5.0])
