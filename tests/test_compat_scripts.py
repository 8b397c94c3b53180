"""MXNet-style scripts (tools/compat/) run under ast_hybrid with `mxnet` as their only import
and print what MXNet 1.9.1 printed (tests/data/compat/*.txt, recorded with
`/tmp/mx/bin/python tools/compat/run.py --record`).

Numbers are compared within a tolerance, the text around them exactly (but for blanks).
The differences tolerated below are README's "How it differs from MXNet", each named."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "compat"))
import run as compat  # noqa: E402

SYMBOL_ARITHMETIC = (r"_(plus|mul)\d+_output", "symbols broadcast in arithmetic as NDArrays "
                     "do, so a + b is a broadcast_add node (auto-named broadcast_add0), not "
                     "MXNet's _plus0")
ALL_ATTRIBUTES = (r"^\{'num_hidden': '128'\}", "the symbol JSON writes every attribute of an "
                  "operator node, defaults included; MXNet writes those given; both load alike")

SCRIPTS = {
    # name: (tolerated lines, rtol, atol)
    "nd_basics": ((), 1e-4, 1e-5),
    "autograd_basics": ((), 1e-4, 1e-5),
    "linreg_scratch": ((), 1e-4, 1e-5),
    "linreg_gluon": ((), 1e-4, 1e-5),
    "softmax_mlp": ((), 1e-4, 1e-5),
    "custom_blocks": ((), 1e-4, 1e-5),
    # MXNet's CPU (MKL-DNN) kernels and numpy sum in different orders: the gradient of the
    # first BatchNorm's gamma (a sum over 2048 cancelling terms) agrees to ~2e-4 relative,
    # and four steps of SGD with momentum carry that to ~3e-3 in the trained values
    "cnn_train": ((), 1e-2, 2e-3),
    "save_load_export": ((), 1e-4, 1e-5),
    "multi_device": ((), 1e-4, 1e-5),
    "symbol_api": ((SYMBOL_ARITHMETIC, ALL_ATTRIBUTES), 1e-4, 1e-5),
}


def test_every_script_is_listed_and_recorded():
    assert sorted(SCRIPTS) == compat.scripts()
    for name in SCRIPTS:
        assert os.path.exists(os.path.join(compat.DATA, name + ".txt")), name


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_prints_what_mxnet_printed(name):
    tolerated, rtol, atol = SCRIPTS[name]
    result = compat.run_ast_hybrid(name, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    with open(os.path.join(compat.DATA, name + ".txt")) as stream:
        expected = stream.read()
    problems = compat.compare_outputs(expected, result.stdout, rtol=rtol, atol=atol,
                                      tolerated=tolerated)
    assert not problems, "\n".join(problems)


def test_comparison_rules():
    assert compat.compare_outputs("loss 0.7698\n[1.  2.5]", "loss 0.7699\n[1.   2.5000001]") == []
    assert compat.compare_outputs("loss 0.7698", "loss 0.7700")
    assert compat.compare_outputs("(2, 3)", "(2, 4)")
    assert compat.compare_outputs("[1. 2.]", "[2. 2.]")
    assert compat.compare_outputs("Dense(2 -> 1, linear)", "Dense(2 -> 1, relu)")
    assert compat.compare_outputs("{'num_hidden': '128'}", "{'num_hidden': '128', 'x': '1'}",
                                  tolerated=[ALL_ATTRIBUTES]) == []
    assert compat.compare_outputs("a\nb", "a")
