"""The loop-exits pass (break, continue and return inside loops as flags): the rewritten
function behaves as the original in plain Python, and AST mode compiles such loops with the
values and gradients of imperative mode."""
import ast
import inspect
import textwrap

import numpy as np
import pytest

from ast_hybrid.compiler.passes import inline, loop_exits
from ast_hybrid.gluon import nn

from soundness import assert_sound

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)


def rewritten(function):
    """`function` rewritten by the pass (then tail returns, as the specializer runs them),
    compiled as plain Python: dotted flag names become identifiers."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    node = inline.transform(loop_exits.transform(tree.body[0]))
    for name in ast.walk(node):
        if isinstance(name, ast.Name):
            name.id = name.id.replace(".", "_")
    module = ast.fix_missing_locations(ast.Module([node], []))
    namespace = {}
    exec(compile(module, "<rewritten>", "exec"), namespace)
    return namespace[function.__name__], node


def first_over(values, limit):
    for index, value in enumerate(values):
        if value > limit:
            return index, value
    return None


def skips_and_stops(values):
    total = 0
    for value in values:
        if value < 0:
            continue
        if value > 10:
            break
        total += value
    else:
        total = -total
    return total, value if values else None


def nested_return(rows):
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value == 0:
                return i, j
        if len(row) > 3:
            break
    return None


def while_with_exits(n):
    steps = []
    while n > 1:
        if n % 7 == 0:
            return "seven", steps
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        if n in (5, 6):
            continue
        steps.append(n)
        if len(steps) > 6:
            break
    return "done", steps


CASES = [
    (first_over, [([1, 5, 3], 2), ([1, 2], 5), ([], 0), ([9], 1)]),
    (skips_and_stops, [([1, -2, 3],), ([1, 20, 3],), ([],), ([-1, -1],)]),
    (nested_return, [([[1, 2], [3, 0]],), ([[1, 2, 3, 4], [0]],), ([[5]],), ([],)]),
    (while_with_exits, [(27,), (14,), (1,), (6,), (3,)]),
]


@pytest.mark.parametrize("function, calls", CASES, ids=[c[0].__name__ for c in CASES])
def test_the_rewritten_function_behaves_as_the_original(function, calls):
    new, node = rewritten(function)
    assert not any(isinstance(n, (ast.Break, ast.Continue)) for n in ast.walk(node))
    for args in calls:
        assert new(*args) == function(*args), (args, ast.unparse(node))


def test_loops_without_early_exits_are_left_alone():
    def plain(values):
        total = 0
        for value in values:
            total += value
        return total

    _, node = rewritten(plain)
    assert "loop" not in ast.unparse(node)


class ReturnsFromRunTimeLoop(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        for step in range(5):
            x = x * 2
            if x.sum() > 10:
                return x * step
        return -x


class ReturnsFromStaticLoop(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        for scale in (1, 2, 3):
            if scale == 2:
                return x * scale
        return x


class BreaksOutOfWhileTrue(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        count = 0
        while True:
            x = x * 1.5
            count += 1
            if x.abs().sum() > 20:
                break
        return x + count


class SkipsRowsAtRunTime(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        total = F.zeros_like(x[0])
        for row in x:
            if row.sum() < 0:
                continue
            total = total + row * row
        return total


class ReturnsFromNestedLoops(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        for i in range(3):
            for j in range(2):
                x = x + i * j
                if x.mean() > 2:
                    return x * (i + 1)
        return x


class LoopVariableAfterBreak(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        for k in range(4):
            if (x * k).sum() > 3:
                break
        else:
            k = 10
        return x * k


@pytest.mark.parametrize("make", [ReturnsFromRunTimeLoop, ReturnsFromStaticLoop,
                                  BreaksOutOfWhileTrue, SkipsRowsAtRunTime,
                                  ReturnsFromNestedLoops, LoopVariableAfterBreak])
def test_early_exits_compile_with_imperative_values_and_gradients(make):
    assert_sound(make, [X], [X * 10], [-X])


def test_return_in_a_loop_gives_numpy_values():
    expected = assert_sound(ReturnsFromRunTimeLoop, [X])
    x, want = X.copy(), None
    for step in range(5):
        x = x * 2
        if x.sum() > 10:
            want = x * step
            break
    np.testing.assert_allclose(expected[0][0][0], want if want is not None else -x)
    np.testing.assert_allclose(expected[0][1][0], np.full_like(X, 1.5 * 2 ** 3 * 2))
