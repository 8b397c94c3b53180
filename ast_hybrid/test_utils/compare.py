"""Comparing arrays as MXNet 1.9.1's test_utils does: per-dtype tolerances and its messages."""
import numbers

import numpy as np
import numpy.testing as npt

from ..ndarray import NDArray

__all__ = ["default_rtols", "default_atols", "default_numeric_eps", "effective_dtype",
           "get_tolerance", "get_tols", "get_rtol", "get_atol", "get_etol", "same",
           "almost_equal", "assert_almost_equal", "assert_allclose",
           "assert_almost_equal_with_err", "assert_almost_equal_ignore_nan",
           "assert_exception", "checkShapes", "locationError"]

_EXACT_DTYPES = (np.bool_, np.int8, np.uint8, np.int32, np.uint32, np.int64, np.uint64)


def default_rtols():
    """Relative tolerance per dtype (exact for booleans and integers)."""
    return {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-4,
            np.dtype(np.float64): 1e-5, **{np.dtype(t): 0 for t in _EXACT_DTYPES}}


def default_atols():
    """Absolute tolerance per dtype (exact for booleans and integers)."""
    return {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 1e-3,
            np.dtype(np.float64): 1e-20, **{np.dtype(t): 0 for t in _EXACT_DTYPES}}


def default_numeric_eps():
    """Finite-difference step per dtype: powers of two, so adding one drops no bits."""
    return {np.dtype(np.float16): 1.0 / 2 ** 6, np.dtype(np.float32): 1.0 / 2 ** 9,
            np.dtype(np.float64): 1.0 / 2 ** 14}


def effective_dtype(dat):
    """The dtype whose tolerance applies to `dat`: its own (there is no TF32 on a CPU)."""
    return np.dtype(dat.dtype)


def get_tolerance(dat, tol, default_tol):
    """`tol` itself if a number, else its entry (or the default's) for dat's dtype; a dtype
    in neither raises KeyError, as in MXNet."""
    if isinstance(tol, numbers.Number):
        return tol
    dtype = effective_dtype(dat)
    return (tol or {}).get(dtype, default_tol[dtype])


def get_tols(x, y, rtol, atol):
    """(rtol, atol) for comparing x and y: the looser of the two dtypes' (Python numbers
    count as numpy would make them)."""
    x = np.array(x) if isinstance(x, numbers.Number) else x
    y = np.array(y) if isinstance(y, numbers.Number) else y
    return (max(get_tolerance(x, rtol, default_rtols()), get_tolerance(y, rtol, default_rtols())),
            max(get_tolerance(x, atol, default_atols()), get_tolerance(y, atol, default_atols())))


def get_atol(atol=None, dtype=np.dtype(np.float64)):
    return default_atols()[dtype] if atol is None else atol


def get_rtol(rtol=None, dtype=np.dtype(np.float64)):
    return default_rtols()[dtype] if rtol is None else rtol


def get_etol(etol=None):
    return 0 if etol is None else etol


def _plain(value):
    return value.asnumpy() if isinstance(value, NDArray) else value


def same(a, b):
    """Whether a and b have equal shapes and elements."""
    return np.array_equal(_plain(a), _plain(b))


def checkShapes(a, b):  # noqa: N802 (MXNet's name)
    if a.shape != b.shape:
        raise AssertionError(_error_message(
            [a, b], f"a.shape = {a.shape} and b.shape = {b.shape} are not equal"))


def almost_equal(a, b, rtol=None, atol=None, equal_nan=False, use_broadcast=True):
    """np.allclose with float64's tolerances unless given."""
    if not use_broadcast:
        checkShapes(a, b)
    return np.allclose(_plain(a), _plain(b), rtol=get_rtol(rtol), atol=get_atol(atol),
                       equal_nan=equal_nan)


def locationError(a, b, index, names, maxError=False):  # noqa: N802,N803 (MXNet's names)
    maximum = "maximum " if maxError else ""
    return (f"Location of {maximum}error: {_index_text(index)}, "
            f"{names[0]}={a[index]:.8f}, {names[1]}={b[index]:.8f}")


def _index_text(index):
    # Python ints: numpy 2 would write np.int64(0) where MXNet's numpy wrote 0
    return str(tuple(int(i) for i in index))


def _largest_violation(a, b, rtol, atol):
    """(index, how many times its tolerance the difference is) of the worst element; equal
    infinities count as no difference, as in np.allclose."""
    if np.ndim(a) == 0 and np.ndim(b) == 0:
        # the numpy MXNet 1.9.1 runs on (< 2) computes this for 0-d operands in float64
        a, b = np.float64(a), np.float64(b)
    difference = np.where(np.equal(a, b), 0, np.abs(a - b))
    violation = difference / (atol + rtol * np.abs(b) + 1e-20)
    return np.unravel_index(np.argmax(violation), violation.shape), np.max(violation)


