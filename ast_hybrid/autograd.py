"""Training mode and gradient recording state, read by operators and compiled programs at run time."""
import threading
from contextlib import contextmanager


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


@contextmanager
def _scope(recording, training):
    previous = (_state.recording, _state.training)
    if recording is not None:
        _state.recording = recording
    if training is not None:
        _state.training = training
    try:
        yield
    finally:
        _state.recording, _state.training = previous


def record(train_mode=True):
    return _scope(True, train_mode)


def pause(train_mode=False):
    return _scope(False, train_mode)


def train_mode():
    return _scope(None, True)


def predict_mode():
    return _scope(None, False)


def attach_grad(array, grad_req="write"):
    """Give `array` a zeroed gradient buffer that backward() writes (or adds) into."""
    import numpy as np
    from .ndarray import NDArray
    if grad_req not in ("write", "add", "null"):
        raise ValueError(f"grad_req must be 'write', 'add' or 'null', not {grad_req!r}")
    array._grad_req = grad_req
    array._grad = None if grad_req == "null" else NDArray(np.zeros_like(array._data))


def record_op(op, attrs, inputs, outputs):
    """Recording gradients is not available yet; recording only tracks the training flag."""


def record_function(inputs, outputs, backward):
    """Recording gradients is not available yet; a compiled block's backward is not kept."""
