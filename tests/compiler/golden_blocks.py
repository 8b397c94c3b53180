"""A block with data-dependent control flow whose program text is pinned (its own file, so
that the line numbers in the golden comments do not move when the tests do)."""
from ast_hybrid.gluon import nn


class ShrinkPositive(nn.HybridBlock):
    """relu(x) if x sums to more than 0, else -x; halved until its norm is at most 1; a
    loop over a static range around it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.scale = nn.Dense(4, in_units=4)

    def hybrid_forward(self, F, x):
        if x.sum() > 0:
            y = F.relu(x)
        else:
            y = -x
        while y.norm() > 1:
            y = y / 2
        for _ in range(2):
            y = self.scale(y)
        return y
