"""Every exception and warning the package raises is importable from ast_hybrid.errors, as the
very class the code raises."""
import warnings

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import errors, nd
from ast_hybrid.gluon import nn


def test_the_errors_module_lists_what_it_exports():
    assert sorted(errors.__all__) == sorted(
        name for name in vars(errors) if not name.startswith("_") and isinstance(
            getattr(errors, name), type))


def test_an_operator_error_is_caught_as_errors_op_error():
    with pytest.raises(errors.OpError):
        nd.dot(nd.ones((1, 3)), nd.ones((1, 3)))


def test_a_refusal_is_caught_as_errors_unsupported_construct():
    class Refused(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            try:
                return x * 2
            finally:
                pass

    block = Refused()
    block.hybridize(fallback=False)
    with pytest.raises(errors.UnsupportedConstruct):
        block(nd.ones((1, 2)))
    block.hybridize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        block(nd.ones((1, 2)))
    assert any(issubclass(w.category, errors.HybridizeFallbackWarning) for w in caught)


def test_a_bad_graph_file_is_caught_as_errors_graph_format_error(tmp_path):
    path = tmp_path / "bad-symbol.json"
    path.write_text("{\"nodes\": 3}")
    with pytest.raises(errors.GraphFormatError):
        ast_hybrid.sym.load(str(path))


def test_a_bad_params_file_is_caught_as_errors_load_error(tmp_path):
    path = tmp_path / "bad.params"
    path.write_bytes(b"not a params file")
    with pytest.raises(errors.LoadError):
        nd.load(str(path))


def test_mxnet_error_is_the_one_autograd_raises():
    x = nd.array(np.ones(2))
    with pytest.raises(errors.MXNetError):
        x.backward()
