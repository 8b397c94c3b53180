"""Model-zoo rows: vision networks in predict mode, AST mode against imperative and MXNet."""
import statistics
import time
import warnings

import numpy as np

from .. import nd
from .. import random as mx_random
from .models import copy_params
from .timing import interleave
from .variants import as_numpy, build_ast_strictly, peer_error

# row name (the network's function in model_zoo.vision) -> its name for get_model
NETWORKS = {"resnet18_v1": "resnet18_v1", "mobilenet_v2_1_0": "mobilenetv2_1.0",
            "densenet121": "densenet121", "squeezenet1_1": "squeezenet1.1"}
BATCHES = (1, 8)
IMAGE = (3, 224, 224)
VARIANTS = ("imperative", "ast")
# deep networks sum in other orders (AST mode's fused kernels, MXNet's oneDNN): a relative
# tolerance, and an absolute one scaled to the outputs' size
RTOL, ATOL_SCALE = 1e-3, 1e-4


def vision():
    """ast_hybrid's model_zoo.vision, or None where the package does not have it yet."""
    try:
        from ..gluon.model_zoo import vision
    except ImportError:
        return None
    return vision


def row_name(name, batch):
    return f"{name} b{batch}"


def _same(got, want):
    return got.shape == want.shape and np.allclose(
        got, want, rtol=RTOL, atol=ATOL_SCALE * max(1.0, float(np.max(np.abs(want)))))


def _net(zoo, name, x_one):
    """A fresh network `name`, initialized, its deferred shapes known (one imperative call
    on a single image)."""
    net = zoo.get_model(NETWORKS[name])
    net.initialize()
    net(x_one)
    return net


def _input(batch, seed=0):
    x = np.random.RandomState(seed).standard_normal((batch,) + IMAGE).astype(np.float32)
    return nd.array(x), x


def setup_zoo(zoo, name, batch, mxnet):
    """(variant -> forward, the row's checks) for network `name` at `batch`: imperative
    mode (the reference), AST mode and MXNet's hybridized network on the same weights."""
    mx_random.seed(0)
    x, xn = _input(batch)
    x_one = x[:1]
    net = _net(zoo, name, x_one)
    expected = as_numpy(net(x))

    def build(fallback):
        built = _net(zoo, name, x_one)
        copy_params(net, built)
        built.hybridize(mode="ast", fallback=fallback)
        return built

    ast_net, ast_out, ast_error = build_ast_strictly(build, lambda built: built(x))
    fns = {"imperative": lambda: net(x), "ast": lambda: ast_net(x)}
    outputs = {"imperative": expected, "ast": as_numpy(ast_out)}
    errors = {}
    if mxnet is not None:
        try:
            fns["mxnet"], first = mxnet.build(
                "zoo", {"name": NETWORKS[name]},
                [p.data().asnumpy() for p in net.collect_params().values()], xn)
            outputs["mxnet"] = first["output"]
        except Exception as error:  # noqa: BLE001 - a peer's failure is reported, not fatal
            errors["mxnet"] = peer_error(error)
    info = {
        "description": f"model_zoo.vision.{name}, batch {batch}, predict mode",
        "network": name,
        "batch": batch,
        "input_shape": [batch, *IMAGE],
        "reference_matches": {v: bool(_same(o, expected)) for v, o in outputs.items()},
        "max_abs_diff": {v: (float(np.max(np.abs(o - expected))) if o.shape == expected.shape
                             else None) for v, o in outputs.items()},
        "checked": "outputs against imperative mode's on the same weights",
        "ast_compile_error": ast_error,
        "peer_errors": errors,
    }
    return fns, info


def run_zoo(zoo, repeats, target_s, mxnet, progress):
    """The timed rows, network by network and batch by batch."""
    results = {}
    for name in NETWORKS:
        for batch in BATCHES:
            fns, info = setup_zoo(zoo, name, batch, mxnet)
            label = row_name(name, batch)
            info.update(interleave(fns, repeats, target_s, progress, label))
            for fn in fns.values():
                if hasattr(fn, "free"):
                    fn.free()    # the worker's copy of a large network
            results[label] = info
    return results


def first_calls(zoo, instances, progress):
    """Median milliseconds of the first hybridized call of each network at batch 1 (parameters
    known from one imperative call before hybridize(): source, passes, codegen, compile, one
    forward); each instance a new network."""
    x, _ = _input(1)
    results = {}
    for name in NETWORKS:
        samples = []
        for i in range(instances):
            net = _net(zoo, name, x)
            net.hybridize()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                net(x)
                samples.append((time.perf_counter() - t0) * 1e3)
            progress.step(f"first call {name} {i + 1}/{instances}")
        results[name] = {"ast": {"median_ms": statistics.median(samples),
                                 "samples_ms": samples}}
    return results
