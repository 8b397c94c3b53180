"""clip (MobileNet's relu6) of a dead temporary runs in place (optimize/inplace.py), bit for bit as
the kernel, with the kernel's errors, and never on a value anything else reads."""
import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import nd, ops
from ast_hybrid.compiler.optimize.inplace import clip_in_place
from ast_hybrid.gluon import nn


class _ConvClip(nn.HybridBlock):
    def __init__(self, low=0.0, high=6.0):
        super().__init__()
        self.low, self.high = low, high
        with self.name_scope():
            self.conv = nn.Conv2D(4, 3, in_channels=2)

    def hybrid_forward(self, F, x):
        y = self.conv(x)
        clipped = F.clip(y * 4, a_min=self.low, a_max=self.high)   # y * 4: a dead temporary
        kept = F.clip(y, a_min=self.low, a_max=self.high)           # y is returned
        return clipped, kept, y


def _run(net, x):
    return [out.asnumpy() for out in net(x)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_in_place_equals_imperative_mode_bit_for_bit(dtype):
    x = nd.array(np.random.default_rng(0).standard_normal((2, 2, 6, 6)).astype(dtype))
    net = _ConvClip()
    net.initialize()
    net.cast(dtype)
    want = _run(net, x)
    net.hybridize()
    got = _run(net, x)
    source = ast_hybrid.to_source(net, x)
    assert source.count("clip_in_place(") == 1
    for a, b in zip(want, got):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    np.testing.assert_array_equal(got[0], np.minimum(np.maximum(want[2] * 4, 0), 6))


def test_clip_in_place_checks_the_bounds_as_the_kernel():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ops.OpError) as kernel:
        ops.get("clip").kernel(x, a_min=2.0, a_max=1.0)
    with pytest.raises(ops.OpError) as in_place:
        clip_in_place(x, a_min=2.0, a_max=1.0, out=x)
    assert str(in_place.value) == str(kernel.value)
    assert np.array_equal(x, np.ones_like(x))
    integers = np.arange(6).reshape(2, 3)
    result = clip_in_place(integers, a_min=1.0, a_max=3.0, out=integers)
    assert result is not integers and np.array_equal(result, np.clip(integers, 1, 3))


def test_a_compiled_clip_with_bounds_out_of_order_fails_as_in_imperative_mode():
    net = _ConvClip(low=6.0, high=0.0)
    net.initialize()
    x = nd.ones((1, 2, 5, 5))
    with pytest.raises(ops.OpError) as imperative:
        net(x)
    net.hybridize()
    with pytest.raises(ops.OpError) as compiled:
        net(x)
    assert str(compiled.value).splitlines()[0] == str(imperative.value).splitlines()[0]
