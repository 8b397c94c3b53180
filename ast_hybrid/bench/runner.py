"""Running the measurements over the chosen models: steady-state times, peak memory, first calls."""
import statistics
import time
import warnings

import numpy as np

from .. import nd
from ..gluon import nn
from .forwards import VARIANTS, setup_model
from .models import make, spec_of
from .timing import interleave, peak_bytes
from .training import setup_training

# never the torch peers: their buffers come from torch's allocator, which tracemalloc does not see
MEMORY_VARIANTS = VARIANTS


def run_models(names, repeats, target_s, peers, mxnet, progress):
    results = {}
    for name in names:
        fns, info = setup_model(name, peers, mxnet)
        info.update(interleave(fns, repeats, target_s, progress, name))
        results[name] = info
    return results


def run_training(names, repeats, target_s, peers, mxnet, progress):
    results = {}
    for name in names:
        fns, info = setup_training(name, peers, mxnet)
        info.update(interleave(fns, repeats, target_s, progress, f"train {name}"))
        results[name] = info
    return results


def measure_memory(names, progress):
    results = {}
    for name in names:
        fns, info = setup_model(name)
        peaks = {v: peak_bytes(fns[v]) for v in MEMORY_VARIANTS}
        results[name] = {
            "peak_bytes": peaks,
            "ratio_to_numpy": {v: peaks[v] / peaks["numpy"] for v in MEMORY_VARIANTS},
            "reference_matches": info["reference_matches"],
        }
        progress.step(f"memory {name}")
    return results


def _warm_up_compilers():
    """Compile a small throwaway block in both modes so that one-time costs of the process
    (lazy imports, reading library sources) are not charged to the first model measured."""
    x = nd.array(np.ones((1, 4), np.float32))
    for mode in ("ast", "trace"):
        net = nn.HybridSequential()
        net.add(nn.Dense(3, activation="relu", in_units=4), nn.Dense(2, in_units=3))
        net.initialize()
        net(x)
        net.hybridize(mode=mode)
        net(x)


def first_call(names, instances, progress):
    """Median milliseconds of the first call of freshly hybridized nets (parameters
    initialized eagerly beforehand: source, passes, codegen, compile, one forward), AST and
    trace interleaved; each instance is a new net."""
    _warm_up_compilers()
    results = {}
    for name in names:
        spec = spec_of(name)
        source, x, _ = make(name)
        source(x)   # the process has run this model's operators once (warm BLAS, allocators)
        count = instances.get(name, instances["default"])
        samples = {"ast": [], "trace": []}
        for i in range(count):
            for mode in (("ast", "trace") if i % 2 == 0 else ("trace", "ast")):
                net = spec.build()
                net.initialize()
                net.hybridize(mode=mode)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    net(x)
                    elapsed = time.perf_counter() - t0
                samples[mode].append(elapsed * 1e3)
                del net
            progress.step(f"first call {name} {i + 1}/{count}")
        results[name] = {mode: {"median_ms": statistics.median(s), "samples_ms": s}
                         for mode, s in samples.items()}
    return results


def add_cost_beyond_forward(first, models):
    """Give each first call of a timed model what it costs beyond one steady-state forward."""
    for name, info in first.items():
        if name in models:
            for mode in ("ast", "trace"):
                info[mode]["beyond_forward_ms"] = (info[mode]["median_ms"]
                                                   - models[name]["times_us"][mode] / 1e3)
