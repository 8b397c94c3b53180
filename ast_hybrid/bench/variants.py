"""Building each mode's copy of a benchmark net, with AST compile failures seen, not hidden."""
import traceback
import warnings

import numpy as np

from .models import copy_params

# how close a variant's output must be to the numpy twin's to count as the same computation
RTOL, ATOL = 1e-4, 1e-5


def as_numpy(out):
    return out.asnumpy() if hasattr(out, "asnumpy") else np.asarray(out)


def close_to(got, want):
    return got.shape == want.shape and np.allclose(got, want, rtol=RTOL, atol=ATOL)


def peer_error(error):
    """A peer's failure as one line for the tables and the JSON."""
    return f"{type(error).__name__}: {error}"


def clone(spec, source_net, **hybridize_kwargs):
    """A new net of `spec` with `source_net`'s parameter values, hybridized if asked."""
    net = spec.build()
    net.initialize()
    copy_params(source_net, net)
    if hybridize_kwargs:
        net.hybridize(**hybridize_kwargs)
    return net


def build_ast_strictly(build, first_run):
    """(built, first_run(built), None) for `build(fallback=False)`, its first run with
    warnings as errors, so that a compiler failure is seen; on failure, the same for
    `build(fallback=True)` (hybridize()'s default), the error's traceback last."""
    built = build(fallback=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return built, first_run(built), None
    except Exception:  # a compiler bug: note it and benchmark what works
        error = traceback.format_exc()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = build(fallback=True)
        return built, first_run(built), error
