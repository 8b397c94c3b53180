"""MXNet behaviours of the `nd` and `sym` namespaces found by tools/compat (MXNet 1.9.1's values)."""
import numpy as np
import pytest

from ast_hybrid import nd, sym
from ast_hybrid.gluon import nn


def test_array_of_a_numpy_array_is_float32_unless_asked():
    assert nd.array(np.zeros(2)).dtype == np.float32
    assert nd.array(np.arange(3, dtype=np.int64)).dtype == np.float32
    assert nd.array([1, 2]).dtype == np.float32
    assert nd.array(np.zeros(2), dtype="float64").dtype == np.float64
    # an NDArray keeps its dtype
    assert nd.array(nd.zeros(2, dtype="int32")).dtype == np.int32
    assert nd.array(nd.zeros(2, dtype="int32"), dtype="float16").dtype == np.float16


def test_setitem_of_one_element_from_a_one_element_array():
    y = nd.zeros((2, 3))
    y[0, 1] = nd.array([5.0])               # (x * k).sum() has shape (1,)
    y[1] = nd.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(y.asnumpy(), [[0, 5, 0], [1, 2, 3]])
    with pytest.raises(ValueError):
        y[0] = nd.array([1.0, 2.0])


def test_positional_attributes_follow_the_inputs():
    x = nd.arange(24).reshape((2, 3, 4))
    assert x.transpose((1, 0, 2)).shape == (3, 2, 4)
    assert nd.transpose(x, (2, 0, 1)).shape == (4, 2, 3)
    assert x.swapaxes(0, 2).shape == (4, 3, 2)
    assert nd.clip(x, 2, 3).asnumpy().max() == 3
    assert nd.one_hot(nd.array([1, 0]), 3).shape == (2, 3)
    assert sym.transpose(sym.var("a"), (1, 0)).infer_shape(a=(2, 3))[1] == [(3, 2)]
    with pytest.raises(ValueError, match="attribute 'axes' given twice"):
        nd.transpose(x, (1, 0, 2), axes=(0, 1, 2))
    with pytest.raises(ValueError, match="at most 1 inputs"):
        nd.clip(x, 1, 2, 3)


@pytest.mark.parametrize("options", [{}, {"mode": "trace"}])
def test_positional_attributes_in_hybridized_blocks(options):
    class Block(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            return F.transpose(x, (1, 0, 2)) * 2 + F.clip(x, 1, 5).transpose((1, 0, 2))

    x = nd.arange(24).reshape((2, 3, 4))
    block = Block()
    expected = block(x).asnumpy()
    block.hybridize(fallback=False, **options)
    np.testing.assert_array_equal(block(x).asnumpy(), expected)


def test_linspace_eye_flip_sort_topk():
    np.testing.assert_allclose(nd.linspace(0, 1, 5).asnumpy(), [0, 0.25, 0.5, 0.75, 1])
    assert nd.eye(2, 3, k=1).asnumpy().tolist() == [[0, 1, 0], [0, 0, 1]]
    assert nd.flip(nd.arange(3), axis=0).asnumpy().tolist() == [2, 1, 0]
    x = nd.array([[3, 1, 2]])
    assert x.sort().asnumpy().tolist() == [[1, 2, 3]]
    assert x.topk(k=2).asnumpy().tolist() == [[0, 2]]
    assert nd.argsort(x).asnumpy().tolist() == [[1, 2, 0]]
    assert sym.linspace(0, 1, 3).infer_shape()[1] == [(3,)]


def test_mx_random_has_nd_randoms_samplers_as_in_mxnet():
    """MXNet 1.x: `mx.random.uniform is mx.nd.random.uniform`."""
    import ast_hybrid
    for name in ("uniform", "normal", "randn", "seed"):
        assert getattr(ast_hybrid.random, name) is getattr(ast_hybrid.nd.random, name)
    ast_hybrid.random.seed(5)
    first = ast_hybrid.random.uniform(-1, 1, shape=(3, 2)).asnumpy()
    ast_hybrid.random.seed(5)
    np.testing.assert_array_equal(ast_hybrid.nd.random.uniform(-1, 1, shape=(3, 2)).asnumpy(),
                                  first)
    assert first.shape == (3, 2) and ((-1 <= first) & (first < 1)).all()
