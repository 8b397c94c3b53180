"""The error function and its inverse, elementwise (numpy has neither)."""
import math

import numpy as np

from .registry import Op, register
from .shapes import same_shape

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf64(x):
    """erf in float64 through math.erf, within a few float64 ulps: float32 results are the
    correctly rounded values but for rare ties."""
    flat = np.fromiter(map(math.erf, x.ravel().tolist()), dtype=np.float64, count=x.size)
    return flat.reshape(x.shape)


def erf(x):
    """erf of each element of a numpy array, in its dtype."""
    return _erf64(x).astype(x.dtype, copy=False)


def _erf_grad(attrs, inputs, outputs, out_grads):
    x = inputs[0]
    return [out_grads[0] * (_TWO_OVER_SQRT_PI * np.exp(-np.square(x))).astype(x.dtype)]


def _erfinv(y):
    y64 = y.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Winitzki's closed form (relative error < 2e-3) as the start: Newton's quadratic
        # convergence takes it below float64's resolution in four steps
        a = 0.147
        ln = np.log1p(-np.square(y64))
        term = 2.0 / (math.pi * a) + ln / 2
        x = np.sign(y64) * np.sqrt(np.sqrt(np.square(term) - ln / a) - term)
        finite = np.isfinite(x)
        for _ in range(4):
            step = (_erf64(x) - y64) / (_TWO_OVER_SQRT_PI * np.exp(-np.square(x)))
            x = np.where(finite, x - step, x)
    return x.astype(y.dtype, copy=False)


def _erfinv_grad(attrs, inputs, outputs, out_grads):
    x = outputs[0].astype(np.float64)
    return [out_grads[0] * (np.exp(np.square(x)) / _TWO_OVER_SQRT_PI).astype(inputs[0].dtype)]


register(Op("erf", erf, same_shape("erf"), grad=_erf_grad))
register(Op("erfinv", _erfinv, same_shape("erfinv"), grad=_erfinv_grad))
