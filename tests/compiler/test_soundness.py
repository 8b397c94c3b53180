"""AST mode computes what imperative mode computes (values, gradients, exception types) or
refuses: one named regression test per class of bug found, each compared with imperative
mode under every optimization setting and, where simple, with plain numpy or finite
differences written here."""
import functools
import math
import operator

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, gluon, nd
from ast_hybrid.compiler.dispatch import HybridizeFallbackWarning
from ast_hybrid.compiler.passes.errors import UnsupportedConstruct
from ast_hybrid.gluon import nn
from ast_hybrid.ops import OpError

from soundness import assert_sound, numeric_input_gradient, run_recorded

X = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
X2 = np.array([[0.3, 0.1, -0.4], [1.0, -2.0, 0.5]], dtype=np.float32)


def output_and_input_after_a_call(make_block):
    """(output, the input array after the call) imperatively, then in AST mode: for blocks
    that write into their input."""
    block = make_block()
    block.initialize()
    results = []
    for hybridize in (False, True):
        if hybridize:
            block.hybridize(fallback=False)
        x = nd.array(X)
        results.append((block(x).asnumpy(), x.asnumpy()))
    return results


def block_of(function):
    class Block(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            return function(F, x)
    Block.__name__ = function.__name__
    return Block


def check_against_numpy(function, reference, x=X):
    """AST mode equals imperative mode, and both give `reference`'s value and its
    finite-difference gradient (the loss is 1.5 * sum of the output)."""
    (outputs, gradients, _), = assert_sound(block_of(function), (x,))
    np.testing.assert_allclose(outputs[0], reference(x.astype(np.float64)), rtol=1e-5, atol=1e-6)
    numeric = 1.5 * numeric_input_gradient(reference, x)
    np.testing.assert_allclose(gradients[0], numeric, rtol=1e-3, atol=1e-3)


# ----- assignment semantics: the right side is evaluated before any name is bound
def tuple_assignment_reads_old_values(F, x):
    a, b = x, x * 3
    a, b = a * 2, a
    return a + b * 10


def test_tuple_assignment_reads_the_old_values():
    check_against_numpy(tuple_assignment_reads_old_values, lambda x: x * 2 + x * 10)


def recurrence_in_a_while_loop(F, x):
    h, c = x, x * 0.5
    n = 0
    while n < x.shape[1]:
        h, c = F.tanh(h + c), h
        n += 1
    return h + c * 3


def _recurrence(x, steps):
    h, c = x, x * 0.5
    for _ in range(steps):
        h, c = np.tanh(h + c), h
    return h + c * 3


def test_recurrence_in_a_run_time_while_loop():
    check_against_numpy(recurrence_in_a_while_loop, lambda x: _recurrence(x, 3))


def recurrence_in_a_run_time_for_loop(F, x):
    h, c = x, x * 0.5
    for _ in range(x.shape[0] + 1):
        h, c = F.tanh(h + c), h
    return h + c * 3


def test_recurrence_in_a_run_time_for_loop():
    check_against_numpy(recurrence_in_a_run_time_for_loop, lambda x: _recurrence(x, 2))


def swap_inside_a_branch(F, x):
    a, b = x * 2, x + 1
    if x.sum() > 0:
        a, b = b, a
    return a * 3 + b


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_swap_inside_a_run_time_branch(sign):
    assert_sound(block_of(swap_inside_a_branch), (X * sign,))


def starred_and_chained_targets(F, x):
    first, *rest = x * 1, x * 2, x * 3
    a = b = F.sin(x)
    (c, d), e = (rest[0], rest[1]), a
    return first + c * d + e * b


def test_starred_nested_and_chained_targets():
    check_against_numpy(starred_and_chained_targets,
                        lambda x: x + (2 * x) * (3 * x) + np.sin(x) ** 2)


# ----- builtins on arrays do what NDArray's special methods do, gradient included
def builtin_sum(F, x):
    return sum([F.sin(x), x * 0.5])


def builtin_abs(F, x):
    return abs(x) * 2


def builtin_pow(F, x):
    return pow(x, 3)


def builtin_max_of_norm(F, x):
    return x / max(F.norm(x), 1.0)


def builtin_min_picks_an_operand(F, x):
    return min(x.sum() * 2, x.sum() + 1) * x


@pytest.mark.parametrize("function, reference", [
    (builtin_sum, lambda x: np.sin(x) + x * 0.5),
    (builtin_abs, lambda x: np.abs(x) * 2),
    (builtin_pow, lambda x: x ** 3),
    (builtin_max_of_norm, lambda x: x / max(np.sqrt(np.sum(x * x)), 1.0)),
    (builtin_min_picks_an_operand, lambda x: min(x.sum() * 2, x.sum() + 1) * x),
])
def test_builtins_on_arrays_keep_their_gradient(function, reference):
    check_against_numpy(function, reference)


def builtin_min_of_arrays(F, x):
    return min(x * 2, x + 1)


def builtin_round(F, x):
    return round(x) + x


def builtin_divmod(F, x):
    return divmod(x, 0.7)[1]


def builtin_tuple_operand(F, x):
    return x * (1, 2)


@pytest.mark.parametrize("function, error", [(builtin_min_of_arrays, ValueError),
                                             (builtin_round, TypeError),
                                             (builtin_divmod, TypeError),
                                             (builtin_tuple_operand, TypeError)])
def test_builtins_imperative_mode_refuses_raise_the_same_error(function, error):
    (result,) = assert_sound(block_of(function), (X,))
    assert isinstance(result, error)


def plain_builtins(F, x):
    return x * float(x.sum().asscalar()) + len(x) + int(x.shape[1])


def test_plain_builtins_leave_the_graph():
    assert_sound(block_of(plain_builtins), (X,), (X2,))


# ----- lists grown at run time carry their gradient
def list_grown_in_a_run_time_for_loop(F, x):
    outs = [x]
    for _ in range(x.shape[0] + 2):
        outs.append(F.sin(outs[-1]))
    return outs[-1] + outs[1]


def list_extended_in_a_while_loop(F, x):
    outs = [x]
    n = 0
    while n < 2:
        outs.extend([outs[-1] * 2, F.tanh(outs[-1])])
        n += 1
    return outs[-1] * outs[-2]


def test_list_grown_by_append_in_a_run_time_loop():
    check_against_numpy(list_grown_in_a_run_time_for_loop,
                        lambda x: np.sin(np.sin(np.sin(x))) + np.sin(x))


def test_list_grown_by_extend_in_a_run_time_loop():
    def reference(x):
        outs = [x]
        for _ in range(2):
            outs.extend([outs[-1] * 2, np.tanh(outs[-1])])
        return outs[-1] * outs[-2]
    check_against_numpy(list_extended_in_a_while_loop, reference)


# ----- leaving the graph: asnumpy, detach, stop_gradient, nd.array
def through_asnumpy(F, x):
    return x * nd.array(x.asnumpy()) + float(x.asnumpy().std())


def through_detach(F, x):
    return x * x.detach()


def through_stop_gradient(F, x):
    return x * F.stop_gradient(x)


@pytest.mark.parametrize("function", [through_asnumpy, through_detach, through_stop_gradient])
def test_graph_exits_cut_the_gradient(function):
    (_, gradients, _), = assert_sound(block_of(function), (X,))
    np.testing.assert_allclose(gradients[0], 1.5 * X, rtol=1e-6)


# ----- integer indexing keeps NDArray's shapes ((1,) where numpy gives a scalar)
def integer_indexing(F, x):
    total = x[0] * 0
    for i in range(x.shape[0]):
        total = total + x[i] * x[i, 1]
    return total, x[0, 2]


def test_integer_indexing_as_ndarray_does():
    results = assert_sound(block_of(integer_indexing), (X2,), (X,))
    assert results[0][0][1].shape == (1,)


# ----- ternaries and and/or on arrays choose an operand
def ternary_on_arrays(F, x):
    return F.sin(x) if x.sum() > 0 else x * 3


def and_or_on_arrays(F, x):
    return (x.sum() > 0 and x * 2) * x + (x.sum() < 0 or x.sum() * 2) * x


@pytest.mark.parametrize("function", [ternary_on_arrays, and_or_on_arrays])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_choices_on_arrays(function, sign):
    assert_sound(block_of(function), (X * sign,))


# ----- parameters on a branch not taken keep their gradient (and Trainer sees it stale)
class Branches(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.positive = nn.Dense(2, in_units=3)
        self.negative = nn.Dense(2, in_units=3)

    def hybrid_forward(self, F, x):
        if x.sum() > 0:
            return self.positive(x)
        return self.negative(x)


def test_parameters_of_a_branch_not_taken_keep_their_gradient():
    results = assert_sound(Branches, (X,), (-X,))
    untaken = results[0][2]
    assert all((untaken[k] == 7.0).all() for k in untaken if k.startswith("negative"))


def test_trainer_warns_of_a_stale_gradient_from_an_untaken_branch():
    net = Branches()
    net.initialize()
    net(nd.array(X)), net(nd.array(-X))
    net.hybridize(fallback=False)
    trainer = gluon.Trainer(net.collect_params(), "sgd")
    with autograd.record():
        net(nd.array(X)).sum().backward()
    with pytest.raises(UserWarning, match="has not been updated"):
        trainer.step(1)


# ----- what the compiler evaluates is watched: properties follow the attributes they read
class WithProperty(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self._base = 1.0

    @property
    def offset(self):
        return self._base * 2

    def hybrid_forward(self, F, x):
        return x + self.offset


def test_a_property_follows_the_attribute_it_reads():
    net = WithProperty()
    net.initialize()
    net.hybridize(fallback=False)
    x = nd.array(X)
    np.testing.assert_allclose(net(x).asnumpy(), X + 2)
    net._base = 5.0
    np.testing.assert_allclose(net(x).asnumpy(), X + 10)


# ----- what static evaluation raises is raised where imperative mode raises it
class StaticErrors(nn.HybridBlock):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.table = {"a": 1.0}

    def hybrid_forward(self, F, x):
        if self.kind == "zero division":
            return x * (1 / 0)
        if self.kind == "missing key":
            return x * self.table["b"]
        if self.kind == "misspelt attribute":
            return x * self.tabel["a"]
        if self.kind == "undefined name":
            return x * undefined_name  # noqa: F821
        if self.kind == "list index after an operator error":
            # found by the differential fuzzer: the operator's error comes first
            total = F.sum(x, axis=5)
            return total + [x][3]
        if x.sum() > 100:           # never taken here: imperative mode raises nothing
            return x * (1 / 0)
        return x * 2


@pytest.mark.parametrize("kind, error", [("zero division", ZeroDivisionError),
                                         ("missing key", KeyError),
                                         ("misspelt attribute", AttributeError),
                                         ("undefined name", NameError),
                                         ("list index after an operator error",
                                          OpError),
                                         ("untaken branch", None)])
def test_static_errors_raise_at_run_time_with_their_own_type(kind, error):
    (result,) = assert_sound(lambda: StaticErrors(kind), (X,))
    if error is None:
        assert not isinstance(result, Exception)
    else:
        assert type(result) is error


# ----- a gradient the reverse pass does not know is a refusal, also for backward
def unknown_function_on_arrays(F, x):
    return operator.mul(x, F.sin(x))    # NDArray's own product imperatively: recorded


def test_an_unknown_gradient_is_refused_not_zero():
    net = block_of(unknown_function_on_arrays)()
    net.initialize()
    net.hybridize(fallback=False)
    x = nd.array(X)
    x.attach_grad()
    with pytest.raises(UnsupportedConstruct, match="mul"):
        with autograd.record():
            net(x)
    with pytest.raises(UnsupportedConstruct):
        ast_hybrid.to_source(net, backward=True)


def test_an_unknown_gradient_falls_back_with_one_warning():
    net = block_of(unknown_function_on_arrays)()
    net.initialize()
    net.hybridize()
    with pytest.warns(HybridizeFallbackWarning) as caught:
        first = run_recorded(net, (X,))
        run_recorded(net, (X,))
    assert len(caught) == 1 and "mul" in str(caught[0].message)
    np.testing.assert_allclose(first[1][0], 1.5 * (np.sin(X) + X * np.cos(X)), rtol=1e-5)


def numpy_function_on_arrays(F, x):
    return x * np.tanh(x)       # numpy reads the NDArray's values: outside the graph


def test_numpy_functions_leave_the_graph_as_imperatively():
    (_, gradients, _), = assert_sound(block_of(numpy_function_on_arrays), (X,))
    np.testing.assert_allclose(gradients[0], 1.5 * np.tanh(X), rtol=1e-5)


def shape_arithmetic_is_not_differentiated(F, x):
    return x * math.sqrt(x.shape[1])


def test_a_plain_function_of_shapes_needs_no_gradient():
    check_against_numpy(shape_arithmetic_is_not_differentiated, lambda x: x * math.sqrt(3))


def nd_functions_in_hybrid_forward(F, x):
    return nd.relu(x) * 2 + nd.sigmoid(x)


def test_nd_functions_lower_like_F():
    check_against_numpy(nd_functions_in_hybrid_forward,
                        lambda x: np.maximum(x, 0) * 2 + 1 / (1 + np.exp(-x)))


def loop_over_rows(F, x):
    total = x[0] * 0
    for row in x:
        total = total + F.sin(row) * row[0]
    return total


def test_a_loop_over_an_arrays_rows_iterates_as_ndarray_does():
    def reference(x):
        return sum(np.sin(row) * row[0] for row in x)
    check_against_numpy(loop_over_rows, reference, X2)
    (outputs, _, _), = assert_sound(block_of(loop_over_rows), (X2[0],))
    assert outputs[0].shape == (1,)


def item_assignment(F, x):
    y = F.zeros_like(x)
    y[0, 1] = x.sum()           # a one-element array fills one element, as NDArray assigns
    y[:, 0] = 2.0
    return y * 1


def test_item_assignment_as_ndarray_assigns():
    block = block_of(item_assignment)()
    block.initialize()
    x = nd.array(X)
    want = block(x).asnumpy()
    block.hybridize(fallback=False)
    np.testing.assert_allclose(block(x).asnumpy(), want)
    np.testing.assert_allclose(want, [[2.0, X.sum(), 0.0]])


class AugmentedOnAnInput(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        alias = x
        x += 1
        x *= 2
        return alias * 3


def test_augmented_assignment_writes_into_the_array_as_ndarray_does():
    results = output_and_input_after_a_call(AugmentedOnAnInput)
    np.testing.assert_allclose(results[1][0], results[0][0])
    np.testing.assert_allclose(results[1][1], (X + 1) * 2)
    np.testing.assert_allclose(results[0][0], (X + 1) * 2 * 3)


SCALE_OF_GUARDED_BLOCK = 2.0


class Settings:
    shift = 1.0


SETTINGS_OF_GUARDED_BLOCK = Settings()


def guarded_block():
    factors = [3.0]

    class Guarded(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            return x * SCALE_OF_GUARDED_BLOCK + SETTINGS_OF_GUARDED_BLOCK.shift + factors[0]
    return Guarded(), factors


def test_globals_closures_and_plain_attributes_read_while_compiling_are_guarded():
    global SCALE_OF_GUARDED_BLOCK
    block, factors = guarded_block()
    block.initialize()
    block.hybridize(fallback=False)
    x = nd.ones((1,))
    try:
        assert block(x).asscalar() == 6.0
        SCALE_OF_GUARDED_BLOCK = 5.0
        assert block(x).asscalar() == 9.0
        SETTINGS_OF_GUARDED_BLOCK.shift = 0.0
        assert block(x).asscalar() == 8.0
        factors[0] = 0.0
        assert block(x).asscalar() == 5.0
    finally:
        SCALE_OF_GUARDED_BLOCK = 2.0
        SETTINGS_OF_GUARDED_BLOCK.shift = 1.0


class ListAliases(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        outs = [x]
        alias = outs
        nested = [outs]
        for _ in range(x.shape[0] + 1):
            outs.append(outs[-1] * 2)
        return alias[-1] + len(alias) + len(nested[0])


class ListGrownByAHelper(nn.HybridBlock):
    def grow(self, items, value):
        items.append(value)

    def hybrid_forward(self, F, x):
        outs = [x]
        self.grow(outs, F.sin(x))
        return outs[-1] * len(outs)


@pytest.mark.parametrize("make", [ListAliases, ListGrownByAHelper])
def test_every_holder_of_a_list_sees_it_grow(make):
    assert_sound(make, (X,), (X2,))


def through_copy(F, x):
    return x.copy() * x


def test_copy_is_differentiable_as_in_mxnet():
    # MXNet 1.9.1 records copy(): d(copy(x) * x)/dx = 2x (checked with mxnet==1.9.1)
    check_against_numpy(through_copy, lambda x: x * x)


def in_place_update_under_recording(F, y):
    v = y * 1.0
    v += F.relu(y + y)
    return v


def test_an_in_place_update_of_a_recorded_array_is_refused_as_mxnet_refuses_it():
    from ast_hybrid import MXNetError
    block = block_of(in_place_update_under_recording)()
    block.initialize()
    assert isinstance(run_recorded(block, (X,)), MXNetError)
    block.hybridize(fallback=False)
    assert isinstance(run_recorded(block, (X,)), UnsupportedConstruct)
    block.hybridize()
    with pytest.warns(HybridizeFallbackWarning, match="in-place write"):
        assert isinstance(run_recorded(block, (X,)), MXNetError)
    block.hybridize(fallback=False)
    with autograd.pause():
        np.testing.assert_allclose(block(nd.array(X)).asnumpy(), X + np.maximum(2 * X, 0))


class OutArgument(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        alias = x
        y = F.relu(x, out=x)
        return alias * 2 + y


def test_an_out_argument_receives_the_result_as_in_mxnet():
    results = output_and_input_after_a_call(OutArgument)
    for got in results:
        np.testing.assert_allclose(got[1], np.maximum(X, 0))
        np.testing.assert_allclose(got[0], np.maximum(X, 0) * 3)


class ShortCircuit(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.limit = 0

    def hybrid_forward(self, F, x):
        count = x.shape[0] - 2              # a run-time value: 0 for one row
        first = count > 0 and x[count] * 2  # x[count] would be out of range: not evaluated
        last = self.limit < 1 and x.sum() > 0
        return x * (first + 1) + last


def test_and_or_stop_at_the_operand_that_decides():
    assert_sound(ShortCircuit, (X,), (X2,))


class Recursive(nn.HybridBlock):
    def halve(self, F, x):
        return self.halve(F, x * 0.5) if x.sum() > 1 else x

    def hybrid_forward(self, F, x):
        return self.halve(F, x)


def test_recursion_on_run_time_values_is_refused():
    block = Recursive()
    block.initialize()
    block.hybridize(fallback=False)
    with pytest.raises(UnsupportedConstruct, match="calling itself"):
        block(nd.array(X))


def dead_shape_error(F, x):
    unused = F.dot(x, x)        # (1, 3) . (1, 3): imperative mode raises here
    return x * 2


def test_a_dead_operator_call_still_raises_its_error():
    (result,) = assert_sound(block_of(dead_shape_error), (X,))
    assert isinstance(result, OpError)


def output_through_stop_gradient(F, x):
    # found by the differential fuzzer: the output depends on x only through stop_gradient;
    # imperative mode writes a zero gradient and raises nothing
    return F.tanh(F.tanh(F.stop_gradient(x))) * 0.5


def test_an_output_through_stop_gradient_has_a_zero_gradient():
    (_, gradients, _), = assert_sound(block_of(output_through_stop_gradient), (X,))
    assert not gradients[0].any()


def only_through_stop_gradient(F, x):
    return F.stop_gradient(x)     # found by the differential fuzzer


def test_an_input_reached_only_through_stop_gradient_gets_a_zero_gradient():
    (_, gradients, _), = assert_sound(block_of(only_through_stop_gradient), (X,))
    assert not gradients[0].any()


# ----- an output imperative mode computes outside the graph stays outside it
def output_rebuilt_from_numpy(F, x):
    return nd.array(x.asnumpy()) * 2     # found by the differential fuzzer


def output_detached(F, x):
    return x.detach()


def output_comparing_an_input(F, x):
    return x > 0                        # recorded: backward gives a zero gradient


@pytest.mark.parametrize("function", [output_rebuilt_from_numpy, output_detached])
def test_an_output_outside_the_graph_cannot_be_differentiated_as_imperatively(function):
    from ast_hybrid import MXNetError
    (error,) = assert_sound(block_of(function), (X,))
    assert isinstance(error, MXNetError)


def test_an_output_computed_by_a_recorded_comparison_is_in_the_graph():
    (_, gradients, _), = assert_sound(block_of(output_comparing_an_input), (X,))
    assert not gradients[0].any()


class OutputsInAndOutOfTheGraph(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        return nd.array(x.asnumpy()), x * 3, x.detach() + 1


def test_each_output_is_attached_as_imperative_mode_attaches_it():
    block = OutputsInAndOutOfTheGraph()
    block.initialize()
    block.hybridize(fallback=False)
    x = nd.array(X)
    x.attach_grad()
    with autograd.record():
        outside, inside, detached = block(x)
    inside.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), np.full_like(X, 3.0))
    for output in (outside, detached):
        with pytest.raises(ast_hybrid.MXNetError):
            output.backward()


class OutsideTheGraphOnOneBranch(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        if x.sum() > 0:
            return nd.array(x.asnumpy())
        return x * 2


def test_an_output_outside_the_graph_on_one_branch_only_is_refused_while_recording():
    block = OutsideTheGraphOnOneBranch()
    block.initialize()
    block.hybridize(fallback=False)
    assert isinstance(run_recorded(block, (X,)), UnsupportedConstruct)
    with autograd.pause():
        np.testing.assert_allclose(block(nd.array(-X)).asnumpy(), -2 * X)
    block.hybridize()
    with pytest.warns(HybridizeFallbackWarning, match="outside the graph"):
        result = run_recorded(block, (-X,))
    np.testing.assert_allclose(result[1][0], np.full_like(X, 2 * 1.5))


class WriteIntoAReadConstant(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        ones = F.ones_like(x)
        scaled = x * ones
        ones += 1                       # ones is read by a recorded node: MXNet refuses
        return scaled + ones


def test_an_in_place_write_while_recording_runs_imperatively():
    from ast_hybrid import MXNetError
    block = WriteIntoAReadConstant()
    block.initialize()
    assert isinstance(run_recorded(block, (X,)), MXNetError)
    block.hybridize()
    with pytest.warns(HybridizeFallbackWarning, match="in-place write"):
        assert isinstance(run_recorded(block, (X,)), MXNetError)
    with autograd.pause():
        np.testing.assert_allclose(block(nd.array(X)).asnumpy(), X + 2)


# ----- what an unrolled loop has still to bind keeps the value it had
class RebindsAnItemOfItsLoop(nn.HybridBlock):
    # found by the differential fuzzer: the list is built before the loop rebinds `total`
    def hybrid_forward(self, F, x):
        total = x.detach()
        for step, item in enumerate([x, total]):
            total = total + F.tanh(item) * (step + 1)
        return total


def rebinds_a_name_a_list_holds(F, x):
    total = x * 2
    held = [total, x]
    total = total + 1
    return held[0] * total


def test_an_unrolled_loop_binds_the_items_its_list_held():
    (outputs, gradients, _), = assert_sound(RebindsAnItemOfItsLoop, (X,))
    np.testing.assert_allclose(outputs[0], X + np.tanh(X) + 2 * np.tanh(X), rtol=1e-5)
    np.testing.assert_allclose(gradients[0], 1.5 * (1 - np.tanh(X) ** 2), rtol=1e-5)


def test_rebinding_a_name_leaves_the_list_holding_its_old_value():
    check_against_numpy(rebinds_a_name_a_list_holds, lambda x: (2 * x) * (2 * x + 1))


def stop_gradient_after_arithmetic(F, x):
    # found by the differential fuzzer: x reaches the output through recorded arithmetic
    # before stop_gradient, and imperative mode writes it a zero gradient
    return F.stop_gradient(abs(x * 2 + 1))


def test_an_input_reached_before_stop_gradient_gets_a_zero_gradient():
    assert_sound(block_of(stop_gradient_after_arithmetic), (X,))
    block = block_of(stop_gradient_after_arithmetic)()
    for hybridize in (False, True):
        block.hybridize(active=hybridize, fallback=False)
        x = nd.array(X)
        x.attach_grad()
        x.grad[:] = 7.0             # a stale value shows whether the gradient was written
        with autograd.record():
            output = block(x)
        output.backward()
        assert not x.grad.asnumpy().any(), f"hybridized={hybridize}"


# ----- a variable some run-time path leaves unset is never read by the compiler's moves
class SetOnSomePathsOnly(nn.HybridBlock):
    # found by the differential fuzzer: `low` and `high` are each set on one inner path, so
    # the outer merge's moves read a variable that may be unset (UnboundLocalError)
    def hybrid_forward(self, F, x):
        if x.max() > 1.0:
            big = x * 2
        elif x.mean() < 0.0:
            low = x - 1
        else:
            high = x + 1
        return x * 3


@pytest.mark.parametrize("scale", [1.0, -1.0, 0.1])
def test_a_variable_set_on_some_paths_only_is_not_read_when_merging(scale):
    (outputs, _, _), = assert_sound(SetOnSomePathsOnly, (X * scale,))
    np.testing.assert_allclose(outputs[0], X * scale * 3)


# ----- the gradient flows through what kernels compute, whatever function runs them
class SumOfAGrownList(nn.HybridBlock):
    # found by the differential fuzzer: sum() of a list grown at run time gave x no gradient
    def hybrid_forward(self, F, x):
        outs = [F.tanh(x)]
        for _ in range(x.shape[0]):
            outs.append(outs[-1] * 0.5 + F.tanh(x))
        return sum(outs)


def sum_of_a_grown_list_reference(x):
    outs = [np.tanh(x)]
    for _ in range(x.shape[0]):
        outs.append(outs[-1] * 0.5 + np.tanh(x))
    return sum(outs)


def test_sum_of_a_list_grown_at_run_time_keeps_its_gradient():
    (outputs, gradients, _), = assert_sound(SumOfAGrownList, (X2,))
    np.testing.assert_allclose(outputs[0], sum_of_a_grown_list_reference(X2), rtol=1e-5)
    numeric = 1.5 * numeric_input_gradient(sum_of_a_grown_list_reference, X2)
    np.testing.assert_allclose(gradients[0], numeric, rtol=1e-3, atol=1e-3)


class ReduceOfAGrownList(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        outs = [F.tanh(x)]
        for _ in range(x.shape[0]):
            outs.append(F.tanh(outs[-1]))
        return functools.reduce(operator.add, outs)


def test_an_unknown_call_on_what_a_kernel_computed_is_refused_for_backward():
    block = ReduceOfAGrownList()
    block.initialize()
    block.hybridize(fallback=False)
    assert isinstance(run_recorded(block, (X2,)), UnsupportedConstruct)
    block.hybridize()
    with pytest.warns(HybridizeFallbackWarning, match="reduce"):
        compiled = run_recorded(block, (X2,))
    block.hybridize(active=False)
    imperative = run_recorded(block, (X2,))
    np.testing.assert_allclose(compiled[1][0], imperative[1][0], rtol=1e-6)


# ----- `x op= y` on a value that may be an array writes into it, as NDArray does
class AugmentedItemOfARunTimeList(nn.HybridBlock):
    # found by the differential fuzzer: the item of a run-time list was rebound, not
    # written into, so the list did not see the change and recording raised nothing
    def hybrid_forward(self, F, x):
        outs = [x * 1.0]
        for _ in range(x.shape[0]):
            outs.append(outs[-1] * 2)
        last = outs[-1]
        last += 1
        return outs[-1] * 3


def test_an_augmented_item_of_a_run_time_list_is_written_in_place():
    from ast_hybrid import MXNetError
    block = AugmentedItemOfARunTimeList()
    block.initialize()
    assert isinstance(run_recorded(block, (X2,)), MXNetError)   # as MXNet refuses it
    block.hybridize(fallback=False)
    np.testing.assert_allclose(block(nd.array(X2)).asnumpy(), (X2 * 4 + 1) * 3, rtol=1e-6)
    assert isinstance(run_recorded(block, (X2,)), UnsupportedConstruct)
    block.hybridize()
    with pytest.warns(HybridizeFallbackWarning, match="in-place write"):
        assert isinstance(run_recorded(block, (X2,)), MXNetError)


class CountingLoop(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        count = 0
        while x.sum() > 0.1:
            count += 1
            x = x * 0.5
        return x * count


def test_a_counter_in_a_run_time_loop_is_compiled_while_recording():
    assert_sound(CountingLoop, (np.abs(X2) + 0.5,), (np.abs(X2) * 0.01,))


class ExtendedInPlace(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        items = [x]
        alias = items
        items += [x * 2]
        return F.add_n(*alias)


def test_list_plus_equals_extends_the_list_every_alias_sees():
    (outputs, _, _), = assert_sound(ExtendedInPlace, (X,))
    np.testing.assert_allclose(outputs[0], X * 3)


class GrowsUnderRunTimeCondition(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        items = [x]
        if x.sum() > 100:
            items += [x * 2]
        return len(items) + sum(items)


def test_list_plus_equals_under_a_run_time_condition_grows_only_when_taken():
    """Once grew the list while compiling whichever branch ran: len() was always 2."""
    (small, _, _), (large, _, _) = assert_sound(GrowsUnderRunTimeCondition, (X,), (X * 100,))
    np.testing.assert_allclose(small[0], 1 + X)
    np.testing.assert_allclose(large[0], 2 + 300 * X, rtol=1e-6)


class PlainNumpyComparison(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        plain = x.asnumpy()
        return x * float((plain > 0).sum() + plain.T.sum())


def test_comparisons_and_attributes_of_plain_numpy_values_stay_numpy():
    """Once lowered `plain > 0` as an NDArray operator, so `.sum()` gave a (1,) array."""
    (outputs, _, _), = assert_sound(PlainNumpyComparison, (X2,))
    np.testing.assert_allclose(outputs[0], X2 * np.float32((X2 > 0).sum() + X2.sum()),
                               rtol=1e-6)


class BoundOnlyInARunTimeLoop(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        for i in range(x.shape[0] - 1):
            scale = 5
        return x * scale


class ReadsTheEarlierPass(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        total = x
        for i in range(x.shape[0]):
            if i > 0:
                total = total + previous     # noqa: F821 (bound by the earlier pass)
            previous = x * i
        return total


def test_a_name_first_bound_in_a_run_time_loop_is_unbound_until_a_pass_binds_it():
    """Once took a number bound in the loop as known after it, even when the loop ran no
    pass (imperatively UnboundLocalError), and a read in a later pass raised instead of
    seeing the earlier pass's value."""
    one_row, two_rows = X2[:1], X2
    results = assert_sound(BoundOnlyInARunTimeLoop, (one_row,), (two_rows,))
    assert isinstance(results[0], UnboundLocalError)
    np.testing.assert_allclose(results[1][0][0], two_rows * 5)
    (outputs, _, _), = assert_sound(ReadsTheEarlierPass, (X2,))
    np.testing.assert_allclose(outputs[0], X2 + X2 * 0, rtol=1e-6)


class DefinesInARunTimeLoop(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        for i in range(x.shape[0] - 2):
            def double(a):
                return a * 2
        return double(x)


def test_a_function_defined_in_a_run_time_loop_is_refused_after_it():
    """Once inlined after a loop that ran no pass, where imperatively it is unbound."""
    block = DefinesInARunTimeLoop()
    block.hybridize(fallback=False)
    with pytest.raises(UnsupportedConstruct, match="defined in the compiled code"):
        block(nd.array(X2))


class BoundOnlyOnABranch(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        if x.sum() > 100:
            scale = x * 2
        return x * scale


def test_a_name_a_branch_leaves_unset_raises_when_read_while_recording_too():
    """The recording program starts every variable set (its values tuple reads them all):
    one a path leaves unset is checked where it is read."""
    large = np.abs(X2) * 100
    results = assert_sound(BoundOnlyOnABranch, (X2,), (large,))
    assert isinstance(results[0], UnboundLocalError)
    np.testing.assert_allclose(results[1][0][0], large ** 2 * 2, rtol=1e-5)


class BoundInALoopThatMayNotRun(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        if x.max() > 1.0:
            count = 0
            while count < 3 and x.mean() > 1.0:
                count += 1
                unused = x * 2
                x = x * 0.5 - 0.25
        return x


def test_a_name_bound_only_in_a_loop_that_ran_no_pass_is_not_read_at_a_merge():
    """Once moved at the branch's merge as if the loop had bound it: UnboundLocalError
    where imperative mode, which never reads it, returns."""
    assert_sound(BoundInALoopThatMayNotRun, (np.array([[3.0, 0.0], [0.0, 0.0]], np.float32),),
                 (np.full((2, 2), 3.0, np.float32),), (X2,))


class DropoutOnSparseInput(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)

    def hybrid_forward(self, F, x):
        return self.drop(x) * 3


def test_dropout_on_zero_inputs_differentiates_through_its_mask_in_every_mode():
    """A kept zero input has gradient 1/(1-p), as in MXNet 1.9.1: the mask decides, not the
    output (which is zero for kept and dropped zeros alike)."""
    data = np.zeros((30, 4), dtype=np.float32)
    data[::4] = 2.0
    ast_hybrid.random.seed(9)
    want = nd.Dropout(nd.ones(data.shape), p=0.5, mode="always").asnumpy() * 3
    for mode in (None, "ast", "trace"):
        block = DropoutOnSparseInput()
        if mode:
            block.hybridize(mode=mode, fallback=False)
        x = nd.array(data)
        x.attach_grad()
        ast_hybrid.random.seed(9)
        with autograd.record():
            y = block(x)
        y.backward()
        np.testing.assert_allclose(x.grad.asnumpy(), want, err_msg=str(mode))
