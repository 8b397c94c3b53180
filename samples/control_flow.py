"""Data-dependent control flow: an `if` and a `while` on array values.

Run:  python samples/control_flow.py

AST mode keeps them as real Python control flow in the compiled program, so they are right
on every call, whichever branch the first call took. Trace mode (MXNet's way) cannot: while
tracing, x is a symbol without a value, so `if x.sum() > 0` has nothing to decide on, and
hybridize(mode='trace') stops with an error naming the line.
"""
import numpy as np

from ast_hybrid import MXNetError, nd
from ast_hybrid.gluon import nn


class ShrinkPositive(nn.HybridBlock):
    """relu(x) if x sums to more than 0, else -x; then halved until its norm is at most 1."""

    def hybrid_forward(self, F, x):
        if x.sum() > 0:
            y = F.relu(x)
        else:
            y = -x
        while y.norm() > 1:
            y = y / 2
        return y


def reference(x):
    """The same computation in plain numpy."""
    y = np.maximum(x, 0) if x.sum() > 0 else -x
    while np.linalg.norm(y) > 1:
        y = y / 2
    return y


INPUTS = {
    'sum > 0 (takes the if branch)': nd.array([[3.0, -1.0, 4.0, 1.0]]),
    'sum < 0 (takes the else branch)': nd.array([[-5.0, 2.0, -6.0, 0.5]]),
    'sum > 0, already small (loop runs 0 times)': nd.array([[0.5, -0.25, 0.125, 0.0]]),
}


def run_all(net, label):
    print(f"\n===== {label}")
    for name, x in INPUTS.items():
        y = net(x)
        expected = reference(x.asnumpy())
        ok = np.allclose(y.asnumpy(), expected)
        verdict = 'right' if ok else f'WRONG, numpy gives {expected.tolist()}'
        print(f"{name}: {y.asnumpy().tolist()}  {verdict}")
        assert ok


def main():
    net = ShrinkPositive()
    net.initialize()

    run_all(net, "imperative")

    net.hybridize()  # AST mode
    run_all(net, "hybridize() (AST mode): one compiled program, right for either branch")

    net.hybridize(mode='trace')
    print("\n===== hybridize(mode='trace')")
    try:
        net(INPUTS['sum > 0 (takes the if branch)'])
    except MXNetError as error:
        print(f"trace mode refuses, as MXNet does: {type(error).__name__}: {error}")
    else:
        raise AssertionError("trace mode should not be able to trace a data-dependent if")


if __name__ == '__main__':
    main()
