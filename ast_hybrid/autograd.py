"""Training mode, gradient recording and reverse-mode differentiation (MXNet 1.x's autograd).

While `record()` is active, every operator applied to an array that needs a gradient (one
with `attach_grad()`, or itself the result of such a recorded operation) adds a node to a tape
held by its outputs: `output._node = (node, index)`. `backward()` walks those nodes from the
heads back to the arrays with gradient buffers, calling each table operator's `grad`, or the
backward callable of a custom node (`record_function`, used by hybridized blocks so that a
whole compiled program is one node). Nodes keep their arrays' buffers, not copies, so in-place
writes while recording are refused where MXNet refuses them (`check_inplace_write`).
"""
import threading
import weakref

import numpy as np

from .base import MXNetError
from .graph_order import post_order


class TapeArray:
    """An array the tape records (NDArray is one; the tape imports no array type): it holds
    `_data` (its numpy array), `_node`, `_grad`, `_grad_req` and `_grad_fresh`, and the
    tape makes the gradients it hands out of the array's own type."""
    __slots__ = ()


class _State(threading.local):
    training = False
    recording = False


_state = _State()


def is_training():
    return _state.training


def is_recording():
    return _state.recording


def set_training(train_mode):
    previous, _state.training = _state.training, bool(train_mode)
    return previous


def set_recording(is_recording):
    previous, _state.recording = _state.recording, bool(is_recording)
    return previous


class _Scope:
    """Sets recording and/or training mode (None: left as it is) for a `with` block and
    restores the previous modes after it. A plain object rather than a generator-based
    context manager, since a training step enters one per iteration; it keeps one saved
    state, so entering it again while it is active raises rather than losing that state."""
    __slots__ = ("_recording", "_training", "_previous")

    def __init__(self, recording, training):
        self._recording, self._training = recording, training
        self._previous = None

    def __enter__(self):
        if self._previous is not None:
            raise RuntimeError("this autograd scope is active already: a nested block needs "
                               "a scope of its own (another autograd.record() or pause())")
        state = _state
        self._previous = (state.recording, state.training)
        if self._recording is not None:
            state.recording = self._recording
        if self._training is not None:
            state.training = self._training

    def __exit__(self, *exc_info):
        _state.recording, _state.training = self._previous
        self._previous = None


def record(train_mode=True):
    """Record operations for backward(); train_mode sets is_training() inside (Dropout...)."""
    return _Scope(True, train_mode)


def pause(train_mode=False):
    """Stop recording inside a record() scope."""
    return _Scope(False, train_mode)


def train_mode():
    return _Scope(None, True)


def predict_mode():
    return _Scope(None, False)


def attach_grad(array, grad_req="write"):
    """Give `array` a zeroed gradient buffer that backward() writes (or adds) into.

    The array becomes a leaf of later recordings: what computed it is no longer differentiated.
    """
    if grad_req not in ("write", "add", "null"):
        raise ValueError(f"grad_req must be 'write', 'add' or 'null', not {grad_req!r}")
    array._grad_req = grad_req
    array._grad = None if grad_req == "null" else type(array)(np.zeros_like(array._data))
    array._node = None


def mark_variables(variables, gradients, grad_reqs="write"):
    """Use `gradients` (NDArrays) as the gradient buffers of `variables`."""
    if isinstance(variables, TapeArray):
        variables, gradients = [variables], [gradients]
    if isinstance(grad_reqs, str):
        grad_reqs = [grad_reqs] * len(variables)
    for variable, gradient, req in zip(variables, gradients, grad_reqs):
        if req not in ("write", "add", "null"):
            raise ValueError(f"grad_req must be 'write', 'add' or 'null', not {req!r}")
        variable._grad_req = req
        variable._grad = None if req == "null" else gradient
        variable._node = None


# ----------------------------------------------------------------------------- the tape

