"""Record MXNet 1.9.1's Block behaviours that users' code relies on (forward hooks, apply
order, the warnings for unregistered containers and for hooks on hybridized blocks,
hybridize's options, plain attributes set before Block.__init__, initializer equality,
parameters' contexts, variables, casts and dtype rules of loading)
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


def _outcome(run):
    """What `run()` gives, or the kind and message of what it raises."""
    try:
        return {"value": run()}
    except Exception as error:      # recorded, not raised: the record says what MXNet did
        return {"error": type(error).__name__, "message": str(error)}


def parameters():
    gluon = mx.gluon
    fresh = gluon.Parameter("w", shape=(2, 3))
    record = {"list_ctx_before_init": _outcome(lambda: fresh.list_ctx()),
              "reset_ctx_before_init": _outcome(lambda: fresh.reset_ctx(mx.cpu(1)))}
    param = gluon.Parameter("w", shape=(2, 3))
    param.initialize(ctx=mx.cpu(0))
    record["list_ctx"] = [str(ctx) for ctx in param.list_ctx()]
    record["list_data"] = len(param.list_data())
    record["list_grad"] = len(param.list_grad())
    record["storage_types"] = [param._stype, param._grad_stype]
    record["data_elsewhere"] = _outcome(lambda: param.data(mx.cpu(1)))
    record["grad_elsewhere"] = _outcome(lambda: param.grad(mx.cpu(1)))
    param.reset_ctx(mx.cpu(1))
    record["list_ctx_after_reset"] = [str(ctx) for ctx in param.list_ctx()]
    record["data_after_reset"] = list(param.data(mx.cpu(1)).shape)
    record["var_once"] = param.var() is param.var()
    record["var_name"] = param.var().name
    param.cast("float16")
    record["cast"] = [str(param.dtype), param.data().dtype.__name__, param.grad().dtype.__name__]
    record["bad_stype"] = _outcome(lambda: gluon.Parameter("s", stype="bad"))
    return record


def loading(folder):
    """The dtype each load leaves, from a float16 file into a float32 network."""
    import os
    saved = nn.Dense(2, in_units=3, dtype="float16")
    saved.initialize()
    path = os.path.join(folder, "half.params")
    saved.save_parameters(path)
    record = {}
    for name, kwargs in (("no_cast", {}), ("cast_current", {"cast_dtype": True}),
                         ("cast_saved", {"cast_dtype": True, "dtype_source": "saved"})):
        net = nn.Dense(2, in_units=3)
        net.initialize()
        outcome = _outcome(lambda net=net, kwargs=kwargs: net.load_parameters(path, **kwargs))
        outcome.pop("message", None)    # MXNet's assertion text names its own file format
        outcome["dtype"] = net.weight.data().dtype.__name__
        record[name] = outcome
    return record


def main(path):
    record = {"mxnet": mx.__version__, "hooks": hooks(), "apply": apply_order(),
              "containers": containers(), "hybridize": hybridize_options(),
              "initializer_equality": initializer_equality(), "parameters": parameters()}
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        record["loading"] = loading(folder)
    with open(path, "w") as file:
        json.dump(record, file, indent=1, sort_keys=True)
        file.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
