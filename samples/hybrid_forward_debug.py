"""The lecture's HybridNet, whose hybrid_forward prints what it is given.

Run:  python samples/hybrid_forward_debug.py

- Imperatively, F is ast_hybrid.ndarray and x is an NDArray: the prints show values.
- hybridize(mode='trace') (MXNet's way): the first call runs hybrid_forward once with
  F=ast_hybrid.symbol and symbol inputs, so the prints show symbols, and only on that first
  call; later calls run the cached graph and print nothing.
- hybridize() (AST mode, the default): hybrid_forward's source is compiled into a program in
  which print stays a print, so every call prints real values.
"""
import ast_hybrid
from ast_hybrid import nd
from ast_hybrid.gluon import nn


class HybridNet(nn.HybridBlock):
    def __init__(self, **kwargs):
        super(HybridNet, self).__init__(**kwargs)
        self.hidden = nn.Dense(10)
        self.output = nn.Dense(2)

    def hybrid_forward(self, F, x):
        print('F: ', F)
        print('x: ', x)
        x = F.relu(self.hidden(x))
        print('hidden: ', x)
        return self.output(x)


def section(title):
    print(f"\n===== {title}")


def main():
    net = HybridNet()
    net.initialize()
    x = nd.random.normal(shape=(1, 4))

    section("imperative: F is ast_hybrid.ndarray, prints show NDArrays")
    print('output: ', net(x))

    net.hybridize(mode='trace')
    section("hybridize(mode='trace'), call 1: traced with symbols, prints show symbols")
    print('output: ', net(x))
    section("hybridize(mode='trace'), call 2: the cached graph runs, nothing is printed")
    print('output: ', net(x))

    net.hybridize()
    for call in (1, 2):
        section(f"hybridize() (AST mode), call {call}: the compiled program prints values")
        print('output: ', net(x))

    section("ast_hybrid.to_source(net): the program AST mode compiled")
    print(ast_hybrid.to_source(net))


if __name__ == '__main__':
    main()
