"""Everyday Gluon code compiles in AST mode (fallback=False) and computes what imperative mode
computes, in values and gradients: **params, plain numpy values, composed @hybrid functions,
list and tuple inputs, operators on lists grown at run time, dicts of arrays, lambdas."""
import warnings

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, nd
from ast_hybrid.compiler.dispatch import HybridizeFallbackWarning
from ast_hybrid.compiler.passes.errors import UnsupportedConstruct
from ast_hybrid.gluon import nn
from ast_hybrid.ops import OpError

from soundness import assert_sound, numeric_input_gradient

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)


def strict(block):
    block.hybridize(fallback=False)
    return block


def recorded(function, *arrays):
    """(output, gradients of the arrays) of sum(function(*arrays) * 1.5), recorded."""
    arrays = [nd.array(a) for a in arrays]
    for a in arrays:
        a.attach_grad()
    with autograd.record():
        output = function(*arrays)
        (output * 1.5).sum().backward()
    return output.asnumpy(), [a.grad.asnumpy() for a in arrays]


class ParamsAsKeywords(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.weight = self.params.get("weight", shape=(3, 4))
        self.bias = self.params.get("bias", shape=(4,))

    def hybrid_forward(self, F, x, **params):
        total = F.dot(x, params["weight"]) + params.get("bias")
        return total * len(params) + sum(1 for name in params if "w" in name)


class HoldsParamsAsKeywords(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.inner = ParamsAsKeywords()

    def hybrid_forward(self, F, x):
        return self.inner(x) * 2


@pytest.mark.parametrize("make", [ParamsAsKeywords, HoldsParamsAsKeywords])
def test_parameters_received_as_keywords(make):
    assert_sound(make, [X])


def test_keywords_table_reads_as_a_dict():
    class Reads(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.a = self.params.get("a", shape=(3,))
            self.b = self.params.get("b", shape=(3,))

        def hybrid_forward(self, F, x, **kwargs):
            total = x
            for name, value in sorted(kwargs.items()):
                total = total * value if name == "a" else total + value
            copied = dict(kwargs)
            extra = {"c": x, **copied}
            return total + extra["c"] + ("c" in extra) + ("z" in kwargs) + len(list(kwargs))

    assert_sound(Reads, [X])


def test_a_dict_of_arrays_built_in_the_forward():
    class Builds(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            parts = {"double": x * 2, "square": x * x}
            parts["sum"] = parts["double"] + parts["square"]
            return sum(parts.values()) + parts.get("missing", 1.0)

    expected = assert_sound(Builds, [X])
    np.testing.assert_allclose(expected[0][0][0], 2 * (2 * X + X * X) + 1.0, rtol=1e-6)


def test_plain_numpy_values_keep_numpy_semantics():
    class Plain(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            plain = x.asnumpy()
            statistic = plain.std() + (plain > 0).sum() + np.median(plain) + plain.T.sum()
            return x * float(statistic)

    expected = assert_sound(Plain, [X])
    statistic = X.std() + (X > 0).sum() + np.median(X) + X.sum()
    np.testing.assert_allclose(expected[0][0][0], X * np.float32(statistic), rtol=1e-5)


def test_numpy_functions_that_call_array_methods_are_refused():
    class NumpySum(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            return x * np.sum(x)

    block = strict(NumpySum())
    with pytest.raises(UnsupportedConstruct, match=r"numpy's sum\(\) on an array"):
        block(nd.array(X))


def test_context_methods_and_copyto():
    class Contexts(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            same = x.as_in_context(x.context).copyto(x.ctx)
            return same * 2 + x.detach()

    assert_sound(Contexts, [X])


def test_copyto_into_another_array_writes_it():
    class Into(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            target = F.zeros_like(x)
            x.copyto(target)
            return target + 1

    block = Into()
    want = block(nd.array(X)).asnumpy()
    np.testing.assert_array_equal(strict(block)(nd.array(X)).asnumpy(), want)
    np.testing.assert_array_equal(want, X + 1)


@ast_hybrid.hybrid
def blend(F, x, y, alpha=0.5):
    return alpha * x + (1 - alpha) * F.relu(y)


@ast_hybrid.hybrid
def blend_twice(F, x, y):
    return blend(x, y=y, alpha=0.2) * 2 + blend(y, x)


def test_hybrid_functions_compose_with_keywords():
    a, b = X, X[::-1].copy()
    got, got_grads = recorded(lambda x, y: blend_twice(x, y), a, b)
    relu = lambda v: np.maximum(v, 0)
    want = (0.2 * a + 0.8 * relu(b)) * 2 + (0.5 * b + 0.5 * relu(a))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    numeric = numeric_input_gradient(
        lambda v: 1.5 * ((0.2 * v + 0.8 * relu(b)) * 2 + (0.5 * b + 0.5 * relu(v))), a)
    np.testing.assert_allclose(got_grads[0], numeric, rtol=1e-3, atol=1e-3)
    # keywords in any order, one program per set of names
    first = blend(nd.array(a), alpha=0.3, y=nd.array(b)).asnumpy()
    np.testing.assert_allclose(first, 0.3 * a + 0.7 * relu(b), rtol=1e-6)
    with pytest.raises(TypeError, match="blend"):
        blend(nd.array(a), z=1)


def test_a_block_calls_a_hybrid_function():
    class Uses(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            return blend(x, y=x * 3, alpha=0.25)

    assert_sound(Uses, [X])


class TakesStates(nn.HybridBlock):
    def hybrid_forward(self, F, x, states):
        h, c = states
        return x * h + c, [h * 2, c + x]


def run_with_states(block, container):
    x, h, c = (nd.array(X * k) for k in (1.0, 2.0, 3.0))
    for a in (x, h, c):
        a.attach_grad()
    with autograd.record():
        out, new = block(x, container([h, c]))
        (out.sum() + (new[0] * new[1]).sum()).backward()
    return [out.asnumpy(), new[0].asnumpy(), new[1].asnumpy()], [
        a.grad.asnumpy() for a in (x, h, c)]


@pytest.mark.parametrize("container", [list, tuple])
def test_a_list_or_tuple_of_arrays_as_input(container):
    block = TakesStates()
    want = run_with_states(block, container)
    strict(block)
    for _ in range(3):
        got = run_with_states(block, container)
        for g, w in zip(got[0] + got[1], want[0] + want[1]):
            np.testing.assert_allclose(g, w, rtol=1e-6)
    assert len(block._programs) == 1       # one program for every call, not one per call


def test_changing_a_list_the_caller_passed_is_refused():
    class Appends(nn.HybridBlock):
        def hybrid_forward(self, F, x, states):
            states.append(x)
            return x

    block = strict(Appends())
    with pytest.raises(UnsupportedConstruct, match="list the caller passed"):
        block(nd.array(X), [nd.array(X)])


class PerSampleConcat(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        pieces = []
        for i in range(x.shape[0]):
            pieces.append(x[i] * (i + 1))
        return F.concat(*pieces, dim=0) + F.stack(*pieces, axis=1).sum() \
            + F.add_n(*pieces).sum()


def test_variadic_operators_on_a_list_grown_at_run_time():
    expected = assert_sound(PerSampleConcat, [X], [X[:1]], [np.ones((4, 3), np.float32)])
    rows = [X[i] * (i + 1) for i in range(2)]
    want = np.concatenate(rows) + np.stack(rows, axis=1).sum() + np.sum(rows, axis=0).sum()
    np.testing.assert_allclose(expected[0][0][0], want, rtol=1e-5)


def test_variadic_operator_on_an_empty_run_time_list_raises_as_imperatively():
    class Empty(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            pieces = []
            for i in range(x.shape[0] - 2):
                pieces.append(x[i])
            return F.concat(*pieces, dim=0)

    assert_sound(Empty, [X])        # imperative raises OpError; so must the program


def test_list_extended_under_a_run_time_condition():
    class Grows(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            items = [x]
            if x.sum() > 100:
                items += [x * 2]
            return len(items) + sum(items)

    expected = assert_sound(Grows, [X], [X * 100])
    np.testing.assert_allclose(expected[0][0][0], 1 + X, rtol=1e-6)
    np.testing.assert_allclose(expected[1][0][0], 2 + 300 * X, rtol=1e-5)


def test_two_hybrid_lambdas_on_one_line():
    def pair():
        return nn.HybridLambda(lambda F, x: F.relu(x)), nn.HybridLambda(lambda F, x: -x * 3)

    class Both(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.first, self.second = pair()

        def hybrid_forward(self, F, x):
            return self.first(x) + self.second(x)

    expected = assert_sound(Both, [X])
    np.testing.assert_allclose(expected[0][0][0], np.maximum(X, 0) - 3 * X, rtol=1e-6)


def test_a_hybrid_lambda_on_a_continuation_line():
    """Its lines alone do not parse (`..., nn.HybridLambda(lambda ...)))`): found in the file."""
    class Chain(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.net = nn.HybridSequential()
            self.net.add(nn.HybridLambda("tanh"),
                         nn.HybridLambda(lambda F, x, *args: F.LeakyReLU(x, *args, slope=0.1)))

        def hybrid_forward(self, F, x):
            return self.net(x)

    for _ in range(2):          # the file's tree, cached, is not rewritten by a compilation
        expected = assert_sound(Chain, [X])
        t = np.tanh(X)
        np.testing.assert_allclose(expected[0][0][0], np.where(t > 0, t, 0.1 * t), rtol=1e-6)


def test_no_fallback_warning_for_these_blocks():
    with warnings.catch_warnings():
        warnings.simplefilter("error", HybridizeFallbackWarning)
        block = PerSampleConcat()
        block.hybridize()
        block(nd.array(X))


def test_nested_functions_and_lambdas():
    class Nested(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            scale = 2

            def square(v, offset=scale):      # the default is read at the definition
                w = v * v * scale             # scale is read when square is called
                return w + offset

            shifted = lambda v, *rest: F.relu(v) + len(rest)
            scale = 4

            def halve(v, times):
                if times == 0:
                    return v
                return halve(v * 0.5, times - 1)

            return square(shifted(x, 1, 2)) + halve(x, 3)

    expected = assert_sound(Nested, [X])
    shifted = np.maximum(X, 0) + 2
    np.testing.assert_allclose(expected[0][0][0], shifted * shifted * 4 + 2 + X / 8, rtol=1e-5)


def test_a_nested_function_reading_its_own_unbound_local_raises_as_python():
    class Unbound(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            total = x

            def grow():
                total = total + 1      # total is grow's own: unbound when read
                return total

            return grow()

    assert_sound(Unbound, [X])     # UnboundLocalError in both modes


def test_a_nested_function_used_as_a_run_time_value_is_refused():
    class Escapes(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            rows = [x[i] for i in range(2)]
            first = sorted(rows, key=lambda row: row.sum().asscalar())
            return first[0]

    block = strict(Escapes())
    with pytest.raises(UnsupportedConstruct, match="defined in the compiled code"):
        block(nd.array(X))


def test_imports_inside_the_forward():
    class Imports(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            import math
            from math import pi as half_turn
            import os.path
            return x * math.cos(half_turn) + len(os.path.basename("a/bc"))

    expected = assert_sound(Imports, [X])
    np.testing.assert_allclose(expected[0][0][0], -X + 2, rtol=1e-6)


def test_a_failed_import_raises_when_reached():
    class Missing(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            if x.sum() > 100:
                import no_such_module_here     # noqa: F401
            return x

    assert_sound(Missing, [X], [X * 100])


def test_a_sequential_of_two_thousand_layers():
    def make():
        net = nn.HybridSequential()
        for i in range(2000):
            net.add(nn.Activation("relu") if i % 2 else nn.Dense(3, in_units=3))
        return net

    net = make()
    net.initialize()
    x = nd.array(X)
    want = net(x).asnumpy()
    strict(net)
    np.testing.assert_allclose(net(x).asnumpy(), want, rtol=1e-5)
    assert "for " not in ast_hybrid.to_source(net)        # unrolled, every layer inlined


def test_text_of_arrays_is_what_imperative_prints(capsys, caplog):
    class Texts(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            import logging
            y = x * 2
            print("%s" % y, "%s|%s" % (y, y.shape), "%r" % (y,))
            print(str(y), repr(y), format(y), y.dtype, "{}".format(y), "{!r}".format(y))
            print("{:}".format(y.sum()), y.dtype == np.float32, type(y.dtype))
            logging.getLogger("everyday").warning("%s has %s", y, y.dtype)
            return y

    block = Texts()
    block(nd.array(X))
    want = capsys.readouterr().out, caplog.messages[-1]
    strict(block)
    for _ in range(2):
        caplog.clear()
        block(nd.array(X))
        assert (capsys.readouterr().out, caplog.messages[-1]) == want
    assert "<NDArray 2x3 @cpu(0)>" in want[0] and "<NDArray 2x3 @cpu(0)>" in want[1]


def test_trace_mode_takes_list_inputs_with_one_program():
    class Dense(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.dense = nn.Dense(3)

        def hybrid_forward(self, F, x, states):
            h, c = states
            return self.dense(x) * h + c

    block = Dense()
    block.initialize()
    args = lambda: (nd.array(X), [nd.array(X * 2), nd.array(X * 3)])
    want = block(*args()).asnumpy()
    block.hybridize(mode="trace")
    for _ in range(3):
        np.testing.assert_allclose(block(*args()).asnumpy(), want, rtol=1e-6)
    assert len(block._programs) == 1


@pytest.mark.parametrize("mode", ["ast", "trace"])
def test_check_compares_nested_outputs(mode):
    block = TakesStates()
    block.hybridize(mode=mode, check=True)
    out, states = block(nd.array(X), [nd.array(X), nd.array(X * 2)])
    np.testing.assert_allclose(states[1].asnumpy(), X * 3, rtol=1e-6)


def test_list_items_assigned_at_compile_time_indices():
    class Assigns(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            items = [x, x * 2, x * 3]
            items[0] = x + 10
            items[-1] = items[0] * 2
            items[1:2] = [x, x * 100]
            return sum(items) + len(items)

    expected = assert_sound(Assigns, [X], [-X])
    np.testing.assert_allclose(expected[0][0][0], (X + 10) * 3 + X * 100 + X + 4, rtol=1e-5)


def test_a_list_item_assigned_under_a_run_time_condition():
    class Assigns(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            items = [x, x * 2]
            if x.sum() > 0:
                items[1] = x * 100
            return sum(items)

    for sign in (1, -1):
        block = Assigns()
        want = block(nd.array(X * sign)).asnumpy()
        np.testing.assert_allclose(strict(block)(nd.array(X * sign)).asnumpy(), want)
    with pytest.raises(UnsupportedConstruct, match="assignment into"):
        with autograd.record():      # the reverse pass does not follow a list item's store
            block(nd.array(X))


def test_a_while_condition_with_and_on_arrays():
    class Doubles(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            count = 0
            while x.abs().sum() < 50 and count < 10:
                x = x * 2
                count += 1
            return x + count

    assert_sound(Doubles, [X], [X * 30], [X * 0])


def test_a_while_condition_drawing_random_numbers_is_evaluated_once_per_pass():
    class Draws(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            steps = 0
            while F.random.uniform(shape=(1,)).asscalar() < 0.8 and steps < 50:
                x = x + 1
                steps += 1
            return x

    block = Draws()
    ast_hybrid.random.seed(7)
    want = block(nd.array(X)).asnumpy()
    strict(block)
    ast_hybrid.random.seed(7)
    np.testing.assert_array_equal(block(nd.array(X)).asnumpy(), want)


def test_comprehensions_filtered_on_run_time_values():
    class Filters(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            positive = [row * 2 for row in x if row.sum() > 0]
            evens = [i * i for i in range(6) if i % 2 == 0]
            pairs = [a + b for a in range(3) if a > 0 for b in range(2) if b != a]
            if positive:
                return sum(positive) + len(positive) + sum(evens) + sum(pairs)
            return x

    rows = np.array([[1.0, 2.0, 3.0], [-3.0, -4.0, 0.0], [5.0, 6.0, -1.0]], np.float32)
    expected = assert_sound(Filters, [rows], [-np.abs(X)])
    np.testing.assert_allclose(expected[0][0][0], (rows[0] + rows[2]) * 2 + 2 + 20 + 6)


def test_comprehension_and_for_else_over_an_arrays_rows():
    class Rows(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            doubled = [row * 2 for row in x]
            total = 0
            for row in x:
                total = total + row.sum()
            else:
                total = total * 10
            return F.stack(*doubled) + len(doubled) + total

    expected = assert_sound(Rows, [X], [X[:1]])
    np.testing.assert_allclose(expected[0][0][0], 2 * X + 2 + 10 * X.sum(), rtol=1e-5)


class ModalBlocks(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)

    def hybrid_forward(self, F, x):
        import warnings
        with autograd.pause():
            paused = self.drop(x) + autograd.is_training()
        with warnings.catch_warnings(), np.errstate(divide="ignore"):
            quiet = (x / 0.0 > 0) + 1
        with autograd.train_mode():
            training = autograd.is_training() + self.drop(x * 0 + 1).sum()
        return paused + quiet + training


@pytest.mark.parametrize("train", [False, True], ids=["predict", "train"])
def test_with_statements_run_their_bodies_under_the_managers_mode(train):
    block = ModalBlocks()
    mode = autograd.train_mode if train else autograd.predict_mode
    ast_hybrid.random.seed(3)
    with mode():
        want = block(nd.array(X)).asnumpy()
    strict(block)
    for _ in range(2):
        ast_hybrid.random.seed(3)
        with mode():
            np.testing.assert_array_equal(block(nd.array(X)).asnumpy(), want)
    # pause(): no dropout whatever the mode; train_mode(): dropout, as imperatively
    assert np.isfinite(want).all()


def test_a_with_statement_is_refused_while_recording_and_on_other_managers():
    block = strict(ModalBlocks())
    with pytest.raises(UnsupportedConstruct, match="with statement"):
        with autograd.record():
            block(nd.array(X))

    class Suppresses(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            import contextlib
            with contextlib.suppress(ValueError):
                x = x * 2
            return x

    with pytest.raises(UnsupportedConstruct, match="may swallow"):
        strict(Suppresses())(nd.array(X))


class Tries(nn.HybridBlock):
    def hybrid_forward(self, F, x, y):
        total = x
        steps = []
        try:
            total = total * 2
            steps.append(1)
            product = F.dot(total, y)          # fails when y does not fit
            total = total + product.sum()
        except OpError as error:
            total = total - len(str(error)) * 0 - 1
        except ValueError:
            total = total * 100
        else:
            total = total + 0.5
        finally:
            total = total + len(steps)
        try:
            if total.sum() > 1000:
                raise KeyError("large")
        except KeyError:
            total = total / 2
        return total


def test_try_except_else_finally_with_the_operators_own_error():
    fits, misfits = np.ones((3, 2), np.float32), np.ones((2, 2), np.float32)
    for y in (fits, misfits):
        block = Tries()
        want = block(nd.array(X), nd.array(y)).asnumpy()
        strict(block)
        for _ in range(2):
            np.testing.assert_allclose(block(nd.array(X), nd.array(y)).asnumpy(), want)
    # the misfit was caught as the OpError imperative mode raises: x * 2 - 1 + 1
    np.testing.assert_allclose(want, X * 2, rtol=1e-6)


def test_a_bare_raise_in_a_handler_raises_what_it_caught():
    class Reraises(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            try:
                y = F.dot(x, x)
            except OpError:
                print("cleaning up")
                raise
            return y

    block = strict(Reraises())
    with pytest.raises(OpError, match="dot"):
        block(nd.array(X))
    with pytest.raises(UnsupportedConstruct, match="Try"):
        with autograd.record():
            strict(Tries())(nd.array(X), nd.ones((3, 2)))


def test_a_try_in_a_run_time_loop():
    class Retries(nn.HybridBlock):
        def hybrid_forward(self, F, x, y):
            total = x
            for i in range(x.shape[0]):
                try:
                    total = total + F.dot(total, y) * 0
                except OpError as error:
                    total = total - 1
                    message = str(error)
            return total

    for y in (np.ones((3, 3), np.float32), np.ones((2, 2), np.float32)):
        block = Retries()
        want = block(nd.array(X), nd.array(y)).asnumpy()
        np.testing.assert_allclose(strict(block)(nd.array(X), nd.array(y)).asnumpy(), want)
