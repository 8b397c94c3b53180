"""Record what MXNet 1.9.1 does with in-place updates (+=, x[:] = v, ...) under autograd.

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_inplace_reference.py tests/data/mxnet_inplace_reference.json
(see tools/mxnet_reference.py for installing it). tests/autograd/test_inplace_recording.py
imports `grid_case` and `EXTRA_CASES` and runs them with ast_hybrid in place of mxnet.

Each case returns whether the update raised (exception type and message), the updated
array's values, and the gradient of a head computed from it (or the type of the error
backward() raised).
"""
import contextlib
import json
import re
import sys

import numpy as np

Y = [0.5, -1.0, 2.0]                  # the leaf with attach_grad() in every case
CONSTANT = [10.0, 20.0, 30.0]         # a value that needs no gradient
SCALAR = 5.0
HEAD_WEIGHTS = [1.0, 2.0, 3.0]        # head = sum(target * HEAD_WEIGHTS): distinct per element

TARGETS = ("recorded_result", "leaf", "fresh")
ARITHMETIC = ("iadd", "isub", "imul", "itruediv")
KEYS = {"set_all": slice(None), "set_index": 1, "set_slice": slice(0, 2), "set_fancy": [0, 2]}
UPDATES = ARITHMETIC + tuple(KEYS) + ("copyto",)
VALUES = ("leaf_dependent", "constant", "scalar", "numpy")
PLACES = ("record", "outside")


def applies(update, value_kind):
    """Whether the grid holds this pair: copyto takes an array; `x += numpy_array` is a
    TypeError in MXNet whatever autograd does, so it is left out."""
    if update == "copyto":
        return value_kind in ("leaf_dependent", "constant")
    return not (update in ARITHMETIC and value_kind == "numpy")


def grid_cases():
    return [(t, u, v, p) for t in TARGETS for u in UPDATES for v in VALUES for p in PLACES
            if applies(u, v)]


def case_name(target, update, value_kind, place):
    return "/".join((target, update, value_kind, place))


def error_message(error):
    """MXNet's text without its C++ traceback and `Check failed: <condition>: ` prefix."""
    last_line = str(error).strip().splitlines()[-1]
    return re.sub(r"^MXNetError: (Check failed: .*?\): )?", "", last_line)


def _describe(error):
    return {"type": type(error).__name__, "message": error_message(error)}


def _make_target(nd, y, kind):
    if kind == "recorded_result":
        return y * 1.0
    if kind == "leaf":
        return y
    return nd.zeros((3,))


def _make_value(nd, y, kind, key):
    """The value for `target[key] = value` (key None: the whole array, for +=, copyto)."""
    if kind == "scalar":
        return SCALAR
    if kind == "numpy":
        full = np.array(CONSTANT, dtype="float32")
        return full if key is None else full[key]
    full = y * nd.relu(y + y) if kind == "leaf_dependent" else nd.array(CONSTANT)
    return full if key is None else full[key]


def _update(target, update, value):
    if update == "iadd":
        target += value
    elif update == "isub":
        target -= value
    elif update == "imul":
        target *= value
    elif update == "itruediv":
        target /= value
    elif update == "copyto":
        value.copyto(target)
    else:
        target[KEYS[update]] = value


def _head_gradient(mx, y, target):
    """{"grad": y.grad} after backward() of sum(target * HEAD_WEIGHTS) recorded now, or
    {"backward_error": type} when that head has no history to differentiate."""
    nd, autograd = mx.nd, mx.autograd
    with autograd.record():
        head = (target * nd.array(HEAD_WEIGHTS)).sum()
    try:
        head.backward()
    except mx.base.MXNetError as error:
        return {"backward_error": type(error).__name__}
    return {"grad": y.grad.asnumpy().tolist()}


def grid_case(mx, target_kind, update, value_kind, place):
    """One update of the grid, inside record() or outside it."""
    nd, autograd = mx.nd, mx.autograd
    y = nd.array(Y)
    y.attach_grad()
    scope = autograd.record() if place == "record" else contextlib.nullcontext()
    outcome = {"raised": None}
    with scope:
        target = _make_target(nd, y, target_kind)
        value = _make_value(nd, y, value_kind, KEYS.get(update))
        try:
            _update(target, update, value)
        except (mx.base.MXNetError, TypeError, ValueError) as error:
            outcome["raised"] = _describe(error)
    outcome["target"] = target.asnumpy().tolist()
    if outcome["raised"] is None:
        outcome.update(_head_gradient(mx, y, target))
    return outcome


# ----------------------------------------------------------------------------- extra cases
# Each takes (mx, y) with y = nd.array(Y) and attach_grad() done, and returns the array to
# differentiate (sum(array * HEAD_WEIGHTS)) or None when the case only asks whether it raises.

def _paused_add_on_recorded_result(mx, y):
    """pause() stops recording: the update is not differentiated."""
    with mx.autograd.record():
        v = y * 1.0
        with mx.autograd.pause():
            v += 1.0
        return v


def _paused_mul_on_recorded_result(mx, y):
    with mx.autograd.record():
        v = y * 1.0
        with mx.autograd.pause():
            v *= 2.0
        return v


