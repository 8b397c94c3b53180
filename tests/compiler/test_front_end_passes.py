"""Each front-end pass on its own: source, fence, inline, specialize with lower, anf, reverse."""
import ast

import numpy as np
import pytest

from ast_hybrid.compiler.ast_front_end import build_program
from ast_hybrid.compiler.backward import DifferentiatedProgram
from ast_hybrid.compiler.naming import Namer
from ast_hybrid.compiler.options import HybridizeOptions
from ast_hybrid.compiler.passes import anf, fence, inline, source
from ast_hybrid.compiler.passes.errors import UnsupportedConstruct
from ast_hybrid.compiler.passes.values import ARRAY, Dynamic, FRef, Static

UNOPTIMIZED = HybridizeOptions(optimize=False)


def _statements(text):
    return ast.unparse(ast.fix_missing_locations(ast.Module(text, [])))


def _function(text):
    return ast.parse(text).body[0]


# ----------------------------------------------------------------------------- source
def decorated(function):
    return function


@decorated
def scaled(F, x, factor=2.0):
    return x * factor


def test_source_parses_the_function_with_its_file_lines_and_no_decorators():
    parsed = source.transform(scaled)
    assert parsed.node.name == "scaled" and parsed.node.decorator_list == []
    assert parsed.filename == __file__
    assert parsed.node.lineno == scaled.__code__.co_firstlineno + 1    # the def, past @
    assert parsed.globals is scaled.__globals__


def test_source_keeps_the_closure_values():
    offset = 3.0

    def shifted(F, x):
        return x + offset

    assert source.transform(shifted).closure == {"offset": 3.0}


def test_source_parses_a_code_object_once_and_reads_the_closure_at_each_call(monkeypatch):
    parses = []
    original = source._parsed

    def counted(code):
        parses.append(code)
        return original(code)
    monkeypatch.setattr(source, "_parsed", counted)
    offset = 3.0

    def shifted(F, x):
        return x + offset

    first = source.transform(shifted)
    offset = 4.0
    second = source.transform(shifted)
    assert parses == [shifted.__code__]
    assert second.node is first.node        # shared: the passes only read it
    assert (first.closure, second.closure) == ({"offset": 3.0}, {"offset": 4.0})


