"""The rebindings pass: later top-level assignments of a variable bind fresh names, so that
recordings keep no stack of overwritten values; everything else is left as it was."""
import ast
import textwrap

import numpy as np
import pytest

from ast_hybrid import autograd, nd
from ast_hybrid.compiler.naming import Namer
from ast_hybrid.compiler.passes import rebindings
from ast_hybrid.gluon import HybridBlock


def _renamed(source):
    tree = ast.parse(textwrap.dedent(source))
    function = tree.body[0]
    before = ast.dump(function)
    namer = Namer({n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
                  | {a.arg for a in ast.walk(function) if isinstance(a, ast.arg)})
    result = rebindings.transform(function, namer)
    assert ast.dump(function) == before, "the tree given was changed"
    return ast.unparse(result)


def test_straight_line_rebindings_bind_fresh_names():
    assert _renamed("""
        def f(x, w):
            x = relu(x)
            x = dot(x, w)
            y, x = split(x)
            return x + y
        """) == textwrap.dedent("""\
        def f(x, w):
            x_1 = relu(x)
            x_2 = dot(x_1, w)
            y, x_3 = split(x_2)
            return x_3 + y""")


def test_reads_in_later_branches_and_loops_follow_the_new_name():
    assert _renamed("""
        def f(x):
            x = relu(x)
            if c:
                y = x
            for i in range(3):
                print(x[i])
            return y
        """) == textwrap.dedent("""\
        def f(x):
            x_1 = relu(x)
            if c:
                y = x_1
            for i in range(3):
                print(x_1[i])
            return y""")


@pytest.mark.parametrize("source", [
    "def f(x):\n    x = relu(x)\n    if c:\n        x = x * 2\n    return x",
    "def f(x):\n    x = relu(x)\n    for i in range(2):\n        x = x * 2\n    return x",
    "def f(x):\n    x = relu(x)\n    x += 1\n    return x",
    "def f(x):\n    g = lambda: x\n    x = relu(x)\n    return g()",
    "def f(x):\n    x = relu(x)\n    return [x for x in range(3)]",
    "def f(x):\n    global x\n    x = relu(x)\n    return x",
    "def f(x):\n    with m() as x:\n        pass\n    x = relu(x)\n    return x",
])
def test_a_variable_bound_elsewhere_or_seen_by_a_nested_scope_keeps_its_name(source):
    assert _renamed(source) == source


def test_subscript_targets_write_into_the_current_value():
    assert _renamed("""
        def f(x):
            x = copy(x)
            x[0] = 1
            return x
        """) == textwrap.dedent("""\
        def f(x):
            x_1 = copy(x)
            x_1[0] = 1
            return x_1""")


class _Rebinding(HybridBlock):
    def hybrid_forward(self, F, x):
        x = F.relu(x)
        x = x * x
        x = F.log_softmax(x)
        return F.sum(x)


def test_a_recording_of_rebindings_keeps_no_stack_and_differentiates_as_imperative_mode():
    x = nd.array(np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], np.float32))
    grads = {}
    for mode in ("imperative", "ast"):
        block = _Rebinding()
        if mode == "ast":
            block.hybridize(fallback=False)
        x.attach_grad()
        with autograd.record():
            y = block(x)
        y.backward()
        grads[mode] = x.grad.asnumpy().copy()
    entry, = block._program_cache.programs.values()
    source = entry.differentiated().source
    assert "push(" not in source and "pop()" not in source, source
    np.testing.assert_array_equal(grads["ast"], grads["imperative"])
    # finite differences of the same function, in float64
    data = x.asnumpy().astype(np.float64)

    def f(a):
        h = np.maximum(a, 0) ** 2
        return np.sum(h - h.max(axis=-1, keepdims=True) - np.log(
            np.exp(h - h.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True)))
    numeric = np.zeros_like(data)
    for index in np.ndindex(data.shape):
        step = np.zeros_like(data)
        step[index] = 1e-6
        numeric[index] = (f(data + step) - f(data - step)) / 2e-6
    np.testing.assert_allclose(grads["ast"], numeric, rtol=1e-3, atol=1e-4)
