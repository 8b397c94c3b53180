"""Record MXNet 1.9.1's Block behaviours that users' code relies on (forward hooks, apply
order, the warnings for unregistered containers and for hooks on hybridized blocks,
hybridize's options, plain attributes set before Block.__init__, initializer equality)
into a JSON file that tests/gluon/test_block_api.py reads without mxnet.

Run under MXNet's own interpreter:
    /tmp/mx/bin/python tools/mxnet_block_reference.py tests/data/mxnet_block_reference.json
"""
import json
import sys
import warnings

import mxnet as mx
from mxnet.gluon import nn


def _messages(caught):
    return [str(w.message) for w in caught]


def _two_dense():
    # fixed prefixes: the names recorded do not depend on how many blocks came before
    net = nn.HybridSequential(prefix="net_")
    net.add(nn.Dense(3, prefix="first_"), nn.Dense(2, prefix="second_"))
    net.initialize()
    return net


def hooks():
    """The hooks' calls, as (where, kind of inputs, count, kind of output), per call."""
    net = _two_dense()
    x = mx.nd.ones((1, 4))
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
    record = {}
    net(x)
    record["imperative"], calls[:] = list(calls), []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.hybridize()
    # the block's text in the message made a placeholder: the two packages print blocks
    # differently
    record["hybridize_warnings"] = [m.replace(str(net), "{block}").replace(str(net[0]),
                                                                           "{block}")
                                    for m in _messages(caught)]
    net(x)
    record["hybridized_first"], calls[:] = list(calls), []
    net(x)
    record["hybridized_second"], calls[:] = list(calls), []
    with pre:
        pass
    net(x)
    record["after_exit"] = list(calls)
    return record


def apply_order():
    net = nn.HybridSequential(prefix="outer_")
    inner = nn.HybridSequential(prefix="inner_")
    inner.add(nn.Dense(1, prefix="innermost_"))
    net.add(nn.Dense(2, prefix="first_"), inner)
    order = []
    returned = net.apply(lambda block: order.append(block.name))
    return {"order": order, "returns_self": returned is net}


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


def containers():
    block = _WithContainers()
    record = {}
    for action, run in (("collect_params", block.collect_params),
                        ("initialize", block.initialize)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run()
        record[action] = _messages(caught)
    record["output"] = block(mx.nd.ones((1, 2))).asnumpy().tolist()
    return record


def hybridize_options():
    """Which calls of hybridize MXNet takes (none raises), and the warnings they give."""
    calls = {
        "positional": ((True, None, True, True, True, 3, 10, 10), {}),
        "unknown_keyword": ((), {"no_such_option": 1}),
        "backend": ((), {"backend": "no_such_backend"}),
        "static": ((), {"static_alloc": True, "static_shape": True}),
        "clear_false": ((), {"clear": False}),
    }
    record = {}
    for name, (args, kwargs) in calls.items():
        net = _two_dense()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                net.hybridize(*args, **kwargs)
                net(mx.nd.ones((1, 4)))
                outcome = "ok"
            except Exception as error:   # recorded, not raised: the record says what MXNet did
                outcome = type(error).__name__
        record[name] = {"outcome": outcome, "warnings": _messages(caught)}
    sequential = nn.Sequential()
    sequential.add(nn.Dense(2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sequential.hybridize()
    record["sequential_of_hybrid"] = _messages(caught)
    return record


def initializer_equality():
    init = mx.init
    pairs = {
        "constant_same": (init.Constant(-10), init.Constant(-10)),
        "constant_other": (init.Constant(-10), init.Constant(10)),
        "uniform_same": (init.Uniform(0.1), init.Uniform(0.1)),
        "uniform_default": (init.Uniform(), init.Uniform(0.07)),
        "normal_uniform": (init.Normal(0.07), init.Uniform(0.07)),
        "xavier_same": (init.Xavier(magnitude=2), init.Xavier(magnitude=2)),
        "xavier_other": (init.Xavier(), init.Xavier(rnd_type="gaussian")),
        "zero_one": (init.Zero(), init.One()),
        "zero_zero": (init.Zero(), init.Zero()),
    }
    record = {name: a == b for name, (a, b) in pairs.items()}
    record["constant_vs_number"] = init.Constant(1) == 1
    return record


def main(path):
    record = {"mxnet": mx.__version__, "hooks": hooks(), "apply": apply_order(),
              "containers": containers(), "hybridize": hybridize_options(),
              "initializer_equality": initializer_equality()}
    with open(path, "w") as file:
        json.dump(record, file, indent=1, sort_keys=True)
        file.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
