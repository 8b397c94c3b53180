"""mx.util and mx.contrib.amp as model code reads them: NumPy mode and mixed precision are off,
and turning them on is refused rather than ignored."""
import pytest

import ast_hybrid as mx


def test_numpy_mode_is_off_and_refused():
    assert mx.util.is_np_array() is False and mx.util.is_np_shape() is False
    assert mx.util.set_np_shape(False) is False
    with pytest.raises(NotImplementedError, match="NumPy mode"):
        mx.util.set_np_shape(True)
    with pytest.raises(NotImplementedError, match="NumPy mode"):
        with mx.util.np_shape():
            pass
    with mx.util.np_array(False):
        pass


def test_amp_is_not_initialized_and_refuses_to_start():
    from ast_hybrid.contrib import amp
    assert amp._amp_initialized is False
    with pytest.raises(NotImplementedError, match="mixed precision"):
        amp.init()


def test_contrib_namespaces_are_the_operators():
    assert mx.contrib.nd.div_sqrt_dim is mx.nd.contrib.div_sqrt_dim
    assert mx.contrib.symbol is mx.sym.contrib
