"""Training matches MXNet 1.9.1 step by step (numbers recorded by tools/mxnet_reference.py)."""
import json
import os
import sys

import numpy as np
import pytest

import ast_hybrid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from mxnet_reference import scenario  # noqa: E402

with open(os.path.join(os.path.dirname(__file__), "data", "mxnet_reference.json")) as _stream:
    REFERENCE = json.load(_stream)


@pytest.mark.parametrize("mode", [None, "ast", "trace"])
@pytest.mark.parametrize("optimizer", ["sgd", "nag", "adam", "rmsprop"])
def test_training_matches_mxnet(optimizer, mode):
    options = None if mode is None else {"mode": mode, "fallback": False}
    got = scenario(ast_hybrid, optimizer, options)
    want = REFERENCE["scenarios"][optimizer]
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(got["outputs"], want["outputs"], rtol=1e-4, atol=1e-5)
