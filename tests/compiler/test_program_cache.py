"""The per-block and per-function program caches stay bounded, and so do the source lines
registered for tracebacks; every NaN is one constant; simultaneous first calls compile once;
threads calling one static_alloc block at once get their own results; a build pauses the
cyclic collector and leaves it as it found it."""
import gc
import linecache
import threading

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import nd
from ast_hybrid import program_files
from ast_hybrid.compiler import block_view
from ast_hybrid.gluon import nn

X = nd.array(np.array([[0.5, -1.0, 2.0]], dtype=np.float32))


class Scaled(nn.HybridBlock):
    def hybrid_forward(self, F, x, scale):
        return x * scale


def program_lines():
    """Source entries of generated programs: their files, and their lines in linecache
    (fewer where a test cleared it)."""
    gc.collect()
    entries = sum(1 for name in linecache.cache if program_files.is_program_file(name))
    assert entries <= program_files.count()
    return program_files.count()


def test_a_thousand_distinct_constants_keep_a_bounded_number_of_programs():
    block = Scaled()
    block.initialize()
    block.hybridize()
    before = program_lines()
    for i in range(1000):
        np.testing.assert_allclose(block(X, float(i)).asnumpy(), X.asnumpy() * i)
    assert len(block._programs) == block_view.MAX_PROGRAMS
    assert program_lines() - before <= block_view.MAX_PROGRAMS


def test_a_thousand_rehybridizations_keep_a_bounded_number_of_source_entries():
    block = Scaled()
    block.initialize()
    before = program_lines()
    for _ in range(1000):
        block.hybridize()
        block(X, 2.0)
    assert program_lines() - before <= 2


def test_every_nan_is_one_constant():
    block = Scaled()
    block.initialize()
    block.hybridize()
    for _ in range(10):
        assert np.isnan(block(X, float("nan")).asnumpy()).all()
    assert len(block._programs) == 1


def test_an_hybrid_function_keeps_a_bounded_number_of_programs():
    @ast_hybrid.hybrid
    def shifted(F, x, shift):
        return x + shift

    for i in range(200):
        np.testing.assert_allclose(shifted(X, float(i)).asnumpy(), X.asnumpy() + i)
    assert len(shifted._programs) == block_view.MAX_PROGRAMS


def test_simultaneous_first_calls_of_an_hybrid_function_compile_once(monkeypatch):
    built = []
    original = ast_hybrid.compiler.ast_front_end.build_program

    def counting(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(ast_hybrid.compiler.ast_front_end, "build_program", counting)

    @ast_hybrid.hybrid
    def doubled(F, x):
        return x * 2

    start = threading.Barrier(16)
    results = []

    def call():
        start.wait()
        results.append(doubled(X).asnumpy())

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert all((r == X.asnumpy() * 2).all() for r in results)



def test_static_alloc_is_correct_for_threads_calling_one_block_at_once():
    net = nn.HybridSequential()
    net.add(nn.Dense(64, activation="relu", in_units=32), nn.Dense(16, in_units=64))
    net.initialize()
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((4, 32)).astype(np.float32) for _ in range(8)]
    expected = [net(nd.array(x)).asnumpy() for x in inputs]
    net.hybridize(static_alloc=True)
    net(nd.array(inputs[0]))
    start = threading.Barrier(8)
    wrong = []

    def calls(index):
        start.wait()
        for _ in range(60):
            got = net(nd.array(inputs[index])).asnumpy()
            if not np.allclose(got, expected[index], rtol=1e-5, atol=1e-5):
                wrong.append(index)

    threads = [threading.Thread(target=calls, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong, f"{len(wrong)} of 480 outputs wrong"



class Doubled(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        return x * 2


def _collector_states_while(monkeypatch, module, name):
    """A list that gets whether the cyclic collector runs at each call of module.name."""
    seen = []
    original = getattr(module, name)

    def noting(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, noting)
    return seen


def test_a_build_pauses_the_collector_and_restores_its_state(monkeypatch):
    from ast_hybrid.compiler import ast_front_end, backward
    forward_states = _collector_states_while(monkeypatch, ast_front_end.specialize, "transform")
    backward_states = _collector_states_while(monkeypatch, backward.reverse, "transform")
    block = Doubled()
    block.hybridize()
    assert gc.isenabled()
    np.testing.assert_allclose(block(X).asnumpy(), X.asnumpy() * 2)
    x = X.copy()
    x.attach_grad()
    with ast_hybrid.autograd.record():
        y = block(x)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), np.full(X.shape, 2.0))
    assert forward_states == [False] and backward_states == [False]
    assert gc.isenabled()


def test_a_failed_build_restores_the_collector():
    class FailsToCompile(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            return x * undefined_name  # noqa: F821
    failing = FailsToCompile()
    failing.hybridize(fallback=False)
    with pytest.raises(NameError):
        failing(X)
    assert gc.isenabled()


def test_a_build_leaves_a_disabled_collector_disabled():
    block = Doubled()
    block.hybridize()
    gc.disable()
    try:
        block(X)
        assert not gc.isenabled()
    finally:
        gc.enable()
