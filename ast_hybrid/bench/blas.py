"""Which BLAS numpy runs (threadpoolctl), whether the environment holds its kernel back."""
import os

# OpenBLAS reads these at load time: a forced core type picks that CPU's kernels (an older
# one's, on this machine) and the cache size with it, whatever the CPU could run
HOLD_BACK_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
UNSET_COMMAND = ("env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m ast_hybrid.bench ...")


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def held_back(environ=None):
    """The variables of `environ` (default: this process's) that hold the BLAS kernel back,
    name -> value; empty when none is set."""
    environ = os.environ if environ is None else environ
    return {name: environ[name] for name in HOLD_BACK_VARIABLES if name in environ}


def blas_info():
    """What numpy's BLAS is, as JSON-ready data: the libraries threadpoolctl sees (None
    without threadpoolctl) and the variables holding the kernel back."""
    import numpy  # noqa: F401 - threadpoolctl only sees libraries already loaded

    tpc = _threadpoolctl()
    libraries = None if tpc is None else [
        {key: lib.get(key) for key in ("user_api", "internal_api", "version",
                                       "threading_layer", "num_threads", "architecture",
                                       "filepath")}
        for lib in tpc.threadpool_info()]
    held = held_back()
    return {
        "threadpoolctl": None if tpc is None else tpc.__version__,
        "libraries": libraries,
        "held_back_by": held,
        "advice": (f"unset {' and '.join(held)} in the benchmark's own command line only: "
                   f"{UNSET_COMMAND}") if held else None,
    }


def limit_threads(count):
    """Limit numpy's BLAS to `count` threads for the rest of the process (so that it runs
    like the single-threaded peers); the limiter, or None without threadpoolctl."""
    tpc = _threadpoolctl()
    return None if tpc is None else tpc.threadpool_limits(limits=count, user_api="blas")


def blas_lines(info):
    """The BLAS report as text lines, a warning among them when the kernel is held back."""
    if info["libraries"] is None:
        lines = ["BLAS: unknown (threadpoolctl is not installed: pip install threadpoolctl, "
                 "or the 'bench' extra)"]
    elif not info["libraries"]:
        lines = ["BLAS: threadpoolctl sees no BLAS library loaded by numpy"]
    else:
        lines = [f"BLAS: {lib['internal_api']} {lib['version']}, {lib['threading_layer']} "
                 f"threading, {lib['num_threads']} thread(s), kernel "
                 f"{lib['architecture']} ({lib['user_api']})" for lib in info["libraries"]]
    if info["held_back_by"]:
        names = ", ".join(f"{k}={v}" for k, v in info["held_back_by"].items())
        lines.append(f"WARNING: {names} is set: it holds OpenBLAS's kernel back, so the "
                     f"figures are not what this CPU can do; {info['advice']}")
    return lines
