"""A GluonNLP-style Transformer encoder and a BERT-style encoder give MXNet 1.9.1's outputs
and gradients (recorded by tools/mxnet_transformer_reference.py) imperatively, in AST mode
without fallback and in trace mode."""
import json
import os
import sys
import warnings

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid.compiler.dispatch import HybridizeFallbackWarning

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from mxnet_transformer_reference import CASES, run_case  # noqa: E402

with open(os.path.join(ROOT, "tests", "data", "mxnet_transformer_reference.json")) as stream:
    RECORDED = json.load(stream)

MODES = {"imperative": None,
         "ast": lambda block: block.hybridize(fallback=False),
         "trace": lambda block: block.hybridize(mode="trace")}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_encoder_matches_mxnet(case, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error", HybridizeFallbackWarning)
        got = run_case(ast_hybrid, case, MODES[mode])
    want = RECORDED["cases"][case]
    assert len(got["outputs"]) == len(want["outputs"])
    for index, (g, w) in enumerate(zip(got["outputs"], want["outputs"])):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5, err_msg=f"output {index}")
    assert got["gradients"].keys() == want["gradients"].keys()
    for key, value in want["gradients"].items():
        np.testing.assert_allclose(got["gradients"][key], value, rtol=1e-4, atol=1e-5,
                                   err_msg=key)


def test_mxnet_hybridized_gave_its_imperative_values():
    for case in CASES:
        assert RECORDED["hybridized"][case] == RECORDED["cases"][case]