def _error_message(arrays, text):
    # the summarized printing MXNet sets for this message, here only for it (MXNet leaves
    # it set for the whole process)
    with np.printoptions(threshold=4, suppress=True):
        return npt.build_err_msg(arrays, err_msg=text)


def _count_mismatches(a, b, index, rel, rtol, atol, names, equal_nan, mismatches):
    """Print the worst elements in turn (up to mismatches[0]) and count them, up to
    mismatches[1] (0 or less: all): (count, whether the count stopped at that bound)."""
    a, b = a.copy(), b.copy()
    count = 1
    while count <= a.size:
        if count <= mismatches[0]:
            print("%3d: Error %f  %s" % (count, rel, locationError(a, b, index, names)))
        a[index] = b[index] = 0     # the element is counted: take it out of the comparison
        if almost_equal(a, b, rtol, atol, equal_nan=equal_nan):
            break
        count += 1
        if count > mismatches[1] > 0:
            break
        index, rel = _largest_violation(a, b, rtol, atol)
    return count, mismatches[1] > 0 and count > mismatches[1]


def _failure(a, b, rtol, atol, names, equal_nan, mismatches):
    index, rel = _largest_violation(a, b, rtol, atol)
    if index == ():
        return _error_message([a, b], "Error %f exceeds tolerance rtol=%e, atol=%e.\n"
                              % (rel, rtol, atol))
    print(f"\n*** Maximum errors for vector of size {a.size}:  rtol={rtol}, atol={atol}\n")
    count, at_least = _count_mismatches(a, b, index, rel, rtol, atol, names, equal_nan,
                                        mismatches)
    text = "Error %f exceeds tolerance rtol=%e, atol=%e (mismatch %s%f%%).\n%s" % (
        rel, rtol, atol, "at least " if at_least else "", 100 * count / a.size,
        locationError(a, b, index, names, maxError=True))
    return _error_message([a, b], text)


def assert_almost_equal(a, b, rtol=None, atol=None, names=("a", "b"), equal_nan=False,
                        use_broadcast=True, mismatches=(10, 10)):
    """Raise AssertionError unless |a - b| <= atol + rtol * |b| everywhere. Tolerances left
    None are the larger of the two dtypes' defaults (default_rtols, default_atols); a number
    applies to both, a dict maps dtypes to tolerances. Boolean arrays must be equal. The
    message names the worst element; the worst `mismatches[0]` are printed first."""
    if not use_broadcast:
        checkShapes(a, b)
    rtol, atol = get_tols(a, b, rtol, atol)
    a, b = _plain(a), _plain(b)
    if getattr(a, "dtype", None) == np.bool_ and getattr(b, "dtype", None) == np.bool_:
        np.testing.assert_equal(a, b)
        return
    if almost_equal(a, b, rtol, atol, equal_nan=equal_nan):
        return
    raise AssertionError(_failure(a, b, rtol, atol, names, equal_nan, mismatches))


def assert_allclose(a, b, rtol=1e-07, atol=0, equal_nan=True):
    """numpy's assert_allclose defaults, through assert_almost_equal."""
    assert_almost_equal(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def assert_almost_equal_with_err(a, b, rtol=None, atol=None, etol=None, names=("a", "b"),
                                 equal_nan=False, mismatches=(10, 10)):
    """As assert_almost_equal, but passing while at most a fraction `etol` of the elements
    differ."""
    etol = get_etol(etol)
    if etol <= 0:
        assert_almost_equal(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
        return
    rtol, atol = get_tols(a, b, rtol, atol)
    a, b = _plain(a), _plain(b)
    equals = np.isclose(a, b, rtol=rtol, atol=atol)
    if 1 - np.count_nonzero(equals) / equals.size > etol:
        raise AssertionError(_failure(a, b, rtol, atol, names, equal_nan, mismatches))


def assert_almost_equal_ignore_nan(a, b, rtol=None, atol=None, names=("a", "b")):
    """assert_almost_equal where a NaN in either array counts as equal to anything."""
    a, b = np.copy(_plain(a)), np.copy(_plain(b))
    either_nan = np.logical_or(np.isnan(a), np.isnan(b))
    a[either_nan] = 0
    b[either_nan] = 0
    assert_almost_equal(a, b, rtol, atol, names)


def assert_exception(f, exception_type, *args, **kwargs):
    """Raise AssertionError unless f(*args, **kwargs) raises exception_type."""
    try:
        f(*args, **kwargs)
    except exception_type:
        return
    raise AssertionError()
