"""SequenceMask, SequenceLast and SequenceReverse against loops over the batch written here."""
import numpy as np
import pytest

from ast_hybrid import nd
from ast_hybrid.ops import OpError, get
from optest import rand, run_op, shape_fails

LENGTHS = np.array([1, 4, 0], dtype=np.float32)


def _time_major(x, axis):
    return x if axis == 0 else np.swapaxes(x, 0, 1)


@pytest.mark.parametrize("axis", [0, 1])
def test_sequence_mask(axis):
    x = rand(4, 3, 2) if axis == 0 else rand(3, 4, 2)
    (out,) = run_op("SequenceMask", x, LENGTHS, use_sequence_length=True, value=-2.0, axis=axis)
    want = _time_major(x, axis).copy()
    for b, n in enumerate(LENGTHS.astype(int)):
        want[n:, b] = -2.0
    np.testing.assert_array_equal(out, _time_major(want, axis))


def test_sequence_mask_truncates_lengths_and_takes_longer_ones_whole():
    x = rand(3, 2)
    (out,) = run_op("SequenceMask", x, np.array([1.9, 7.0], dtype=np.float32),
                    use_sequence_length=True)
    np.testing.assert_array_equal(out, np.where([[True, True], [False, True], [False, True]],
                                                x, 0))


@pytest.mark.parametrize("axis", [0, 1])
def test_sequence_last(axis):
    x = rand(4, 3, 2) if axis == 0 else rand(3, 4, 2)
    lengths = np.array([1, 4, 2.5], dtype=np.float32)
    (out,) = run_op("SequenceLast", x, lengths, use_sequence_length=True, axis=axis)
    steps = _time_major(x, axis)
    np.testing.assert_array_equal(out, np.stack([steps[int(n) - 1, b]
                                                 for b, n in enumerate(lengths)]))
    (last,) = run_op("SequenceLast", x, axis=axis)
    np.testing.assert_array_equal(last, steps[-1])


def test_sequence_reverse():
    x = rand(4, 3, 2)
    (out,) = run_op("SequenceReverse", x, LENGTHS, use_sequence_length=True)
    want = x.copy()
    for b, n in enumerate(LENGTHS.astype(int)):
        want[:n, b] = x[:n, b][::-1]
    np.testing.assert_array_equal(out, want)
    (whole,) = run_op("SequenceReverse", x)
    np.testing.assert_array_equal(whole, x[::-1])


def test_without_lengths_the_mask_changes_nothing():
    x = rand(3, 2, 2)
    (out,) = run_op("SequenceMask", x)
    np.testing.assert_array_equal(out, x)


def test_lengths_are_not_differentiable():
    op = get("SequenceReverse")
    attrs = op.parse_attrs({"use_sequence_length": True})
    x = rand(4, 3, 2)
    out = op.kernel(x, LENGTHS, **attrs)
    assert op.grad(attrs, [x, LENGTHS], [out], [np.ones_like(out)])[1] is None


@pytest.mark.parametrize("name, lengths, pattern", [
    ("SequenceLast", [0, 1, 1], r"\[1, 4\]"), ("SequenceLast", [5, 1, 1], r"\[1, 4\]"),
    ("SequenceReverse", [5, 1, 1], r"\[0, 4\]"), ("SequenceMask", [-1, 1, 1], r"\[0, 4\]")])
def test_lengths_outside_the_sequence_are_refused(name, lengths, pattern):
    # MXNet 1.9.1 reads outside the sequence (garbage values) for these
    with pytest.raises(OpError, match=pattern):
        getattr(nd, name)(nd.array(rand(4, 3, 2)), nd.array(lengths), use_sequence_length=True)


def test_shape_errors():
    shape_fails("SequenceMask", [(4, 3, 2), (4,)], r"sequence_length must have shape \(3,\)",
                use_sequence_length=True)
    shape_fails("SequenceLast", [(4, 3)], "axis=2", axis=2)
    shape_fails("SequenceReverse", [(4, 3, 2)], "axis=1 must be 0", axis=1)
    shape_fails("SequenceMask", [(4,)], "sequence and a batch axis")
