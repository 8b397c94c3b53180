"""An error inside a compiled program names the user's own line first (a child block's
`return`, a helper's line, the line calling a library layer), the library's line second,
on first, cached and recorded calls; tracebacks show the generated line even after
linecache.clearcache(), as the interpreter's own printer does."""
import contextlib
import gc
import linecache
import os
import subprocess
import sys
import textwrap
import traceback

import pytest

from ast_hybrid import autograd, nd, program_files
from ast_hybrid.compiler import backend
from ast_hybrid.gluon import nn
from ast_hybrid.ops import OpError


def line_of(marker):
    with open(__file__) as source:
        return next(i for i, text in enumerate(source, 1) if text.rstrip().endswith(marker))


def helper(F, x):
    return F.dot(x, x)                                  # fails: helper


class Root(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        y = F.dot(x * 2, x)                             # fails: root
        return y


class Child(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        return F.dot(x, x + 1)                          # fails: child


class Parent(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.child = Child()

    def hybrid_forward(self, F, x):
        return self.child(x) + 1


class Grandparent(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.parent = Parent()

    def hybrid_forward(self, F, x):
        return self.parent(x - 1)


class CallsHelper(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        return helper(F, x) * 3


class StaticLoop(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        for scale in (1, 2):
            x = F.dot(x, x) * scale                     # fails: static loop
        return x


class RunTimeLoop(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        for i in range(x.shape[0]):
            x = F.dot(x, x)                             # fails: run-time loop
        return x


class WrongLayer(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(4, in_units=7)

    def hybrid_forward(self, F, x):
        return self.dense(x) + 1                        # fails: layer call


CASES = {
    "root": (Root, "# fails: root"),
    "child": (Parent, "# fails: child"),
    "grandchild": (Grandparent, "# fails: child"),
    "helper": (CallsHelper, "# fails: helper"),
    "static loop": (StaticLoop, "# fails: static loop"),
    "run-time loop": (RunTimeLoop, "# fails: run-time loop"),
    "library layer": (WrongLayer, "# fails: layer call"),
}


def note_of(block, recording):
    x = nd.ones((2, 3))
    with pytest.raises(OpError) as caught:
        with autograd.record() if recording else contextlib.nullcontext():
            block(x)
    notes = caught.value.__notes__
    assert len(notes) == 1
    return notes[0]


@pytest.mark.parametrize("recording", [False, True], ids=["predict", "record"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_note_names_the_users_line_first(case, recording):
    make, marker = CASES[case]
    block = make()
    block.initialize()
    block.hybridize(fallback=False)
    line = line_of(marker)
    text = linecache.getline(__file__, line).strip()
    for call in ("first", "cached"):
        note = note_of(block, recording)
        lines = note.splitlines()
        assert lines[0] == f"ast_hybrid: raised by your code at {__file__}, line {line}: {text}", \
            (call, note)
        if case == "library layer":
            assert lines[1].startswith("  in ") and "basic_layers.py" in lines[1]
            assert "F.FullyConnected" in lines[1]
        assert lines[-1].startswith("  (line ") and "of the generated" in lines[-1]


def test_before_python_3_11_the_note_ends_the_message(monkeypatch):
    monkeypatch.setattr(backend, "TRACEBACKS_SHOW_NOTES", False)   # as on Python 3.10
    block = Parent()
    block.hybridize(fallback=False)
    with pytest.raises(OpError) as caught:
        block(nd.ones((2, 3)))
    message = str(caught.value)
    assert message.startswith("dot: ")
    assert f"{__file__}, line {line_of('# fails: child')}" in message
    several = OSError(2, "missing")     # not made from one string: its message stays
    backend._add_note(several, "note")
    assert several.__notes__ == ["note"] and str(several) == "[Errno 2] missing"


def test_a_traceback_shows_the_generated_line_after_linecache_is_cleared():
    block = Parent()
    block.hybridize(fallback=False)
    with pytest.raises(OpError) as caught:
        block(nd.ones((2, 3)))
    linecache.clearcache()
    printed = "".join(traceback.format_exception(caught.value))
    generated = [entry for entry in traceback.extract_tb(caught.value.__traceback__)
                 if program_files.is_program_file(entry.filename)]
    assert generated and generated[-1].line.startswith("child = dot(")
    assert "child = dot(" in printed


def test_the_interpreters_own_printer_shows_the_generated_line(tmp_path):
    script = tmp_path / "uncaught.py"
    script.write_text(textwrap.dedent("""
        from ast_hybrid import nd
        from ast_hybrid.gluon import nn

        class Fails(nn.HybridBlock):
            def hybrid_forward(self, F, x):
                return F.dot(x, x)

        block = Fails()
        block.hybridize(fallback=False)
        block(nd.ones((2, 3)))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "return dot(x, x)" in done.stderr              # the generated line
    assert f"{script}, line 7: return F.dot(x, x)" in done.stderr   # the user's, in the note
    assert "ast_hybrid-programs-" in done.stderr


def test_a_dropped_programs_file_is_removed():
    block = Root()
    block.hybridize()
    block(nd.ones((2, 2)))
    path = next(iter(block._programs.values())).program.filename
    assert os.path.exists(path) and program_files.is_program_file(path)
    block.hybridize()           # drops the program
    gc.collect()
    assert not os.path.exists(path) and path not in linecache.cache
