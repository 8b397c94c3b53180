"""Block behaviours MXNet 1.x users' code calls: forward hooks, apply, the warnings for
unregistered containers and for hooks on hybridized blocks, hybridize's options, plain
attributes set before Block.__init__, initializer equality; checked against MXNet 1.9.1's
record in tests/data/mxnet_block_reference.json (tools/mxnet_block_reference.py)."""
import json
import pathlib
import warnings

import pytest

from ast_hybrid import init, nd
from ast_hybrid.gluon import nn

REFERENCE = json.loads((pathlib.Path(__file__).parent.parent / "data" /
                        "mxnet_block_reference.json").read_text())


def _two_dense():
    net = nn.HybridSequential(prefix="net_")
    net.add(nn.Dense(3, prefix="first_"), nn.Dense(2, prefix="second_"))
    net.initialize()
    return net


def _hooked():
    """The reference's network with its three hooks; returns it, the calls list and the
    pre-hook's handle."""
    net = _two_dense()
    calls = []

    def describe(value):
        return type(value).__name__

    net[0].register_forward_hook(lambda block, inputs, output: calls.append(
        ["child_post", block.name, describe(inputs), len(inputs), describe(inputs[0]),
         describe(output)]))
    pre = net.register_forward_pre_hook(lambda block, inputs: calls.append(
        ["pre", block.name, describe(inputs), len(inputs), describe(inputs[0])]))
    net.register_forward_hook(lambda block, inputs, output: calls.append(
        ["post", block.name, describe(inputs), len(inputs), describe(output)]))
    return net, calls, pre


def _run(net, calls):
    net(nd.ones((1, 4)))
    made = list(calls)
    calls.clear()
    return made


def test_hooks_run_as_mxnet_runs_them_imperatively():
    net, calls, _ = _hooked()
    assert _run(net, calls) == REFERENCE["hooks"]["imperative"]


def test_hooks_of_a_trace_hybridized_block_run_as_mxnet_runs_them():
    # tracing calls the child with symbols once, as MXNet's first hybridized call does
    want = REFERENCE["hooks"]
    net, calls, pre = _hooked()
    with pytest.warns(UserWarning):
        net.hybridize(mode="trace")
    assert _run(net, calls) == want["hybridized_first"]
    assert _run(net, calls) == want["hybridized_second"]
    with pre:
        pass
    assert _run(net, calls) == want["after_exit"]


def test_hooks_of_an_ast_hybridized_block_run_around_its_program():
    # the first call learns the deferred shapes imperatively, so the child's hook sees
    # arrays; the program inlines the child without calling it, so later its hook is silent
    want = REFERENCE["hooks"]
    net, calls, _ = _hooked()
    with pytest.warns(UserWarning):
        net.hybridize()
    assert _run(net, calls) == want["imperative"]
    assert _run(net, calls) == want["hybridized_second"]
    assert _run(net, calls) == want["hybridized_second"]


def test_hybridizing_a_hooked_block_warns_with_mxnets_words():
    net, _, _ = _hooked()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.hybridize()
    got = [str(w.message) for w in caught]
    blocks = [str(net), str(net[0])]
    assert got == [m.replace("{block}", text) for m, text in
                   zip(REFERENCE["hooks"]["hybridize_warnings"], blocks)]


def test_a_hook_sees_the_inputs_and_output_and_detaches():
    net = _two_dense()
    x = nd.ones((2, 4))
    seen = []
    handle = net.register_forward_hook(lambda block, inputs, output: seen.append(
        (block, inputs, output)))
    out = net(x)
    (block, inputs, output), = seen
    assert block is net and inputs[0] is x and output is out
    handle.detach()
    handle.detach()
    net(x)
    assert len(seen) == 1
    with net.register_forward_pre_hook(lambda block, inputs: seen.append(inputs)) as pre:
        assert pre.__enter__() is pre
        net(x)
    net(x)
    assert len(seen) == 2


def test_apply_visits_children_first_and_returns_the_block():
    net = nn.HybridSequential(prefix="outer_")
    inner = nn.HybridSequential(prefix="inner_")
    inner.add(nn.Dense(1, prefix="innermost_"))
    net.add(nn.Dense(2, prefix="first_"), inner)
    order = []
    returned = net.apply(lambda block: order.append(block.name))
    assert order == REFERENCE["apply"]["order"]
    assert (returned is net) == REFERENCE["apply"]["returns_self"]


