"""The lecture's MLP: imperative, then hybridized; the 1000-pass benchmark; export and import.

Run:  python samples/hybridize_mlp.py [--passes N] [--out DIR]

hybridize() (AST mode, the default) compiles hybrid_forward's source into one program;
hybridize(mode='trace') traces it with symbols as MXNet does. Both must give the imperative
output. The exported files go to a temporary directory unless --out is given.
"""
import argparse
import collections
import json
import os
import tempfile
import time

import numpy as np

from ast_hybrid import nd
from ast_hybrid.gluon import SymbolBlock, nn


def get_net():
    net = nn.HybridSequential()
    net.add(nn.Dense(256, activation='relu'),
            nn.Dense(128, activation='relu'),
            nn.Dense(2))
    net.initialize()
    return net


def benchmark(net, x, passes=1000):
    start = time.time()
    for _ in range(passes):
        _ = net(x)
    nd.waitall()  # wait until every computation has finished, for fair timing
    return time.time() - start


def max_difference(a, b):
    return float(np.max(np.abs(a.asnumpy() - b.asnumpy())))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--passes', type=int, default=1000,
                        help='forward passes per benchmark (default 1000)')
    parser.add_argument('--out', default=None,
                        help='directory for my_mlp-symbol.json and my_mlp-0000.params '
                             '(default: a temporary directory, removed at the end)')
    args = parser.parse_args()

    # ----- the same network, three ways of running it
    x = nd.random.normal(shape=(1, 512))
    net = get_net()
    imperative = net(x)
    print('Imperative output:', imperative)

    net.hybridize()                     # AST mode: compile hybrid_forward's source
    ast_output = net(x)
    print("Hybridized (mode='ast') output:", ast_output)

    net.hybridize(mode='trace')         # MXNet's way: trace with symbols
    trace_output = net(x)
    print("Hybridized (mode='trace') output:", trace_output)

    ast_difference = max_difference(ast_output, imperative)
    trace_difference = max_difference(trace_output, imperative)
    print(f"max |ast - imperative| = {ast_difference}")
    print(f"max |trace - imperative| = {trace_difference}")
    assert np.allclose(ast_output.asnumpy(), imperative.asnumpy(), rtol=1e-6, atol=1e-6)
    assert np.allclose(trace_output.asnumpy(), imperative.asnumpy(), rtol=1e-6, atol=1e-6)
    print('All three outputs are equal.')

    # ----- the benchmark (the first call after hybridize() compiles; it is not timed)
    print(f"\nBenchmark: {args.passes} forward passes, then nd.waitall()")
    net.hybridize(active=False)
    before = benchmark(net, x, args.passes)
    print(f"Before hybridizing: {before:.4f} sec")
    for mode in ('trace', 'ast'):
        net.hybridize(mode=mode)
        net(x)
        after = benchmark(net, x, args.passes)
        print(f"After hybridizing (mode={mode!r}): {after:.4f} sec "
              f"({before / after:.2f}x the speed of imperative)")

    # ----- export the hybridized network and import it back
    with tempfile.TemporaryDirectory() as temporary:
        out = args.out if args.out is not None else temporary
        os.makedirs(out, exist_ok=True)
        symbol_file, params_file = net.export(os.path.join(out, 'my_mlp'))
        print(f"\nExported {os.path.basename(symbol_file)} and {os.path.basename(params_file)}")
        print(f"The first 20 lines of {os.path.basename(symbol_file)}:")
        with open(symbol_file) as f:
            text = f.read()
        for line in text.splitlines()[:20]:
            print(line)
        print('...')
        graph = json.loads(text)
        counts = collections.Counter(node['op'] for node in graph['nodes'])
        print('The graph\'s nodes by operator:',
              ', '.join(f'{op} x{n}' for op, n in counts.items()))
        print('Its outputs (heads):', graph['heads'])

        imported = SymbolBlock.imports(symbol_file, ['data'], params_file)
        imported_output = imported(x)
        difference = max_difference(imported_output, imperative)
        print(f"\nImported output: {imported_output}")
        print(f"max |imported - original| = {difference}")
        assert difference == 0, difference


if __name__ == '__main__':
    main()
