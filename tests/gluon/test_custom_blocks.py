"""Custom HybridBlocks as users write them (children, helper methods, loops over children,
several inputs, tuple outputs, float/None extra arguments): trace mode must equal imperative
mode and a numpy reference; programs are cached and shape-agnostic."""
import numpy as np
import pytest

from ast_hybrid import init
from ast_hybrid.gluon import HybridBlock, nn

from gluontest import array, assert_same, imperative_then_trace


def relu(x):
    return np.maximum(x, 0)


class Residual(HybridBlock):
    """A block with children and a helper method."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.body = nn.Dense(units, activation="relu")
        self.proj = nn.Dense(units, use_bias=False)

    def _combine(self, F, a, b):
        return F.relu(a + b)

    def hybrid_forward(self, F, x):
        return self._combine(F, self.body(x), self.proj(x))


class Tower(HybridBlock):
    """Loops over its children; several inputs; a tuple output; its own parameter."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.stages = nn.HybridSequential()
        for units in (6, 5, 4):
            self.stages.add(nn.Dense(units, activation="tanh"))
        self.gate = self.params.get("gate", shape=(4,), init=init.Constant(0.5))

    def hybrid_forward(self, F, x, y, gate):
        h = x
        for stage in self.stages._children.values():
            h = stage(h)
        mixed = F.broadcast_mul(h, gate.reshape((1, -1))) + y
        return mixed, F.sum(mixed, axis=1)


class Scaled(HybridBlock):
    """Extra non-array arguments: a float and an optional array/None."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = nn.Dense(3)

    def hybrid_forward(self, F, x, scale=1.0, shift=None):
        out = self.dense(x) * scale
        if shift is not None:
            out = out + shift
        return out


class Counting(HybridBlock):
    """Counts how often hybrid_forward runs (a print in MXNet tutorials)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []
        self.dense = nn.Dense(4)

    def hybrid_forward(self, F, x):
        self.calls.append(F.__name__)
        return F.relu(self.dense(x))


def dense_ref(block, x, activation=None):
    out = x @ block.weight.data().asnumpy().T
    if block.bias is not None:
        out = out + block.bias.data().asnumpy()
    return {"relu": relu, "tanh": np.tanh, None: lambda v: v}[activation](out)


def test_block_with_children_and_helper_method():
    net = Residual(5)
    net.initialize(init.Normal(0.5))
    x = array(3, 7)
    out = imperative_then_trace(net, x)
    want = relu(dense_ref(net.body, x.asnumpy(), "relu") + dense_ref(net.proj, x.asnumpy()))
    assert_same(out, want, rtol=1e-5)
    # children made outside name_scope() count at top level, as in MXNet
    assert list(net.collect_params()) == ["dense0_weight", "dense0_bias", "dense1_weight"]


def test_loop_over_children_several_inputs_tuple_output():
    net = Tower()
    net.initialize(init.Normal(0.5))
    x, y = array(2, 3), array(2, 4, seed=1)
    out = imperative_then_trace(net, x, y)
    assert isinstance(out, tuple) and len(out) == 2
    h = x.asnumpy()
    for stage in net.stages._children.values():
        h = dense_ref(stage, h, "tanh")
    mixed = h * 0.5 + y.asnumpy()
    assert_same(out, (mixed, mixed.sum(axis=1)), rtol=1e-5)
    traced = net(x, y)
    assert isinstance(traced, tuple) and len(traced) == 2


@pytest.mark.parametrize("extra", [(), (2.5,), (0.5, None)], ids=["default", "float", "none"])
def test_float_and_none_arguments(extra):
    net = Scaled()
    net.initialize(init.Normal(0.5))
    x = array(4, 2)
    out = imperative_then_trace(net, x, *extra)
    scale = extra[0] if extra else 1.0
    assert_same(out, dense_ref(net.dense, x.asnumpy()) * scale, rtol=1e-5)


def test_array_extra_argument_and_each_constant_its_own_program():
    net = Scaled()
    net.initialize(init.Normal(0.5))
    x, shift = array(4, 2), array(4, 3, seed=2)
    out = net(x, 2.0, shift)
    want = dense_ref(net.dense, x.asnumpy()) * 2.0 + shift.asnumpy()
    assert_same(out, want, rtol=1e-5)
    net.hybridize(mode="trace")
    assert_same(net(x, 2.0, shift), want, rtol=1e-5)
    assert_same(net(x, 3.0), dense_ref(net.dense, x.asnumpy()) * 3.0, rtol=1e-5)
    assert len(net._programs) == 2        # a float is specialized on; arrays are not


def test_nested_custom_blocks_in_sequential():
    net = nn.HybridSequential()
    net.add(Residual(6), Residual(6), nn.Dense(2))
    net.initialize(init.Normal(0.3))
    x = array(3, 6)
    out = imperative_then_trace(net, x)
    h = x.asnumpy()
    for block in list(net._children.values())[:2]:
        h = relu(dense_ref(block.body, h, "relu") + dense_ref(block.proj, h))
    assert_same(out, dense_ref(net[2], h), rtol=1e-5)


# ----------------------------------------------------------------- deferred shapes
def test_deferred_shape_imperative():
    net = nn.Dense(256)
    net.initialize()
    assert net.weight.shape == (256, 0)
    out = net(array(2, 20))
    assert out.shape == (2, 256) and net.weight.shape == (256, 20)
    assert net.weight.data().shape == (256, 20)


