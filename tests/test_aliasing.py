"""Which results share memory with their input, as MXNet 1.9.1's (recorded by
tools/mxnet_aliasing_reference.py): operators give new arrays, NDArray.reshape, basic indexing
and `inplace=True` give views. AST mode writes as imperative mode does."""
import json
import os
import sys

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import nd
from ast_hybrid.gluon import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from mxnet_aliasing_reference import CASES, run_case  # noqa: E402

with open(os.path.join(ROOT, "tests", "data", "mxnet_aliasing_reference.json")) as stream:
    RECORDED = json.load(stream)["cases"]


def test_every_recorded_case_is_run():
    assert set(RECORDED) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_writes_show_where_they_show_in_mxnet(name):
    assert run_case(ast_hybrid, name) == RECORDED[name]


class WritesAfterViewsAndCopies(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        flat = x.reshape((-1,))          # a view, as in MXNet
        turned = F.transpose(x)          # a new array
        squeezed = F.squeeze(x, axis=1)  # a new array
        flat[0] = 100.0
        turned[:] = turned * 2
        squeezed += 1
        return x + 0, flat + 0, turned, squeezed


def test_ast_mode_writes_into_views_and_copies_as_imperative_mode():
    data = np.arange(6, dtype=np.float32).reshape(2, 1, 3)
    block = WritesAfterViewsAndCopies()
    want = [o.asnumpy() for o in block(nd.array(data))]
    assert want[0].ravel()[0] == 100.0 and want[1][0] == 100.0      # through the view
    np.testing.assert_allclose(want[2], data.transpose() * 2)    # made before the write
    np.testing.assert_allclose(want[3], data.reshape(2, 3) + 1)
    assert want[0].ravel()[1] == 1.0     # the copies' writes did not reach x
    block.hybridize(fallback=False)
    for _ in range(2):
        got = [o.asnumpy() for o in block(nd.array(data))]
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
