"""Each variant's forward of one benchmark model, every one checked against the numpy twin."""
import numpy as np

from .models import MODELS, make
from .torch_peers import torch_forward
from .variants import as_numpy, build_ast_strictly, clone, close_to

VARIANTS = ("imperative", "trace", "ast", "numpy")
PEERS = ("torch", "torchscript")


def setup_model(name, peers):
    """(variant -> forward function, the row's checks) for one model of MODELS."""
    spec = MODELS[name]
    net, x, xn = make(name)
    reference = spec.numpy_forward(net)
    expected = reference(xn)
    imperative_out = as_numpy(net(x))
    assert close_to(imperative_out, expected), (
        f"{name}: the numpy reference disagrees with imperative mode "
        f"(max difference {np.max(np.abs(imperative_out - expected))})")
    trace_net = clone(spec, net, mode="trace")
    ast_net, _, ast_error = build_ast_strictly(
        lambda fallback: clone(spec, net, mode="ast", fallback=fallback),
        lambda built: built(x))
    fns = {
        "imperative": lambda: net(x),
        "trace": lambda: trace_net(x),
        "ast": lambda: ast_net(x),
        "numpy": lambda: reference(xn),
    }
    peer_error = None
    if peers:
        try:
            eager, scripted = torch_forward(spec.kind, net)
            fns["torch"] = lambda: eager(xn)
            fns["torchscript"] = lambda: scripted(xn)
        except Exception as error:  # noqa: BLE001 - peers are optional
            peer_error = f"{type(error).__name__}: {error}"
    matches, max_diff = {}, {}
    for variant, fn in fns.items():
        got = as_numpy(fn())
        matches[variant] = bool(close_to(got, expected))
        max_diff[variant] = (float(np.max(np.abs(got - expected))) if got.shape == expected.shape
                             else None)
    info = {
        "description": spec.description,
        "input_shape": list(spec.input_shape),
        "reference_matches": matches,
        "max_abs_diff": max_diff,
        "ast_compile_error": ast_error,
        "peer_error": peer_error,
    }
    return fns, info
