"""Parameters with a copy on each of several contexts, and data-parallel training over them,
as MXNet 1.9.1 gives them (recorded by tools/mxnet_contexts_reference.py)."""
import json
import os
import sys

import numpy as np
import pytest

import ast_hybrid as mx
from ast_hybrid import autograd, gluon, nd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from mxnet_contexts_reference import copies_case, train_case  # noqa: E402

with open(os.path.join(ROOT, "tests", "data", "mxnet_contexts_reference.json")) as stream:
    RECORDED = json.load(stream)


def test_copies_on_several_contexts_are_listed_as_mxnet_lists_them():
    assert copies_case(mx) == RECORDED["copies"]


@pytest.mark.parametrize("case", sorted(RECORDED["train"]))
def test_data_parallel_training_gives_mxnets_weights(case):
    contexts = [0, 1] if case.startswith("2_") else [0]
    got = train_case(mx, contexts, hybridize=case.endswith("hybrid"))
    want = RECORDED["train"][case]
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-5)
    assert got["weights"].keys() == want["weights"].keys()
    for key, value in want["weights"].items():
        np.testing.assert_allclose(got["weights"][key], value, rtol=1e-5, atol=1e-7,
                                   err_msg=key)
    assert got["copies_equal"] and want["copies_equal"]


def test_each_slice_writes_the_gradient_of_its_own_copy():
    layer = gluon.nn.Dense(2, in_units=3, use_bias=False)
    layer.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    first, second = gluon.utils.split_and_load(nd.array(x), [mx.cpu(0), mx.cpu(1)])
    assert (first.context, second.context) == (mx.cpu(0), mx.cpu(1))
    with autograd.record():
        outputs = [layer(first).sum(), layer(second).sum()]
    for output in outputs:
        output.backward()
    grads = [g.asnumpy() for g in layer.weight.list_grad()]
    np.testing.assert_array_equal(grads[0], np.tile(x[:2].sum(axis=0), (2, 1)))
    np.testing.assert_array_equal(grads[1], np.tile(x[2:].sum(axis=0), (2, 1)))
    gluon.Trainer(layer.collect_params(), "sgd", {"learning_rate": 0.0}).allreduce_grads()
    for grad in layer.weight.list_grad():      # each now the sum, as MXNet's reduction
        np.testing.assert_array_equal(grad.asnumpy(), np.tile(x.sum(axis=0), (2, 1)))


def test_arrays_carry_their_context_through_operators_and_copies():
    a = nd.ones((2,), ctx=mx.cpu(1))
    assert a.context == mx.cpu(1) and (a * 2 + 1).context == mx.cpu(1)
    assert a.as_in_context(mx.cpu(1)) is a
    moved = a.as_in_context(mx.cpu(0))
    assert moved.context == mx.cpu(0) and moved is not a
    assert a.copyto(mx.cpu(2)).context == mx.cpu(2)
    with mx.cpu(3):
        assert mx.current_context() == mx.cpu(3)
        assert nd.zeros((1,)).context == mx.cpu(3)
    assert mx.current_context() == mx.cpu(0)


def test_a_copy_moved_while_recording_passes_its_gradient_back():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = (x.as_in_context(mx.cpu(1)) * 3).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [3.0, 3.0])


def test_saved_parameters_of_several_copies_load_on_one(tmp_path):
    net = gluon.nn.Dense(2, in_units=3)
    net.initialize(ctx=[mx.cpu(1), mx.cpu(2)])
    path = str(tmp_path / "dense.params")
    net.save_parameters(path)          # no copy on the current context, cpu(0): reduced
    other = gluon.nn.Dense(2, in_units=3)
    other.load_parameters(path)
    np.testing.assert_array_equal(other.weight.data().asnumpy(),
                                  net.weight.data(mx.cpu(2)).asnumpy())
