"""Variable-length sequences: SequenceMask, SequenceLast, SequenceReverse (sequence axis 0 or 1)."""
import numpy as np

from . import attrs as A
from .registry import Op, register, shape_error
from .shapes import known, require

_ATTRS = {"use_sequence_length": A.Bool(False), "axis": A.Int(0)}


def _inputs(attrs):
    if attrs is None or attrs["use_sequence_length"]:
        return ("data", "sequence_length")
    return ("data",)


def _check(op_name, data, lengths, axis, axes, shapes):
    """Shapes and axis, checked by rule and kernel alike; returns (steps, batch)."""
    require(axis in axes, op_name, f"axis={axis} must be {' or '.join(map(str, axes))}", shapes)
    require(len(data) >= 2, op_name, "data must have a sequence and a batch axis", shapes)
    steps, batch = (data[0], data[1]) if axis == 0 else (data[1], data[0])
    if lengths is not None:
        require(tuple(lengths) == (batch,), op_name,
                f"sequence_length must have shape ({batch},)", shapes)
    return steps, batch


def _lengths(op_name, data, sequence_length, axis, low, shapes):
    """The lengths as integers (MXNet truncates them), each in [low, steps]: MXNet reads past
    the sequence outside that range."""
    lengths = sequence_length.astype(np.intp, copy=False)
    steps = data.shape[axis]
    if lengths.size and (lengths.min() < low or lengths.max() > steps):
        raise shape_error(op_name, f"sequence lengths must lie in [{low}, {steps}], got "
                          f"{lengths.tolist()}", shapes)
    return lengths


def _time_major(array, axis):
    """A (steps, batch, ...) view of `array` (its own inverse)."""
    return array if axis == 0 else np.swapaxes(array, 0, 1)


def _rule(op_name, axes, drop_axis):
    def rule(attrs, in_shapes):
        data = known(op_name, in_shapes, 1)[0]
        axis = attrs["axis"]
        lengths = in_shapes[1] if attrs["use_sequence_length"] else None
        _, batch = _check(op_name, data, lengths, axis, axes, in_shapes)
        ins = [data] + ([tuple(lengths or (batch,))] if attrs["use_sequence_length"] else [])
        out = data[:axis] + data[axis + 1:] if drop_axis else data
        return ins, [out]
    return rule


def _valid(data, sequence_length, axis, shapes):
    """Where the steps within each sequence are, shaped to broadcast against `data`."""
    lengths = _lengths("SequenceMask", data, sequence_length, axis, 0, shapes)
    valid = np.arange(data.shape[0 if axis == 0 else 1])[:, None] < lengths[None, :]
    valid = valid if axis == 0 else valid.T
    return valid.reshape(valid.shape + (1,) * (data.ndim - 2))


def _sequence_mask(data, sequence_length=None, *, use_sequence_length=False, value=0.0,
                   axis=0):
    shapes = (data,) if sequence_length is None else (data, sequence_length)
    _check("SequenceMask", data.shape, None if sequence_length is None else
           sequence_length.shape, axis, (0, 1), shapes)
    if not use_sequence_length:
        return data.copy()
    valid = _valid(data, np.minimum(sequence_length, data.shape[axis]), axis, shapes)
    return np.where(valid, data, np.asarray(value, dtype=data.dtype))


def _sequence_mask_grad(attrs, inputs, outputs, out_grads):
    if not attrs["use_sequence_length"]:
        return [out_grads[0]]
    data, sequence_length = inputs
    valid = _valid(data, np.minimum(sequence_length, data.shape[attrs["axis"]]), attrs["axis"],
                   inputs)
    return [np.where(valid, out_grads[0], 0).astype(data.dtype, copy=False), None]


register(Op("SequenceMask", _sequence_mask, _rule("SequenceMask", (0, 1), False),
            inputs=_inputs, grad=_sequence_mask_grad, attrs=dict(_ATTRS, value=A.Float(0.0))))


def _last_steps(data, sequence_length, axis, shapes):
    if sequence_length is None:
        return np.full(data.shape[1 - axis], data.shape[axis] - 1, dtype=np.intp)
    return _lengths("SequenceLast", data, sequence_length, axis, 1, shapes) - 1


def _sequence_last(data, sequence_length=None, *, use_sequence_length=False, axis=0):
    shapes = (data,) if sequence_length is None else (data, sequence_length)
    _, batch = _check("SequenceLast", data.shape, None if sequence_length is None else
                      sequence_length.shape, axis, (0, 1), shapes)
    last = _last_steps(data, sequence_length, axis, shapes)
    return _time_major(data, axis)[last, np.arange(batch)]


def _sequence_last_grad(attrs, inputs, outputs, out_grads):
    data, axis = inputs[0], attrs["axis"]
    sequence_length = inputs[1] if attrs["use_sequence_length"] else None
    last = _last_steps(data, sequence_length, axis, inputs)
    d = np.zeros_like(data)
    _time_major(d, axis)[last, np.arange(last.size)] = out_grads[0]
    return [d] + [None] * (len(inputs) - 1)


register(Op("SequenceLast", _sequence_last, _rule("SequenceLast", (0, 1), True),
            inputs=_inputs, grad=_sequence_last_grad, attrs=dict(_ATTRS)))


def _reversed_steps(data, sequence_length, shapes):
    """For each (step, sequence), the step it is read from: the first length steps reversed,
    the rest in place (a permutation that is its own inverse)."""
    steps = np.arange(data.shape[0])[:, None]
    if sequence_length is None:
        return np.broadcast_to(data.shape[0] - 1 - steps, data.shape[:2])
    lengths = _lengths("SequenceReverse", data, sequence_length, 0, 0, shapes)[None, :]
    return np.where(steps < lengths, lengths - 1 - steps, steps)


def _sequence_reverse(data, sequence_length=None, *, use_sequence_length=False, axis=0):
    shapes = (data,) if sequence_length is None else (data, sequence_length)
    _check("SequenceReverse", data.shape, None if sequence_length is None else
           sequence_length.shape, axis, (0,), shapes)
    return data[_reversed_steps(data, sequence_length, shapes), np.arange(data.shape[1])]


def _sequence_reverse_grad(attrs, inputs, outputs, out_grads):
    sequence_length = inputs[1] if attrs["use_sequence_length"] else None
    source = _reversed_steps(inputs[0], sequence_length, inputs)
    return [out_grads[0][source, np.arange(inputs[0].shape[1])]] + [None] * (len(inputs) - 1)


register(Op("SequenceReverse", _sequence_reverse, _rule("SequenceReverse", (0,), False),
            inputs=_inputs, grad=_sequence_reverse_grad, attrs=dict(_ATTRS)))
