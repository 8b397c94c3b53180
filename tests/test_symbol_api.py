"""Symbol methods MXNet scripts use, found by tools/compat: infer_type, eval, bind,
simple_bind, outputs by name, blocks called on symbols (MXNet 1.9.1's behaviour)."""
import numpy as np
import pytest

from ast_hybrid import autograd, gluon, nd, sym
from ast_hybrid.gluon import nn


def mlp_symbol():
    net = sym.FullyConnected(sym.var("data"), name="fc1", num_hidden=4)
    net = sym.Activation(net, name="relu1", act_type="relu")
    return sym.FullyConnected(net, name="fc2", num_hidden=2)


def test_infer_type():
    arg_types, out_types, aux_types = mlp_symbol().infer_type(data="float32")
    assert arg_types == [np.float32] * 5 and out_types == [np.float32] and aux_types == []
    assert mlp_symbol().infer_type(data="float64")[1] == [np.float64]


def test_outputs_by_name():
    internals = mlp_symbol().get_internals()
    fc1 = internals["fc1_output"]
    assert fc1.list_arguments() == ["data", "fc1_weight", "fc1_bias"]
    assert fc1.infer_shape(data=(3, 5))[1] == [(3, 4)]
    with pytest.raises(ValueError, match="not among the outputs"):
        internals["nothing_output"]


def test_eval_bind_simple_bind():
    a, b = sym.var("a"), sym.var("b")
    (out,) = (a * b).eval(a=nd.array([1.0, 2.0]), b=nd.array([3.0, 4.0]))
    assert out.asnumpy().tolist() == [3.0, 8.0]
    executor = (a + b).bind(None, {"a": nd.ones((2,)), "b": nd.ones((2,)) * 2})
    assert executor.forward()[0].asnumpy().tolist() == [3.0, 3.0]
    executor = (a + b).bind(None, [nd.ones((1,)), nd.zeros((1,))])
    assert executor.forward(a=nd.array([5.0]))[0].asnumpy().tolist() == [5.0]
    with pytest.raises(ValueError, match="no array given for b"):
        (a + b).bind(None, {"a": nd.ones((2,))})
    executor = mlp_symbol().simple_bind(None, data=(3, 5))
    assert sorted((k, v.shape) for k, v in executor.arg_dict.items()) == [
        ("data", (3, 5)), ("fc1_bias", (4,)), ("fc1_weight", (4, 5)), ("fc2_bias", (2,)),
        ("fc2_weight", (2, 4))]
    assert executor.forward()[0].shape == (3, 2)
    with pytest.raises(NotImplementedError):
        executor.backward()


def test_batchnorm_executor_follows_is_train():
    out = sym.BatchNorm(sym.var("x"), name="bn", fix_gamma=False)
    executor = out.simple_bind(None, x=(4, 2))
    executor.arg_dict["bn_gamma"][:] = 1
    executor.aux_dict["bn_moving_var"][:] = 1
    x = nd.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    np.testing.assert_allclose(executor.forward(x=x)[0].asnumpy(), x.asnumpy() / np.sqrt(1.001),
                               rtol=1e-5)   # eps=1e-3, the operator's default
    trained = executor.forward(is_train=True, x=x)[0].asnumpy()
    np.testing.assert_allclose(trained.mean(axis=0), [0, 0], atol=1e-5)
    assert not autograd.is_training()


def test_block_called_on_a_symbol_names_variables_by_full_name():
    net = nn.HybridSequential()
    net.add(nn.Dense(4, activation="relu"), nn.BatchNorm(), nn.Dense(2))
    net.initialize()
    x = nd.array(np.random.RandomState(0).uniform(size=(2, 3)))
    expected = net(x)
    out = net(sym.var("data"))
    assert out.list_arguments() == ["data", "dense0_weight", "dense0_bias", "batchnorm0_gamma",
                                    "batchnorm0_beta", "dense1_weight", "dense1_bias"]
    assert out.list_auxiliary_states() == ["batchnorm0_running_mean", "batchnorm0_running_var"]
    block = gluon.SymbolBlock(out, sym.var("data"), params=net.collect_params())
    np.testing.assert_allclose(block(x).asnumpy(), expected.asnumpy(), rtol=1e-6)