def grad_is_fresh(array, consume=False):
    """Whether backward() wrote `array.grad` since the last consume=True call."""
    fresh = array._grad_fresh
    if consume:
        array._grad_fresh = False
    return fresh


class _Node:
    """One recorded operation.

    op/attrs for a table operator (attrs include `training` for mode-dependent operators),
    or op=None and `backward` for a custom node. `sources[i]` is where input i came from:
    (node, index) for a recorded result, None for a leaf. `leaves[i]` is input i's NDArray
    when it is a leaf with a gradient buffer. `input_data`/`output_data` are the numpy values
    the gradient needs; both are dropped when the graph is freed.
    """
    __slots__ = ("op", "attrs", "backward", "sources", "leaves", "input_data", "output_data",
                 "count", "freed", "into", "__weakref__")

    def __init__(self, op, attrs, backward, inputs, output_data, input_data=None):
        self.op, self.attrs, self.backward = op, attrs, backward
        self.sources = [x._node for x in inputs]
        self.leaves = [x if x._node is None and x._grad_req != "null" else None for x in inputs]
        _mark_constant_inputs(self, inputs)
        self.input_data = [x._data for x in inputs] if input_data is None else input_data
        self.output_data = output_data
        self.count = len(output_data) if output_data is not None else 0
        self.freed = False
        self.into = False

    @property
    def label(self):
        return self.op.name if self.op is not None else "custom function"


def _mark_constant_inputs(node, inputs):
    """Remember, in each input that is neither a recorded result nor a leaf, that `node`
    read its buffer: `node` keeps that buffer (not a copy) for backward, so an in-place write
    into the constant while `node` is alive would change the gradient. A weak reference, so
    that a long-lived constant does not keep a graph alive."""
    reader = None
    for x in inputs:
        if x._node is None and x._grad_req == "null":
            if reader is None:
                reader = weakref.ref(node)
            x._reader = reader


def requires_grad(array):
    """Whether a recorded operation on `array` must be differentiated: it has a gradient
    buffer (attach_grad) or was itself computed by a recorded operation."""
    return array._node is not None or array._grad_req != "null"


_needs_grad = requires_grad


def record_op(op, attrs, inputs, outputs):
    """Called by every imperative operator while recording: add a node if any input needs a
    gradient; its outputs then point at it."""
    if not any(_needs_grad(x) for x in inputs):
        return
    if op.mode_dependent:
        attrs = dict(attrs, training=_state.training)
    node = _Node(op, attrs, None, inputs, [y._data for y in outputs])
    for index, y in enumerate(outputs):
        y._node = (node, index)


def record_function(inputs, outputs, backward, into=False, attached=None):
    """Record a custom node: `outputs` (NDArrays) were computed from `inputs` (NDArrays).

    `backward(out_grads)` receives one numpy array or None (nothing depended on that output)
    per output, and returns one numpy array (shaped like that input) or None (no gradient)
    per input. It is called at most once unless backward runs with retain_graph=True.
    With into=True it is called as backward(out_grads, destinations): destinations is None
    or one entry per input: the `.grad` buffer of an input whose gradient backward() would
    only copy there (grad_req 'write', no other use of it in the graph), which backward may
    compute that gradient into and return; False for an input whose gradient nothing uses
    (backward may return None for it); else None.
    `attached`, one bool per output, leaves the outputs marked False out of the graph, as
    constants (backward then receives None for them).
    Does nothing when no input needs a gradient or when not recording. Returns `outputs`.
    """
    if not _state.recording or not any(_needs_grad(x) for x in inputs):
        return outputs
    return record_needed(list(inputs), None, outputs, backward, into, attached)


def record_needed(inputs, input_data, outputs, backward, into=False, attached=None):
    """record_function for a caller that knows it is recording and that an input needs a
    gradient; `input_data` is the list of the inputs' numpy arrays, or None to read it."""
    if attached is not None and not any(attached):
        return outputs
    node = _Node(None, None, backward, inputs, None, input_data)
    node.count = len(outputs)
    node.into = into
    for index, y in enumerate(outputs):
        if attached is None or attached[index] is not False:
            y._node = (node, index)
    return outputs


