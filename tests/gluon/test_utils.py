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
