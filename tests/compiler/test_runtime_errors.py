"""A compiled program that fails at run time raises what imperative mode raises.

(The failing lines below are assignments: an inlined child's `return` statement is
attributed to its caller's line.)

Imperative mode checks an operator's inputs with its shape rule and raises the operator's
OpError; a compiled program leaves `x + y` to numpy and calls kernels without the rule, so
numpy fails first. The error path (backend.annotate) raises the operator's OpError instead,
with the note naming the user's line: a user's `except` catches the same thing either way.
"""
import contextlib

import pytest

from ast_hybrid import autograd, nd
from ast_hybrid.gluon import SymbolBlock, nn
from ast_hybrid.ops import OpError


class Add(nn.HybridBlock):
    def hybrid_forward(self, F, x, y):
        z = F.relu(x) + y                               # line of ADD
        return z


class Reshape(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        z = x.reshape((7, -1)) * 2                      # line of RESHAPE
        return z


class Concat(nn.HybridBlock):
    def hybrid_forward(self, F, x, y):
        z = F.concat(x, y, dim=1)                       # line of CONCAT
        return z


class Dense(nn.HybridBlock):
    """A Dense layer whose in_units does not fit the data."""
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense = nn.Dense(4, in_units=5)

    def hybrid_forward(self, F, x):
        return self.dense(x)                            # line of DENSE


class Parent(nn.HybridBlock):
    """Calls `child` (inlined into one program) on its inputs, then adds 1."""
    def __init__(self, child, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.child = child

    def hybrid_forward(self, F, *args):
        return self.child(*args) + 1


def line_of(marker):
    with open(__file__) as source:
        return next(i for i, text in enumerate(source, 1) if f"# line of {marker}" in text)


CASES = {   # block, inputs, the line of this file the error is raised by
    "broadcast": (Add, lambda: [nd.ones((2, 3)), nd.ones((4, 5))], "ADD"),
    "reshape": (Reshape, lambda: [nd.ones((2, 3))], "RESHAPE"),
    "concat": (Concat, lambda: [nd.ones((2, 3)), nd.ones((3, 3))], "CONCAT"),
    "dense": (Dense, lambda: [nd.ones((2, 3))], "DENSE"),
}


def make(case, nested):
    block_class, inputs, _ = CASES[case]
    block = Parent(block_class()) if nested else block_class()
    block.initialize()
    return block, inputs()


def raised(block, inputs):
    with pytest.raises(Exception) as info:
        block(*inputs)
    return info.value


@pytest.mark.parametrize("recording", [False, True], ids=["predict", "record"])
@pytest.mark.parametrize("nested", [False, True], ids=["root", "child"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_ast_mode_raises_the_imperative_error(case, nested, recording):
    """Also under autograd.record(), which runs the program's recording form."""
    block, inputs = make(case, nested)
    with autograd.record() if recording else contextlib.nullcontext():
        expected = raised(block, inputs)
        assert type(expected) is OpError
        block.hybridize(fallback=False)
        got = raised(block, inputs)
    # (before Python 3.11 the message ends with the note)
    assert (type(got), str(got).split("\nast_hybrid: ")[0]) == (type(expected), str(expected))


@pytest.mark.parametrize("nested", [False, True], ids=["root", "child"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_note_names_the_users_line(case, nested):
    block, inputs = make(case, nested)
    block.hybridize(fallback=False)
    error = raised(block, inputs)
    marker = CASES[case][2]
    note, = error.__notes__
    first = note.splitlines()[0]
    assert first.startswith(f"ast_hybrid: raised by your code at {__file__}, line "
                            f"{line_of(marker)}: ")
    if marker == "DENSE":       # the failing line is nn.Dense's own: named second
        assert "basic_layers.py" in note.splitlines()[1]


@pytest.mark.parametrize("hybridize", [False, True], ids=["imperative", "ast"])
def test_a_users_except_catches_the_operator_error(hybridize):
    block, inputs = make("broadcast", nested=True)
    if hybridize:
        block.hybridize(fallback=False)
    try:
        block(*inputs)
    except OpError as error:
        caught = str(error)
    assert caught.startswith("broadcast_add: shapes cannot be broadcast together")


def test_numpys_error_is_kept_as_the_context():
    block, inputs = make("broadcast", nested=False)
    block.hybridize(fallback=False)
    error = raised(block, inputs)
    assert isinstance(error.__context__, ValueError) and error.__suppress_context__
    assert "could not be broadcast" in str(error.__context__)


class Nested(nn.HybridBlock):
    def hybrid_forward(self, F, x, y):
        return F.sum(F.exp(x) * y, axis=1)


def test_nested_operands_are_shaped_by_their_rules():
    """exp(x) is not a variable of the program: its shape comes from exp's rule."""
    block = Nested()
    block.initialize()
    inputs = [nd.ones((2, 3)), nd.ones((2, 4))]
    expected = raised(block, inputs)
    block.hybridize(fallback=False)
    got = raised(block, inputs)
    assert (type(got), str(got)) == (type(expected), str(expected))
    assert str(got).startswith("broadcast_mul:")


class RuntimeAxis(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        return F.sum(x, axis=x.ndim)


class RuntimeBounds(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        return F.clip(x, x.shape[0], x.shape[1])


@pytest.mark.parametrize("block_class", [RuntimeAxis, RuntimeBounds])
def test_run_time_attribute_values_are_checked(block_class):
    block = block_class()
    block.initialize()
    inputs = [nd.ones((3, 2))]
    expected = raised(block, inputs)
    block.hybridize(fallback=False)
    got = raised(block, inputs)
    assert (type(got), str(got)) == (type(expected), str(expected))


@pytest.mark.parametrize("case", ["broadcast", "concat", "dense"])
def test_trace_mode_raises_the_imperative_error(case):
    block, inputs = make(case, nested=True)
    expected = raised(block, inputs)
    block.hybridize(mode="trace")
    got = raised(block, inputs)
    assert (type(got), str(got)) == (type(expected), str(expected))


def test_an_imported_graph_raises_the_imperative_error(tmp_path):
    block, _ = make("concat", nested=True)
    block.hybridize(mode="trace")
    block(nd.ones((2, 3)), nd.ones((2, 1)))
    block.export(str(tmp_path / "net"))
    imported = SymbolBlock.imports(str(tmp_path / "net-symbol.json"), ["data0", "data1"],
                                   str(tmp_path / "net-0000.params"))
    bad = [nd.ones((2, 3)), nd.ones((3, 3))]
    expected = raised(make("concat", nested=True)[0], bad)
    got = raised(imported, bad)
    assert (type(got), str(got)) == (type(expected), str(expected))


def test_without_source_positions_the_failing_statement_is_checked(monkeypatch):
    """Before Python 3.11 no instruction positions: the failing line's statement is checked
    in evaluation order instead."""
    from ast_hybrid.compiler import operator_errors
    monkeypatch.setattr(operator_errors, "_instruction_position", lambda entry: None)
    block, inputs = make("broadcast", nested=True)
    expected = raised(block, inputs)
    block.hybridize(fallback=False)
    got = raised(block, inputs)
    assert (type(got), str(got)) == (type(expected), str(expected))


def test_before_python_3_11_the_note_ends_the_message(monkeypatch):
    from ast_hybrid.compiler import backend

    monkeypatch.setattr(backend, "TRACEBACKS_SHOW_NOTES", False)   # as before Python 3.11
    error = ValueError("shapes differ")
    backend._add_note(error, "first")
    backend._add_note(error, "second")
    assert error.__notes__ == ["first", "second"]
    assert str(error) == "shapes differ\nfirst\nsecond"
    several = OSError(2, "missing")     # not made from one string: its message stays
    backend._add_note(several, "note")
    assert several.__notes__ == ["note"] and str(several) == "[Errno 2] missing"


class Unknowable(nn.HybridBlock):
    def hybrid_forward(self, F, x, y):
        return F.relu(x) + helper(y)


def helper(y):
    raise ValueError("not an operator's error")


def test_errors_the_analysis_cannot_follow_stay_as_they_are():
    block = Unknowable()
    block.initialize()
    block.hybridize(fallback=False)
    error = raised(block, [nd.ones((2, 3)), nd.ones((2, 3))])
    assert type(error) is ValueError and str(error) == "not an operator's error"
