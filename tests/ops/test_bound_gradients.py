"""Each operator's gradient bound to its attributes (Op.specialize_grad, what compiled
backward programs call) equals the table's gradient bit for bit, on every valid example of
test_kernel_checks and on the same inputs in Fortran order."""
import numpy as np
import pytest

from ast_hybrid import autograd, nd, ops
from test_kernel_checks import EXAMPLES


def _specialized_ops():
    return sorted(name for name, op in ops.REGISTRY.items()
                  if op.name == name and op.specialize_grad is not None and not op.mode_dependent)


def _layouts(inputs):
    yield "C order", inputs
    yield "Fortran order", [np.asfortranarray(a) for a in inputs]


def _assert_same(generic, specialized, where):
    assert len(generic) == len(specialized), where
    for i, (want, got) in enumerate(zip(generic, specialized)):
        if want is None:
            assert got is None, f"{where}: input {i}"
            continue
        assert got.dtype == want.dtype and got.shape == want.shape, f"{where}: input {i}"
        assert np.array_equal(got, want, equal_nan=True), f"{where}: input {i}"


@pytest.mark.parametrize("name", _specialized_ops())
def test_bound_gradient_equals_the_tables(name):
    op = ops.get(name)
    checked = 0
    for inputs, attrs in EXAMPLES[name]:
        parsed = op.parse_attrs(attrs)
        if op.output_count(parsed) != 1:
            continue
        for layout, arrays in _layouts(inputs):
            output = op.kernel(*arrays, **parsed)
            out_grad = np.random.default_rng(3).uniform(-1, 1, output.shape).astype(
                output.dtype)
            where = f"{name} {attrs} {layout}"
            _assert_same(op.bound_gradient(parsed, specialized=False)(*arrays, output, out_grad),
                         op.bound_gradient(parsed)(*arrays, output, out_grad), where)
            checked += 1
    assert checked


def test_pick_gradient_reaches_data_in_fortran_order():
    """The scatter went through a flat view that, for data in Fortran order, was a copy: the
    gradient came back all zeros."""
    scores = np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    x = nd.array(scores)
    x.attach_grad()
    with autograd.record():
        picked = nd.pick(x, nd.array([2, 0]), axis=1)
    picked.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [[0, 0, 1], [1, 0, 0]])
