"""Parameter behaviours MXNet 1.x users' code calls: contexts, list_data/list_grad, var(),
storage types, cast, and the dtype rules of load_parameters; checked against MXNet 1.9.1's
record in tests/data/mxnet_block_reference.json (tools/mxnet_block_reference.py)."""
import json
import pathlib

import numpy as np
import pytest

import ast_hybrid as mx
from ast_hybrid import gluon
from ast_hybrid.gluon import nn

REFERENCE = json.loads((pathlib.Path(__file__).parent.parent / "data" /
                        "mxnet_block_reference.json").read_text())
WANT = REFERENCE["parameters"]


def _raises_as_recorded(outcome, run, kind=None):
    """`run()` raises the recorded message, as the recorded kind or as `kind`."""
    with pytest.raises(Exception) as caught:
        run()
    assert type(caught.value).__name__ == (kind or outcome["error"])
    assert str(caught.value) == outcome["message"]


def test_contexts_before_initialize_raise_as_mxnet():
    param = gluon.Parameter("w", shape=(2, 3))
    _raises_as_recorded(WANT["list_ctx_before_init"], param.list_ctx)
    _raises_as_recorded(WANT["reset_ctx_before_init"], lambda: param.reset_ctx(mx.cpu(1)))


def test_a_parameter_lives_on_its_context():
    param = gluon.Parameter("w", shape=(2, 3))
    param.initialize(ctx=mx.cpu(0))
    assert [str(ctx) for ctx in param.list_ctx()] == WANT["list_ctx"]
    assert len(param.list_data()) == WANT["list_data"]
    assert len(param.list_grad()) == WANT["list_grad"]
    assert param.data(mx.cpu(0)) is param.data()
    assert [param._stype, param._grad_stype] == WANT["storage_types"]
    _raises_as_recorded(WANT["data_elsewhere"], lambda: param.data(mx.cpu(1)))
    _raises_as_recorded(WANT["grad_elsewhere"], lambda: param.grad(mx.cpu(1)))
    value = param.data().asnumpy()
    param.reset_ctx(mx.cpu(1))
    assert [str(ctx) for ctx in param.list_ctx()] == WANT["list_ctx_after_reset"]
    assert list(param.data(mx.cpu(1)).shape) == WANT["data_after_reset"]
    assert (param.data().asnumpy() == value).all()


def test_a_block_initializes_and_resets_its_parameters_context():
    net = nn.Dense(2, in_units=3)
    net.initialize(ctx=[mx.cpu(0)])
    assert net.collect_params().list_ctx() == [mx.cpu(0)]
    net.collect_params().reset_ctx(mx.cpu(1))
    assert net.weight.list_ctx() == [mx.cpu(1)]
    assert net(mx.nd.ones((1, 3))).shape == (1, 2)


def test_a_deferred_parameter_knows_its_context():
    param = gluon.Parameter("w", shape=(0, 3), allow_deferred_init=True)
    param.initialize(ctx=mx.cpu(0))
    assert param.list_ctx() == [mx.cpu(0)]


def test_var_is_made_once_and_named_after_the_parameter():
    param = gluon.Parameter("w", shape=(2, 3))
    assert (param.var() is param.var()) == WANT["var_once"]
    assert param.var().name == WANT["var_name"]


def test_cast_changes_the_data_and_the_gradient():
    param = gluon.Parameter("w", shape=(2, 3))
    param.initialize()
    param.cast("float16")
    assert [str(np.dtype(param.dtype)), param.data().dtype.__name__,
            param.grad().dtype.__name__] == WANT["cast"]
    assert "float16" in param.var().tojson()       # a variable made after the cast


def test_an_unknown_storage_type_is_refused_with_mxnets_words():
    _raises_as_recorded(WANT["bad_stype"], lambda: gluon.Parameter("s", stype="bad"))


@pytest.mark.parametrize("name, kwargs", [
    ("no_cast", {}), ("cast_current", {"cast_dtype": True}),
    ("cast_saved", {"cast_dtype": True, "dtype_source": "saved"})])
def test_loading_another_dtype_follows_mxnets_rules(tmp_path, name, kwargs):
    want = REFERENCE["loading"][name]
    saved = nn.Dense(2, in_units=3, dtype="float16")
    saved.initialize()
    path = str(tmp_path / "half.params")
    saved.save_parameters(path)
    net = nn.Dense(2, in_units=3)
    net.initialize()
    if "error" in want:
        with pytest.raises(ValueError, match="'weight' was saved as float16.*cast_dtype=True"):
            net.load_parameters(path, **kwargs)
    else:
        net.load_parameters(path, **kwargs)
        expected = saved.weight.data().asnumpy()
        assert np.allclose(net.weight.data().asnumpy(), expected)
    assert net.weight.data().dtype.__name__ == want["dtype"]


def test_an_unknown_dtype_source_is_refused():
    net = nn.Dense(2, in_units=3)
    net.initialize()
    with pytest.raises(ValueError, match="dtype_source"):
        net.collect_params().load_dict({}, cast_dtype=True, dtype_source="file")
