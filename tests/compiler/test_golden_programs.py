"""The text of the lecture's MLP program, forward and backward, pinned: a change to how
programs read shows here as a diff to review. Comments name the package's files relative to
the folder it is installed in (`ast_hybrid/gluon/...`), so the files do not depend on where
that is.

To accept a reviewed change: AST_HYBRID_UPDATE_GOLDEN=1 python -m pytest tests/compiler/test_golden_programs.py
"""
import os
import pathlib

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import nd
from ast_hybrid.gluon import nn

GOLDEN = pathlib.Path(__file__).parent.parent / "data" / "golden"


def lecture_mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(256, activation='relu'), nn.Dense(128, activation='relu'), nn.Dense(2))
    net.initialize()
    x = nd.array(np.zeros((1, 512), dtype=np.float32))
    net(x)
    net.hybridize()
    return net, x


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_the_lecture_mlp_program_reads_as_pinned(backward):
    net, x = lecture_mlp()
    text = ast_hybrid.to_source(net, x, backward=backward)
    path = GOLDEN / f"lecture_mlp_{'backward' if backward else 'forward'}.py.txt"
    if os.environ.get("AST_HYBRID_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{path.name} differs: review, then update it"
