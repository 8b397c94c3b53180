"""The text of generated programs, forward and backward, pinned (the lecture's MLP, a small
CNN and a block with data-dependent control flow): a change to how programs read shows here
as a diff to review. Comments name the package's files relative to
the folder it is installed in (`ast_hybrid/gluon/...`), so the files do not depend on where
that is, and golden_blocks.py relative to the working directory: run from the repository's
root.

To accept a reviewed change: AST_HYBRID_UPDATE_GOLDEN=1 python -m pytest tests/compiler/test_golden_programs.py
"""
import ast
import os
import pathlib

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import nd
from ast_hybrid.compiler.backend import LINE_LENGTH, render
from ast_hybrid.gluon import nn
from golden_blocks import ShrinkPositive

GOLDEN = pathlib.Path(__file__).parent.parent / "data" / "golden"


def lecture_mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(256, activation='relu'), nn.Dense(128, activation='relu'), nn.Dense(2))
    net.initialize()
    x = nd.array(np.zeros((1, 512), dtype=np.float32))
    net(x)
    net.hybridize()
    return net, x


def small_cnn():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, kernel_size=3, activation='relu'), nn.BatchNorm(),
            nn.MaxPool2D(pool_size=2), nn.Flatten(), nn.Dense(10))
    net.initialize()
    x = nd.array(np.zeros((2, 1, 8, 8), dtype=np.float32))
    net(x)
    net.hybridize()
    return net, x


def control_flow():
    net = ShrinkPositive()
    net.initialize()
    x = nd.array([[3.0, -1.0, 4.0, 1.0]])
    net.hybridize()
    return net, x


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("name, build", [("lecture_mlp", lecture_mlp), ("small_cnn", small_cnn),
                                         ("control_flow", control_flow)])
def test_the_program_reads_as_pinned(name, build, backward):
    net, x = build()
    text = ast_hybrid.to_source(net, x, backward=backward)
    path = GOLDEN / f"{name}_{'backward' if backward else 'forward'}.py.txt"
    if os.environ.get("AST_HYBRID_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{path.name} differs: review, then update it"


@pytest.mark.parametrize("prefix", ["a", "a" * 12, "a" * 30, "a" * 60])
def test_wrapping_never_breaks_a_keyword_argument(prefix):
    source = (f"def f():\n    {prefix} = FullyConnected(data, weight_value, bias_value, "
              "num_hidden=32, no_bias=False, flatten=True, kernel=(3, 3), at=g(y)[0])\n")
    text, _ = render(ast.parse(source))
    assert ast.dump(ast.parse(text)) == ast.dump(ast.parse(source))
    lines = text.splitlines()
    assert all(len(line) <= LINE_LENGTH for line in lines)
    for keyword in ("num_hidden=32", "no_bias=False", "flatten=True", "kernel=(3, 3)",
                    "at=g(y)[0]"):
        assert any(keyword in line for line in lines), keyword