# ----------------------------------------------------------------------------- in-place writes
# A recorded node keeps its inputs' and outputs' buffers, not copies, so writing into one of
# them would change what backward() computes. MXNet 1.x refuses such writes while recording,
# with two checks in Imperative::RecordOp (src/imperative/imperative.cc); these are they, with
# MXNet's messages, so that `except MXNetError` and the text behave the same.

WRITE_INTO_GRAPH_MESSAGE = (
    "Assigning to NDArrays that are already in a computational graph will cause undefined "
    "behavior when evaluating gradients. Please call backward first to clear the graph or do "
    "this out side of a record section. Also note that you cannot use inplace operations "
    "like +=, *=, relu(x, out=x), y[idx]=x, etc inside a record section.")
INPLACE_MESSAGE = ("Inplace operations (+=, -=, x[:]=, etc) are not supported when "
                   "recording with autograd.")


def in_graph(array):
    """Whether a live recording uses `array` (MXNet: it has an autograd entry): a recorded
    result whose graph backward() has not freed, a leaf with a gradient buffer, or a constant
    that a recorded node still alive has read."""
    source = array._node
    if source is not None:
        return not source[0].freed
    if array._grad_req != "null":
        return True
    reader = array._reader() if array._reader is not None else None   # a _Node, or None
    return reader is not None and not reader.freed


def check_inplace_write(target, inputs, reads_target):
    """Raise MXNet's MXNetError for an in-place write into `target` computed from `inputs`
    (NDArrays) while recording, where MXNet raises: `target` is in a live graph (any write),
    or the write also reads `target` (`+=`, a partial `x[i] = v`: MXNet's
    `_slice_assign(x, v, out=x)`) and an input is in a live graph, which would make `target`
    an input and the output of one node."""
    if in_graph(target):
        raise MXNetError(WRITE_INTO_GRAPH_MESSAGE)
    if reads_target and any(in_graph(x) for x in inputs):
        raise MXNetError(INPLACE_MESSAGE)


def _as_list(value):
    if value is None:
        return None
    if type(value) is list:
        return value
    if isinstance(value, (TapeArray, np.ndarray)):
        return [value]
    return list(value)


def _topological(heads):
    """Nodes reachable from the heads, each after every node that uses its outputs."""
    order = _chain(heads[0]) if len(heads) == 1 else None
    if order is None:
        order = post_order(heads, lambda node: [s[0] for s in node.sources if s is not None])
    if any(node.freed for node in order):
        raise MXNetError(
            "backward: the graph of this computation was already freed by an earlier "
            "backward(); pass retain_graph=True to the first backward() to "
            "differentiate it again")
    order.reverse()
    return order


def _chain(head):
    """The nodes from `head` back, dependencies first, where each is fed by one recorded node
    at most (a net and its loss, each one compiled block); None for any other graph."""
    order, node = [], head
    while node is not None:
        order.append(node)
        feeding = None
        for source in node.sources:
            if source is not None:
                if feeding is not None and source[0] is not feeding:
                    return None
                feeding = source[0]
        node = feeding
    order.reverse()
    return order


def _accumulate(table, key, value):
    previous = table.get(key)
    table[key] = value if previous is None else previous + value


def _fit(grad, data, node, index):
    grad = np.asarray(grad)
    if grad.shape != data.shape:
        if grad.size == data.size:
            grad = grad.reshape(data.shape)
        else:
            raise MXNetError(f"backward: {node.label} returned a gradient of shape "
                             f"{grad.shape} for its input {index} of shape {data.shape}")
    if grad.dtype != data.dtype and data.dtype.kind == "f":
        grad = grad.astype(data.dtype)
    return grad


_ndarray = np.ndarray