class _WithContainers(nn.HybridBlock):
    def __init__(self):
        self.scale = 3.0       # a plain attribute before Block.__init__, as GluonCV sets them
        super().__init__()
        self.registered = nn.Dense(2)
        self.layers = [nn.Dense(2), nn.Dense(3)]
        self.by_name = {"a": nn.Dense(2)}
        self.nested = ([1, {"b": nn.Dense(1)}],)
        self.known = [self.registered]
        self.numbers = [1, 2]

    def hybrid_forward(self, F, x):
        return x * self.scale


@pytest.mark.parametrize("action", ["collect_params", "initialize"])
def test_an_unregistered_container_of_blocks_warns_with_mxnets_words(action):
    block = _WithContainers()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(block, action)()
    assert [str(w.message) for w in caught] == REFERENCE["containers"][action]
    if action == "collect_params":      # the warning names its caller, as MXNet's does
        assert all(w.filename == __file__ for w in caught)


def test_plain_attributes_set_before_init_are_kept():
    block = _WithContainers()
    with pytest.warns(UserWarning):
        block.initialize()
    want = REFERENCE["containers"]["output"]
    assert block(nd.ones((1, 2))).asnumpy().tolist() == want
    block.hybridize()
    with pytest.warns(UserWarning, match="unregistered container"):   # as MXNet's build
        assert block(nd.ones((1, 2))).asnumpy().tolist() == want


@pytest.mark.parametrize("name, args, kwargs", [
    ("positional", (True, None, True, True, True, 3, 10, 10), {}),
    ("unknown_keyword", (), {"no_such_option": 1}),
    ("backend", (), {"backend": "no_such_backend"}),
    ("static", (), {"static_alloc": True, "static_shape": True}),
    ("clear_false", (), {"clear": False}),
])
def test_hybridize_takes_mxnets_options(name, args, kwargs):
    net = _two_dense()
    x = nd.ones((1, 4))
    want = net(x).asnumpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.hybridize(*args, **kwargs)
        assert (net(x).asnumpy() == want).all()
    assert REFERENCE["hybridize"][name]["outcome"] == "ok"
    # MXNet hands the backend and unknown keywords to the backend, silently; with no
    # backends here, taking them is said in a warning naming them
    ignored = [str(w.message) for w in caught if "no subgraph backends" in str(w.message)]
    assert len(ignored) == (name in ("unknown_keyword", "backend"))
    assert all(("no_such" in message) for message in ignored)


def test_hybridize_clear_false_keeps_the_programs_of_the_same_options():
    net = _two_dense()
    net.hybridize()
    net(nd.ones((1, 4)))
    programs = net._programs
    net.hybridize(clear=False)
    assert net._programs is programs
    net.hybridize(clear=False, mode="trace")
    assert net._programs is None
    net.hybridize(mode="trace")
    assert net._programs is None


@pytest.mark.parametrize("name, a, b", [
    ("constant_same", init.Constant(-10), init.Constant(-10)),
    ("constant_other", init.Constant(-10), init.Constant(10)),
    ("uniform_same", init.Uniform(0.1), init.Uniform(0.1)),
    ("uniform_default", init.Uniform(), init.Uniform(0.07)),
    ("normal_uniform", init.Normal(0.07), init.Uniform(0.07)),
    ("xavier_same", init.Xavier(magnitude=2), init.Xavier(magnitude=2)),
    ("xavier_other", init.Xavier(), init.Xavier(rnd_type="gaussian")),
    ("zero_one", init.Zero(), init.One()),
    ("zero_zero", init.Zero(), init.Zero()),
    ("constant_vs_number", init.Constant(1), 1),
])
def test_initializers_compare_as_in_mxnet(name, a, b):
    assert (a == b) == REFERENCE["initializer_equality"][name]
    assert (a != b) != REFERENCE["initializer_equality"][name]


def test_an_inlined_childs_hook_never_runs_once_shapes_are_known():
    from ast_hybrid import autograd
    net = nn.HybridSequential()
    net.add(nn.Dense(3, in_units=4), nn.Dense(2, in_units=3))
    net.initialize()
    seen = []
    net[0].register_forward_hook(lambda block, inputs, output: seen.append("child"))
    net.register_forward_hook(lambda block, inputs, output: seen.append(output.shape))
    with pytest.warns(UserWarning, match="hooks will not take effect"):
        net.hybridize()
    x = nd.ones((5, 4))
    net(x)
    with autograd.record():
        net(x)
    assert seen == [(5, 2), (5, 2)]


def test_hybridize_on_a_sequential_of_hybrid_blocks_warns_as_mxnet():
    from ast_hybrid import name
    with name.NameManager():
        sequential = nn.Sequential()
    sequential.add(nn.Dense(2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sequential.hybridize()
    assert [str(w.message) for w in caught] == REFERENCE["hybridize"]["sequential_of_hybrid"]