def _add_outside_record_after_recording(mx, y):
    """The recorded result is updated after record() ends, before backward()."""
    with mx.autograd.record():
        v = y * 1.0
    v += 1.0
    return v


def _recorded_result_after_backward(mx, y):
    """A result whose graph backward() has freed, updated in a new record() scope."""
    with mx.autograd.record():
        v = y * 1.0
    v.backward()
    with mx.autograd.record():
        v += 1.0
    return None


def _recorded_result_after_backward_retaining_graph(mx, y):
    """backward(retain_graph=True) keeps the graph, so the result is still part of it."""
    with mx.autograd.record():
        v = y * 1.0
    v.backward(retain_graph=True)
    with mx.autograd.record():
        v += 1.0
    return None


def _leaf_after_backward(mx, y):
    with mx.autograd.record():
        v = y * 1.0
    v.backward()
    with mx.autograd.record():
        y += 1.0
    return None


def _constant_input_of_live_graph(mx, y):
    """A constant that a recorded operation read, updated while that graph is alive."""
    c = mx.nd.array(CONSTANT)
    with mx.autograd.record():
        z = y * c
        c += 1.0
    return z


def _constant_input_after_backward(mx, y):
    c = mx.nd.array(CONSTANT)
    with mx.autograd.record():
        z = y * c
    z.backward()
    with mx.autograd.record():
        c += 1.0
    return None


def _constant_input_of_unrecorded_operation(mx, y):
    """A constant read only by operations that needed no gradient."""
    c = mx.nd.array(CONSTANT)
    with mx.autograd.record():
        z = c * 2.0
        c += 1.0
        return y * z


def _fresh_assigned_whole_twice(mx, y):
    """out[:] = f(y) makes out part of the graph; a second write is refused."""
    with mx.autograd.record():
        out = mx.nd.zeros((3,))
        out[:] = y * 2.0
        out[:] = y * 3.0
        return out


def _fresh_filled_row_by_row(mx, y):
    """The common `out = nd.zeros(...); out[i] = f(x)` pattern."""
    with mx.autograd.record():
        x = y.reshape((3, 1)) * mx.nd.array([[1.0, 2.0]])
        out = mx.nd.zeros((3, 2))
        for i in range(3):
            out[i] = x[i] * 2.0
        return out.sum(axis=1)


def _fresh_whole_broadcast(mx, y):
    """out[:] = v with v of a broadcastable shape records the broadcast too."""
    with mx.autograd.record():
        out = mx.nd.zeros((2, 3))
        out[:] = y * y
        return out.sum(axis=0)


def _exp_result_updated_outside_record(mx, y):
    """exp's gradient reads its output; the update after record() changes that output."""
    with mx.autograd.record():
        v = mx.nd.exp(y)
    v += 1.0
    return v


def _parameter_set_data_while_recording(mx, y):
    """Parameter.set_data writes into the weight a recorded forward pass has read."""
    dense = mx.gluon.nn.Dense(2, in_units=3)
    dense.initialize()
    with mx.autograd.record():
        dense(y.reshape((1, 3)))
        dense.weight.set_data(mx.nd.ones((2, 3)))
    return None


def _parameter_set_data_after_recording(mx, y):
    dense = mx.gluon.nn.Dense(2, in_units=3)
    dense.initialize()
    with mx.autograd.record():
        dense(y.reshape((1, 3)))
    dense.weight.set_data(mx.nd.ones((2, 3)))
    return None


EXTRA_CASES = {
    "paused_add_on_recorded_result": _paused_add_on_recorded_result,
    "paused_mul_on_recorded_result": _paused_mul_on_recorded_result,
    "add_outside_record_after_recording": _add_outside_record_after_recording,
    "recorded_result_after_backward": _recorded_result_after_backward,
    "recorded_result_after_backward_retaining_graph":
        _recorded_result_after_backward_retaining_graph,
    "leaf_after_backward": _leaf_after_backward,
    "constant_input_of_live_graph": _constant_input_of_live_graph,
    "constant_input_after_backward": _constant_input_after_backward,
    "constant_input_of_unrecorded_operation": _constant_input_of_unrecorded_operation,
    "fresh_assigned_whole_twice": _fresh_assigned_whole_twice,
    "fresh_filled_row_by_row": _fresh_filled_row_by_row,
    "fresh_whole_broadcast": _fresh_whole_broadcast,
    "exp_result_updated_outside_record": _exp_result_updated_outside_record,
    "parameter_set_data_while_recording": _parameter_set_data_while_recording,
    "parameter_set_data_after_recording": _parameter_set_data_after_recording,
}


def extra_case(mx, name):
    y = mx.nd.array(Y)
    y.attach_grad()
    try:
        result = EXTRA_CASES[name](mx, y)
    except mx.base.MXNetError as error:
        return {"raised": _describe(error)}
    outcome = {"raised": None}
    if result is not None:
        outcome["result"] = result.asnumpy().tolist()
        outcome.update(_head_gradient(mx, y, result))
    return outcome


def main(path):
    import mxnet as mx
    reference = {
        "mxnet_version": mx.__version__,
        "grid": {case_name(*case): grid_case(mx, *case) for case in grid_cases()},
        "extra": {name: extra_case(mx, name) for name in EXTRA_CASES},
    }
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