def test_a_closure_changed_between_builds_is_the_new_programs_constant():
    from ast_hybrid import nd
    from ast_hybrid.gluon import nn
    scale = 2.0

    class Scaled(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            return x * scale

    x = nd.array(np.ones((1, 2), np.float32))
    for value in (2.0, 5.0):
        scale = value
        block = Scaled()
        block.hybridize(mode="ast", fallback=False)
        np.testing.assert_array_equal(block(x).asnumpy(), np.full((1, 2), value))


def test_source_refuses_a_function_without_source():
    namespace = {}
    exec("def made(F, x):\n    return x", namespace)      # noqa: S102 (no file behind it)
    with pytest.raises(UnsupportedConstruct, match="source is unavailable"):
        source.transform(namespace["made"])


# ----------------------------------------------------------------------------- fence
def _fenced(text):
    node = _function(text)
    parsed = source.ParsedFunction(node, "user.py", {}, {}, None)
    return fence.transform(parsed)


@pytest.mark.parametrize("body, construct", [
    ("    global g\n    return x", "a global statement"),
    ("    del x\n    return 1", "del"),
    ("    yield x", "yield"),
    ("    class C:\n        pass\n    return x", "a class definition"),
    ("    return (y := x)", "an assignment expression"),
])
def test_fence_names_the_first_construct_it_refuses_and_its_line(body, construct):
    with pytest.raises(UnsupportedConstruct) as refused:
        _fenced("def f(F, x):\n" + body)
    assert construct in str(refused.value) and "user.py" in str(refused.value)
    assert refused.value.lineno == 2


def test_fence_refuses_keyword_only_parameters_and_passes_the_rest_unchanged():
    with pytest.raises(UnsupportedConstruct, match="keyword-only"):
        _fenced("def f(F, x, *, y):\n    return x")
    parsed = _fenced("def f(F, x):\n    if x:\n        return x\n    return -x")
    assert parsed.node.name == "f"


# ----------------------------------------------------------------------------- inline
def test_inline_moves_every_return_to_the_tail_of_its_path():
    node = inline.transform(_function(
        "def f(x):\n    if x:\n        return 1\n    y = 2\n    return y"))
    assert _statements(node.body) == "if x:\n    return 1\nelse:\n    y = 2\n    return y"
    assert inline.always_returns(node.body)


def test_inline_binds_arguments_as_python_does():
    parsed = source.transform(scaled)
    x = Dynamic(None, ARRAY)
    bound = inline.bind_arguments(parsed, [FRef(), x], {}, skip_self=False)
    assert bound["x"] is x and bound["factor"].value == 2.0
    with pytest.raises(TypeError, match="multiple values"):
        inline.bind_arguments(parsed, [FRef(), x], {"x": x}, skip_self=False)
    with pytest.raises(TypeError, match="missing required argument 'x'"):
        inline.bind_arguments(parsed, [FRef()], {}, skip_self=False)


# ----------------------------------------------------------------------------- specialize, lower
def branchy(F, x, use_relu, repeats):
    if use_relu:
        y = F.relu(x)
    else:
        y = F.tanh(x)
    for _ in range(repeats):
        y = y * 2
    if y.sum() > 0:          # on an array: stays control flow of the program
        y = -y
    return y


def _program(function, *values):
    program, _ = build_program(function, [FRef()], list(values), options=UNOPTIMIZED)
    return program


def test_specialize_decides_what_is_static_now_and_keeps_what_is_not():
    program = _program(branchy, Dynamic(None, ARRAY), Static(True), Static(2))
    text = program.source
    assert "tanh" not in text and "use_relu" not in text      # the static `if` is decided
    assert text.count("* 2") == 2 and "range" not in text     # the static loop is unrolled
    assert "if greater_scalar(sum" in text                    # the array's `if` is kept
    x = np.array([[-1.0, 2.0]], np.float32)
    np.testing.assert_allclose(program.function(x), -np.maximum(x, 0) * 4)


def test_lower_calls_the_operator_tables_kernels_on_raw_arrays():
    def dense_relu(F, x, w):
        return F.relu(F.FullyConnected(x, w, None, num_hidden=3, no_bias=True))

    program = _program(dense_relu, Dynamic(None, ARRAY), Dynamic(None, ARRAY))
    assert "F." not in program.source and "relu(" in program.source
    assert "num_hidden=3" in program.source                  # attributes as literals
    x, w = np.ones((2, 4), np.float32), np.ones((3, 4), np.float32)
    np.testing.assert_allclose(program.function(x, w), np.full((2, 3), 4.0))


# ----------------------------------------------------------------------------- anf
def test_anf_gives_each_differentiable_operation_its_own_assignment():
    node = anf.transform(_function("def f(x, w, b):\n    y = relu(dot(x, w) + b)\n"
                                   "    a, c = y, -y\n    return a * c"), Namer())
    assert _statements(node.body) == (
        "t = dot(x, w)\nt_1 = t + b\ny = relu(t_1)\n"
        "t_2 = -y\nunpacked = (y, t_2)\na = unpacked[0]\nc = unpacked[1]\nreturn a * c")


def test_anf_leaves_conditions_and_loop_iterables_alone():
    node = anf.transform(_function(
        "def f(x):\n    if g(x) > 0:\n        x = h(k(x))\n    return x"), Namer())
    assert _statements(node.body) == "if g(x) > 0:\n    t = k(x)\n    x = h(t)\nreturn x"


# ----------------------------------------------------------------------------- reverse
def test_reverse_derives_a_recording_and_a_backward_program():
    def square_sum(F, x):
        y = x * x
        return y.sum()

    derived = DifferentiatedProgram(_program(square_sum, Dynamic(None, ARRAY)))
    assert "def square_sum_recording(" in derived.source
    assert "def square_sum_backward(" in derived.source
    x = np.array([1.0, -2.0, 3.0], np.float32)
    result, stack, values = derived.record(x)
    assert result == pytest.approx(14.0)
    (gradient,) = derived.backward(list(stack), values, np.float32(1.0))
    np.testing.assert_allclose(gradient, 2 * x)


def test_reverse_replays_data_dependent_branches_and_loops():
    def halve_while_large(F, x):
        y = x
        while y.sum() > 1:
            y = y / 2
        return y

    derived = DifferentiatedProgram(_program(halve_while_large, Dynamic(None, ARRAY)))
    x = np.array([3.0, 5.0], np.float32)          # sum 8: halved three times
    result, stack, values = derived.record(x)
    np.testing.assert_allclose(result, x / 8)
    (gradient,) = derived.backward(list(stack), values, np.ones(2, np.float32))
    np.testing.assert_allclose(gradient, np.full(2, 1 / 8))


def test_reverse_refuses_what_it_cannot_differentiate_naming_the_users_line():
    def accumulated(F, x):
        y = x * 1
        y += x
        return y

    program = _program(accumulated, Dynamic(None, ARRAY))
    with pytest.raises(UnsupportedConstruct, match="in-place write into an array") as refused:
        DifferentiatedProgram(program)
    assert refused.value.lineno == accumulated.__code__.co_firstlineno + 2