def test_deferred_shape_in_trace_mode():
    net = nn.HybridSequential()
    net.add(nn.Dense(256, activation="relu"), nn.Dense(10))
    net.initialize()
    net.hybridize(mode="trace")
    x = array(3, 20)
    out = net(x)
    assert out.shape == (3, 10)
    assert net[0].weight.shape == (256, 20) and net[1].weight.shape == (10, 256)
    h = relu(dense_ref(net[0], x.asnumpy()))
    assert_same(out, dense_ref(net[1], h), rtol=1e-4, atol=1e-5)


def test_deferred_conv_and_batchnorm_in_trace_mode():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3), nn.BatchNorm(), nn.Dense(2))
    net.initialize()
    net.hybridize(mode="trace")
    assert net(array(2, 3, 6, 6)).shape == (2, 2)
    assert net[0].weight.shape == (4, 3, 3, 3)
    assert net[1].running_mean.shape == (4,)
    assert net[2].weight.shape == (2, 64)


# ----------------------------------------------------------------- the program cache
def test_new_batch_size_does_not_retrace():
    net = Counting()
    net.initialize()
    net.hybridize(mode="trace")
    net(array(2, 5))
    traced = len(net.calls)
    assert all(name.endswith("symbol") for name in net.calls)
    for batch in (1, 7, 3):
        assert net(array(batch, 5)).shape == (batch, 4)
    assert len(net.calls) == traced
    assert len(net._programs) == 1


def test_trace_runs_hybrid_forward_once_after_initialization():
    net = Counting()
    net.initialize()
    net(array(2, 5))                      # imperative: shapes known now
    del net.calls[:]
    net.hybridize(mode="trace")
    net(array(2, 5))
    net(array(4, 5))
    assert net.calls == ["ast_hybrid.symbol"]


def test_trace_with_deferred_parameters_runs_hybrid_forward_once():
    net = Counting()
    net.initialize()
    net.hybridize(mode="trace")
    net(array(2, 5))
    net(array(3, 5))
    assert net.calls == ["ast_hybrid.symbol"]


def test_hybridize_again_clears_the_cache():
    net = Counting()
    net.initialize()
    net.hybridize(mode="trace")
    net(array(2, 5))
    assert len(net._programs) == 1
    net.hybridize(mode="trace")
    assert not net._programs
    calls = len(net.calls)
    net(array(2, 5))
    assert len(net.calls) == calls + 1


def test_hybridize_inactive_goes_back_to_imperative():
    net = Counting()
    net.initialize()
    x = array(2, 5)
    want = net(x)
    net.hybridize(mode="trace")
    net(x)
    net.hybridize(active=False)
    del net.calls[:]
    assert_same(net(x), want)
    assert_same(net(x), want)
    assert net.calls == ["ast_hybrid.ndarray"] * 2


def test_hybridize_rejects_unknown_modes():
    # other keywords are MXNet's backend options, taken with a warning (test_block_api.py)
    net = nn.HybridSequential()
    net.add(nn.Dense(2))
    with pytest.raises(ValueError, match="mode"):
        net.hybridize(mode="jit")
    with pytest.raises(ValueError, match="mode"):
        nn.Sequential().hybridize(mode="jit")
    nn.Sequential().hybridize(mode="trace", static_alloc=True, static_shape=True)


def test_changing_a_child_after_hybridize_is_seen():
    net = nn.HybridSequential()
    net.add(nn.Dense(3, in_units=2))
    net.initialize(init.Normal(0.5))
    net.hybridize(mode="trace")
    x = array(4, 2)
    net(x)
    net.add(nn.Activation("relu"))
    assert_same(net(x), relu(dense_ref(net[0], x.asnumpy())), rtol=1e-5)


def test_set_data_after_hybridize_is_seen():
    net = nn.Dense(3, in_units=2)
    net.initialize()
    net.hybridize(mode="trace")
    x = array(4, 2)
    net(x)
    net.weight.set_data(np.ones((3, 2)))
    assert_same(net(x), x.asnumpy() @ np.ones((2, 3)), rtol=1e-6)


@pytest.mark.parametrize("in_units", [0, 2])
def test_uninitialized_parameters_give_the_same_error_in_trace_mode(in_units):
    net = nn.HybridSequential()
    net.add(nn.Dense(3, in_units=in_units))           # initialize() never called
    with pytest.raises(RuntimeError, match=r"not been initialized; call initialize"):
        net(array(4, 2))
    net.hybridize(mode="trace")
    with pytest.raises(RuntimeError, match=r"not been initialized; call initialize"):
        net(array(4, 2))
    net.initialize()
    assert net(array(4, 2)).shape == (4, 3)


def test_children_of_a_hybrid_block_must_be_hybrid_blocks():
    net = nn.HybridSequential()
    with pytest.raises(ValueError, match="must also be HybridBlock.*HybridSequential"):
        net.add(nn.Lambda("tanh"))

    class Holder(HybridBlock):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential()

    with pytest.raises(ValueError, match="must also be HybridBlock"):
        Holder()
    plain = nn.Sequential()
    plain.add(nn.Lambda("tanh"), nn.Dense(2))            # a Block may hold any block
    assert len(plain) == 2