def _destinations(nodes):
    """{id(node): destinations} for the custom nodes that accept them (see record_function):
    the `.grad` buffers of leaves with grad_req 'write' that are used once in the graph."""
    used = [id(leaf) for node in nodes for leaf in node.leaves if leaf is not None]
    shared = set()
    if len(set(used)) != len(used):     # some leaf is used more than once: find which
        seen = set()
        for key in used:
            (shared if key in seen else seen).add(key)
    chosen = {}
    for node in nodes:
        if not node.into:
            continue
        offered, any_buffer = [], False
        for leaf, source, data in zip(node.leaves, node.sources, node.input_data):
            if leaf is None:
                offered.append(False if source is None else None)
                continue
            buffer = leaf._grad
            if buffer is not None and leaf._grad_req == "write" and id(leaf) not in shared:
                buffer = buffer._data
                if buffer.shape == data.shape and buffer.dtype == data.dtype:
                    offered.append(buffer)
                    any_buffer = True
                    continue
            offered.append(None)
        if any_buffer:
            chosen[id(node)] = offered
    return chosen


def _run(heads, head_grads, retain_graph, wanted=None, write_into=False):
    """Reverse-mode pass. Returns ({id(leaf): (leaf, grad)}, {wanted key: grad}, whether a
    leaf with a gradient buffer was reached)."""
    heads = _as_list(heads)
    head_grads = _as_list(head_grads)
    if head_grads is None:
        head_grads = [None] * len(heads)
    if len(head_grads) != len(heads):
        raise ValueError(f"backward: {len(heads)} heads but {len(head_grads)} head gradients")
    grads = {}
    start = []
    for head, head_grad in zip(heads, head_grads):
        if head._node is None:
            raise MXNetError(
                "backward: cannot differentiate an array that was not computed inside "
                "autograd.record() from an array with attach_grad() (this array has no "
                "recorded history)")
        node, index = head._node
        if node.freed:
            _topological([node])       # raises the freed-graph error
        if head_grad is None:
            value = np.empty_like(head._data)
            value.fill(1)       # np.ones_like does this through two Python-level wrappers
        else:
            value = np.asarray(getattr(head_grad, "_data", head_grad), dtype=head._data.dtype)
            if value.shape != head.shape:
                value = np.broadcast_to(value, head.shape).copy()
        _accumulate(grads, (id(node), index), value)
        start.append(node)
    leaf_grads, found = {}, {}
    nodes = _topological(start)
    reached_leaf = False
    destinations = _destinations(nodes) if write_into else None
    for node in nodes:
        key = id(node)
        out_grads = [grads.pop((key, i), None) for i in range(node.count)]
        if wanted:
            for i, g in enumerate(out_grads):
                if (key, i) in wanted:
                    found[(key, i)] = g
        leaves = node.leaves
        if not reached_leaf:
            reached_leaf = any(leaf is not None for leaf in leaves)
        offered = None
        if all(g is None for g in out_grads):
            in_grads = [None] * len(node.sources)
        elif node.op is not None:
            out_grads = [np.zeros_like(y) if g is None else g
                         for g, y in zip(out_grads, node.output_data)]
            if node.op.grad is None:
                raise MXNetError(f"backward: operator {node.op.name} is not differentiable")
            in_grads = node.op.grad(node.attrs, node.input_data, node.output_data, out_grads)
        elif node.into:
            offered = destinations.get(key) if destinations else None
            in_grads = node.backward(out_grads, offered)
        else:
            in_grads = node.backward(out_grads)
        if len(in_grads) != len(node.sources):
            raise MXNetError(f"backward: {node.label} returned {len(in_grads)} gradients for "
                             f"{len(node.sources)} inputs")
        references = node.input_data
        for index, (g, source, leaf) in enumerate(zip(in_grads, node.sources, leaves)):
            if g is None:
                # an operator reached its input (a zero gradient is written); a compiled
                # block's None means its program did not use the input on the path this
                # call took, as a parameter on an untaken branch is not on the tape
                # imperatively: its gradient stays as it was
                if leaf is not None and node.op is not None:
                    leaf_grads.setdefault(id(leaf), (leaf, None))
                continue
            if offered is not None and g is offered[index]:
                # computed into the buffer offered (by _destinations: the leaf's own, of its
                # shape and dtype, the graph's only use of the leaf)
                leaf_grads[id(leaf)] = (leaf, g)
                continue
            reference = references[index] if references is not None else (
                leaf._data if leaf is not None else None)
            # the common case (an array of the input's shape and dtype) skips _fit's call
            if reference is not None and not (type(g) is _ndarray
                                              and g.shape == reference.shape
                                              and g.dtype == reference.dtype):
                g = _fit(g, reference, node, index)
            if source is not None:
                _accumulate(grads, (id(source[0]), source[1]), g)
            elif leaf is not None:
                previous = leaf_grads.get(id(leaf))
                leaf_grads[id(leaf)] = (leaf, g if previous is None or previous[1] is None
                                        else previous[1] + g)
    if not retain_graph:
        for node in nodes:
            node.freed = True
            node.input_data = node.output_data = None
            node.backward = None
    return leaf_grads, found, reached_leaf


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):
    """Compute the gradients of `heads` with respect to every array with attach_grad() they
    depend on, and write (grad_req='write') or add ('add') them into those arrays' `.grad`."""
    leaf_grads, _, reached = _run(heads, head_grads, retain_graph, write_into=True)
    if not reached:
        raise MXNetError("backward: the heads do not depend on any array with attach_grad()")
    for leaf, g in leaf_grads.values():
        if leaf._grad is None or leaf._grad_req == "null":
            continue
        buffer = leaf._grad._data
        leaf._grad_fresh = True
        if leaf._grad_req == "add":
            if g is not None:
                buffer += g
        elif g is not buffer:        # not already computed into it by a compiled block
            buffer[...] = 0 if g is None else g


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False,
         train_mode=True):
    """The gradients of `heads` with respect to `variables` (NDArrays), returned as a list of
    NDArrays; `.grad` buffers are left unchanged. First order only."""
    if create_graph:
        raise NotImplementedError("autograd.grad: create_graph=True (higher-order gradients) "
                                  "is not supported")
    single = isinstance(variables, TapeArray)
    variables = [variables] if single else list(variables)
    wanted = {(id(v._node[0]), v._node[1]) for v in variables if v._node is not None}
    leaf_grads, found, _ = _run(heads, head_grads, bool(retain_graph), wanted)
    results = []
    for variable in variables:
        if variable._node is not None:
            g = found.get((id(variable._node[0]), variable._node[1]))
        else:
            if variable._grad_req == "null":
                raise MXNetError("autograd.grad: a variable has no gradient buffer; call "
                                 "attach_grad() on it before recording")
            g = leaf_grads.get(id(variable), (None, None))[1]
        results.append(type(variable)(np.zeros_like(variable._data) if g is None
                                      else np.array(g, dtype=variable._data.dtype)))
    return results


class Function:
    """A differentiable function with a hand-written backward, as MXNet's autograd.Function:
    subclass it, define forward(*inputs) and backward(*output_grads) on NDArrays, call it."""

    def __init__(self):
        self.saved_tensors = ()

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    def __call__(self, *inputs):
        with pause(train_mode=is_training()):
            outputs = self.forward(*inputs)
        single = isinstance(outputs, TapeArray)
        output_list = [outputs] if single else list(outputs)

        def backward_fn(out_grads):
            given = [type(y)(np.zeros_like(y._data) if g is None else g)
                     for g, y in zip(out_grads, output_list)]
            with pause(train_mode=is_training()):
                result = self.backward(*given)
            result = [result] if isinstance(result, TapeArray) else list(result)
            return [None if r is None else r._data for r in result]

        record_function(list(inputs), output_list, backward_fn)
        return outputs

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, *output_grads):
        raise NotImplementedError
