"""Concurrent, HybridConcurrent, Identity and PixelShuffle1D/2D/3D, as in MXNet 1.x."""
import math

from ...block import HybridBlock
from ...nn.basic_layers import HybridSequential, Sequential


class Concurrent(Sequential):
    """Feeds its input to every child and concatenates their outputs along `axis`."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def forward(self, x):
        from .... import ndarray
        return ndarray.concat(*[block(x) for block in self._children.values()],
                              dim=self.axis)


class HybridConcurrent(HybridSequential):
    """Concurrent for HybridBlocks: hybridizes into one program."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def hybrid_forward(self, F, x):
        outputs = [block(x) for block in self._children.values()]
        return F.concat(*outputs, dim=self.axis)


class Identity(HybridBlock):
    """Returns its input: the shortcut branch of a HybridConcurrent."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, F, x):
        return x


def _factors(factor, ndim):
    """An int factor for every spatial axis, or one per axis."""
    if hasattr(factor, "__index__"):
        return (int(factor),) * ndim
    factors = tuple(int(f) for f in factor)
    if len(factors) != ndim:
        raise AssertionError(f"wrong length {len(factors)}")
    return factors


class _PixelShuffle(HybridBlock):
    """Moves groups of channels into blocks of pixels: (N, C*f1*...*fk, X1..Xk) ->
    (N, C, X1*f1, ..., Xk*fk), the factors' channels varying fastest, last axis last."""

    def __init__(self, factor, ndim):
        super().__init__()
        self._factors = _factors(factor, ndim)

    def hybrid_forward(self, F, x):
        ndim = len(self._factors)
        # split the channels into (C, f1, ..., fk), keeping the spatial axes
        x = F.reshape(x, (0, -4, -1, math.prod(self._factors)) + (0,) * ndim)
        for i, f in enumerate(self._factors[:-1]):
            rest = math.prod(self._factors[i + 1:])
            x = F.reshape(x, (0,) * (2 + i) + (-4, f, rest) + (0,) * ndim)
        # interleave: X1, f1, X2, f2, ...
        order = (0, 1) + sum(((2 + ndim + i, 2 + i) for i in range(ndim)), ())
        x = F.transpose(x, axes=order)
        return F.reshape(x, (0, 0) + (-3,) * ndim)

    def __repr__(self):
        factors = self._factors[0] if len(self._factors) == 1 else self._factors
        return f"{type(self).__name__}({factors})"


class PixelShuffle1D(_PixelShuffle):
    """(N, f*C, W) -> (N, C, W*f)."""

    def __init__(self, factor):
        super().__init__((int(factor),), 1)


class PixelShuffle2D(_PixelShuffle):
    """(N, f1*f2*C, H, W) -> (N, C, H*f1, W*f2)."""

    def __init__(self, factor):
        super().__init__(factor, 2)


class PixelShuffle3D(_PixelShuffle):
    """(N, f1*f2*f3*C, D, H, W) -> (N, C, D*f1, H*f2, W*f3)."""

    def __init__(self, factor):
        super().__init__(factor, 3)
