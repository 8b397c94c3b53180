"""Release dead temporaries (optimize/release.py): programs of image layers drop each local name
after its last reader, never a parameter or a name that is read later, and compute the same."""
import tracemalloc

import numpy as np

import ast_hybrid
from ast_hybrid import nd
from ast_hybrid.compiler.optimize import release
from ast_hybrid.gluon import nn
from pass_cases import optimized_source

KERNELS = {"Convolution": "Convolution", "relu": "relu", "tanh": "tanh"}
ARGUMENTS = ("x", "w", "flag")


def _optimized_source(source):
    return optimized_source(source, KERNELS, ARGUMENTS, (release,))


def test_names_are_released_after_their_last_reader_only():
    source = """def f(x, w, flag):
    a = relu(x)
    b = Convolution(a, w, kernel=(1, 1), num_filter=2, no_bias=True)
    c = [tanh(v) for v in (a, b)]
    if flag:
        d = relu(b)
    else:
        d = tanh(b)
    e = relu(d)
    for i in range(2):
        e = relu(e)
    return (c, e)"""
    out = _optimized_source(source)
    lines = [line.strip() for line in out.splitlines()]
    assert lines[lines.index("c = [tanh(v) for v in (a, b)]") + 1] == "del a"
    assert lines[lines.index("e = relu(d)") + 1] == "del d"
    assert "del b" not in out                    # its last readers are in the branches
    assert "del x" not in out and "del w" not in out and "del v" not in out
    assert "del c" not in out and "del e" not in out      # returned
    assert "del i" not in out                    # bound in a loop: not released


def test_programs_without_image_layers_keep_their_text():
    source = """def f(x, w, flag):
    a = relu(x)
    b = tanh(a)
    return b"""
    assert "del" not in _optimized_source(source)


class _Convolutions(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.layers = nn.HybridSequential()
            for _ in range(6):
                self.layers.add(nn.Conv2D(8, 3, padding=1, activation="relu"))

    def hybrid_forward(self, F, x):
        return self.layers(x)


def _peak(net, x):
    net(x)
    tracemalloc.start()
    out = net(x).asnumpy()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, peak


def test_a_chain_of_convolutions_holds_less_memory_and_computes_the_same():
    x = nd.array(np.random.default_rng(0).standard_normal((2, 8, 32, 32)).astype("float32"))
    net = _Convolutions()
    net.initialize()
    want = net(x).asnumpy()
    net.hybridize(optimize=False)
    unoptimized, unoptimized_peak = _peak(net, x)
    net.hybridize()
    optimized, optimized_peak = _peak(net, x)
    assert "del " in ast_hybrid.to_source(net, x)
    assert np.array_equal(optimized, want) and np.array_equal(unoptimized, want)
    # six 64 KiB feature maps (and their padded copies) held at once without the release
    assert optimized_peak < unoptimized_peak - 4 * x.size * 4
