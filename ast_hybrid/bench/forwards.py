"""Each variant's forward of one benchmark model, every one checked against the numpy twin."""
import numpy as np

from .jax_peers import jax_forward
from .models import MODELS, make
from .mxnet_peer import model_args
from .torch_peers import torch_forward
from .variants import as_numpy, build_ast_strictly, clone, close_to, peer_error

VARIANTS = ("imperative", "trace", "ast", "numpy")
TORCH_PEERS = ("torch", "torchscript")


def _peer_forwards(kind, net, xn, peers):
    """The in-process peers' forwards (of `peers`, the enabled ones), and the errors of
    those that failed to build, peer -> message."""
    fns, errors = {}, {}
    if "torch" in peers:
        try:
            eager, scripted = torch_forward(kind, net)
            fns["torch"] = lambda: eager(xn)
            fns["torchscript"] = lambda: scripted(xn)
        except Exception as error:  # noqa: BLE001 - peers are optional
            errors["torch"] = peer_error(error)
    if "jax" in peers:
        try:
            jitted = jax_forward(kind, net)
            fns["jax"] = lambda: jitted(xn)
        except Exception as error:  # noqa: BLE001
            errors["jax"] = peer_error(error)
    return fns, errors


def setup_model(name, peers=(), mxnet=None):
    """(variant -> forward function, the row's checks) for one model of MODELS, with the
    enabled in-process `peers` and MXNet's worker `mxnet` (None: not timed)."""
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
    peer_fns, errors = _peer_forwards(spec.kind, net, xn, peers)
    fns.update(peer_fns)
    matches, max_diff = {}, {}
    for variant, fn in fns.items():
        got = as_numpy(fn())
        matches[variant] = bool(close_to(got, expected))
        max_diff[variant] = (float(np.max(np.abs(got - expected))) if got.shape == expected.shape
                             else None)
    if mxnet is not None:
        try:
            fns["mxnet"], first = mxnet.build(spec.kind, model_args(spec.kind, net),
                                              [p.data().asnumpy() for p in
                                               net.collect_params().values()], xn)
            got = first["output"]
            matches["mxnet"] = bool(close_to(got, expected))
            max_diff["mxnet"] = (float(np.max(np.abs(got - expected)))
                                 if got.shape == expected.shape else None)
        except Exception as error:  # noqa: BLE001 - a peer's failure is reported, not fatal
            errors["mxnet"] = peer_error(error)
    info = {
        "description": spec.description,
        "input_shape": list(spec.input_shape),
        "reference_matches": matches,
        "max_abs_diff": max_diff,
        "ast_compile_error": ast_error,
        "peer_errors": errors,
    }
    return fns, info
