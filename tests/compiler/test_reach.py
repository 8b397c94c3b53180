"""The reach analysis: which arguments each output of a program may and must come from
through recorded operations, and so whether imperative mode attaches it to the graph."""
import ast
import textwrap

import numpy as np
import pytest

from ast_hybrid.compiler import runtime
from ast_hybrid.compiler.passes.reach import OutputReach

KERNELS = {"tanh": object(), "add": object()}
NAMESPACE = {"detach": runtime.detach, "asnumpy": runtime.asnumpy, "array": runtime.array}
A = np.zeros(2)


def reach_of(source):
    function = ast.parse(textwrap.dedent(source)).body[0]
    return OutputReach(function, KERNELS, NAMESPACE)


def attached(source, needs, result=A):
    reach = reach_of(source)
    return reach.attached(needs, result) if reach.decided(needs) else None


def test_an_operator_attaches_what_it_computes_from_an_input_needing_a_gradient():
    source = """
    def f(x, w):
        h = tanh(x)
        return add(h, w)
    """
    assert attached(source, [True, False]) == [True]
    assert attached(source, [False, True]) == [True]
    assert attached(source, [False, False]) == [False]


@pytest.mark.parametrize("exit_call", ["detach(x)", "array(asnumpy(x))", "len(x.shape)"])
def test_graph_exits_leave_the_graph(exit_call):
    assert attached(f"def f(x):\n    return tanh({exit_call})", [True]) == [False]


def test_each_output_of_a_tuple_is_decided_on_its_own():
    source = """
    def f(x, y):
        return tanh(x), detach(y), (x, tanh(y))
    """
    assert attached(source, [True, True], (A, A, (A, A))) == [True, False, True, True]


def test_branches_through_different_arguments_needing_gradients_are_decided():
    source = """
    def f(x, p, q):
        if c:
            return tanh(p)
        return add(x, q)
    """
    assert attached(source, [False, True, True]) == [True]
    assert attached(source, [False, True, False]) is None   # q's branch would not attach


def test_a_branch_leaving_the_graph_makes_the_output_undecided():
    source = """
    def f(x):
        y = tanh(x)
        if c:
            y = detach(x)
        return y
    """
    assert attached(source, [True]) is None
    assert attached(source, [False]) == [False]


def test_a_loop_carries_what_its_body_computes():
    source = """
    def f(x, w):
        h = detach(x)
        while c:
            h = add(h, w)
        return h
    """
    assert attached(source, [True, True]) is None    # zero trips leave h detached
    assert attached(source, [True, False]) == [False]


def test_what_a_list_grows_by_reaches_what_is_read_out_of_it():
    source = """
    def f(x):
        items = []
        for i in range(n):
            items.append(tanh(x))
        return items[0]
    """
    assert attached(source, [False]) == [False]
    assert attached(source, [True]) == [True]


def test_a_construct_it_does_not_follow_leaves_every_output_undecided():
    source = """
    def f(x):
        with c:
            y = detach(x)
        return y
    """
    assert attached(source, [True]) is None
    assert attached(source, [False]) == [False]
