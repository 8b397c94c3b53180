"""`python -m ast_hybrid.bench`: how much Python overhead hybridize() removes, against the limit.

For each model it times imperative mode, trace mode (`hybridize(mode='trace')`), AST mode
(`hybridize()`) and the same model hand-written in plain numpy over the very same weights (the
limit for a numpy back end; see ast_hybrid/bench_models.py). The variants are interleaved in
one process, round-robin over the repeats (with the order rotated each round) so that drifts
in clock speed or cache state hit them all alike; each figure is the median over the repeats
of the mean time per forward within one repeat.

It also measures first-call cost: the time of the first call of a freshly hybridized block
whose parameters are already initialized (source, passes, codegen, compile, one forward).

Training-step rows (issue 5) time one SGD step -- forward under `autograd.record()`,
`SoftmaxCrossEntropyLoss`, `backward()`, `Trainer.step(batch)` -- in each mode (the loss
hybridized with the net), against the same step written by hand in numpy; every variant's
first-step gradients and updated weights are checked against the hand-written step's before
anything is timed. Peak memory (issue 4) is tracemalloc's peak (numpy reports its buffers to
it) over one forward after a warm-up call.

Targets (from the optimization issue) are printed next to the figures, each marked met or
missed; a missed target never makes the benchmark fail.

    python -m ast_hybrid.bench [--quick] [--models mlp1,lenet64] [--json PATH] [--plot PATH]
                               [--peers] [--repeats N] [--no-train] [--no-memory]
"""
import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
import tracemalloc
import warnings

import numpy as np

from . import bench_models as bm

VARIANTS = ("imperative", "trace", "ast", "numpy")
PEERS = ("torch", "torchscript")
LARGE_BATCH = {"mlp256", "lenet64"}
RTOL, ATOL = 1e-4, 1e-5

TARGET_AST_NUMPY_BATCH1 = 1.15
TARGET_AST_NUMPY_LARGE = 1.05
TARGET_IMPERATIVE_OVER_AST = 3.0
TARGET_FIRST_CALL_MLP_MS = 3.0
TARGET_FIRST_CALL_200_MS = 300.0
TARGET_TRAIN_IMPERATIVE_OVER_AST = 2.0   # issue 5, the lecture's MLP at batch 1
TARGET_PEAK_MEMORY_AST_NUMPY = 1.2       # issue 4, at large batch
TRAIN_LR = 0.01
MEMORY_VARIANTS = ("imperative", "trace", "ast", "numpy")


# ----------------------------------------------------------------------------- progress bar
class Progress:
    """A one-line text progress bar on stderr."""

    def __init__(self, total, width=30, stream=None):
        self.total = max(total, 1)
        self.done = 0
        self.width = width
        self.stream = stream or sys.stderr

    def step(self, label="", n=1):
        self.done = min(self.done + n, self.total)
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.done:>4}/{self.total} {label[:40]:<40}")
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


# --------------------------------------------------------------------------- timing helpers
def _calibrate(fn, target_s):
    """How many calls make one sample last about target_s (at least 1)."""
    fn()
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= target_s / 4 or number >= 1 << 20:
            return max(1, int(number * target_s / max(elapsed, 1e-9)))
        number *= 4


def _sample(fn, number):
    """Mean seconds per call over `number` calls, with the garbage collector off (as timeit)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - t0) / number
    finally:
        if gc_was_enabled:
            gc.enable()


def _as_numpy(out):
    return out.asnumpy() if hasattr(out, "asnumpy") else np.asarray(out)


# --------------------------------------------------------------------------- building nets
def _clone(spec, source_net, **hybridize_kwargs):
    net = spec[1]()
    net.initialize()
    bm.copy_params(source_net, net)
    if hybridize_kwargs:
        net.hybridize(**hybridize_kwargs)
    return net


def _build_ast(spec, source_net, x):
    """AST-mode net, compiled on a first call with fallback off so that a compiler failure is
    seen; on failure, the error's traceback and a net hybridized with the default fallback."""
    net = _clone(spec, source_net, fallback=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            net(x)
        return net, None
    except Exception:  # a compiler bug: note it and benchmark what works
        error = traceback.format_exc()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = _clone(spec, source_net, mode="ast")
        net(x)
    return net, error


def _setup_model(name, peers):
    """The variants' forward functions for one model, checked against the numpy reference."""
    spec = bm.MODELS[name]
    net, x, xn = bm.make(name)
    reference = spec[2](net)
    expected = reference(xn)
    imperative_out = _as_numpy(net(x))
    assert np.allclose(imperative_out, expected, rtol=RTOL, atol=ATOL), (
        f"{name}: the numpy reference disagrees with imperative mode "
        f"(max difference {np.max(np.abs(imperative_out - expected))})")
    trace_net = _clone(spec, net, mode="trace")
    ast_net, ast_error = _build_ast(spec, net, x)
    fns = {
        "imperative": lambda: net(x),
        "trace": lambda: trace_net(x),
        "ast": lambda: ast_net(x),
        "numpy": lambda: reference(xn),
    }
    peer_error = None
    if peers:
        try:
            eager, scripted = bm.torch_forward(spec[0], net)
            fns["torch"] = lambda: eager(xn)
            fns["torchscript"] = lambda: scripted(xn)
        except Exception as error:  # noqa: BLE001 - peers are optional
            peer_error = f"{type(error).__name__}: {error}"
    matches, max_diff = {}, {}
    for variant, fn in fns.items():
        got = _as_numpy(fn())
        ok = got.shape == expected.shape and np.allclose(got, expected, rtol=RTOL, atol=ATOL)
        matches[variant] = bool(ok)
        max_diff[variant] = (float(np.max(np.abs(got - expected))) if got.shape == expected.shape
                             else None)
    info = {
        "description": spec[4],
        "input_shape": list(spec[3]),
        "reference_matches": matches,
        "max_abs_diff": max_diff,
        "ast_compile_error": ast_error,
        "peer_error": peer_error,
    }
    return fns, info


# ------------------------------------------------------------------------ steady-state times
def _interleave(fns, repeats, target_s, progress, label):
    """Round-robin timing of `fns` (name -> function), the order rotated each round; the
    timing fields of a result row (microseconds, ratios to 'numpy')."""
    numbers = {v: _calibrate(fn, target_s) for v, fn in fns.items()}
    order = list(fns)
    samples = {v: [] for v in order}
    for r in range(repeats):
        rotated = order[r % len(order):] + order[:r % len(order)]
        for variant in rotated:
            samples[variant].append(_sample(fns[variant], numbers[variant]))
        progress.step(f"{label} repeat {r + 1}/{repeats}")
    times = {v: statistics.median(s) * 1e6 for v, s in samples.items()}
    return {
        "times_us": times,
        "samples_us": {v: [x * 1e6 for x in s] for v, s in samples.items()},
        "calls_per_sample": numbers,
        "ratio_to_numpy": {v: t / times["numpy"] for v, t in times.items()},
        "imperative_over_ast": times["imperative"] / times["ast"],
        "trace_over_ast": times["trace"] / times["ast"],
    }


def run_models(names, repeats, target_s, peers, progress):
    results = {}
    for name in names:
        fns, info = _setup_model(name, peers)
        info.update(_interleave(fns, repeats, target_s, progress, name))
        results[name] = info
    return results


# ------------------------------------------------------------------------- training steps
def _train_variant(spec, source_net, mode, x, y, batch):
    """One training variant for a mode (None: imperative), the loss hybridized alike: (step
    function, its first step's (loss, gradients, updated weights) as numpy, AST compile error
    or None). In AST mode the first step runs with fallback off and warnings as errors, so a
    compiler failure is seen; on failure the variant uses the default fallback."""
    from . import autograd, gluon

    def build(**hybridize_kwargs):
        net = _clone(spec, source_net, **hybridize_kwargs)
        loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
        if hybridize_kwargs:
            loss_fn.hybridize(**hybridize_kwargs)
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": TRAIN_LR})
        params = list(net.collect_params().values())

        def forward_backward():
            with autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            return loss

        def step():
            loss = forward_backward()
            trainer.step(batch)
            return loss

        def first_step():
            loss = forward_backward()
            grads = [p.grad().asnumpy().copy() for p in params]
            trainer.step(batch)
            return _as_numpy(loss), grads, [p.data().asnumpy().copy() for p in params]
        return step, first_step

    if mode != "ast":
        step, first_step = build(**({} if mode is None else {"mode": mode}))
        return step, first_step(), None
    step, first_step = build(mode="ast", fallback=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return step, first_step(), None
    except Exception:  # a compiler bug: note it and benchmark what works
        error = traceback.format_exc()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step, first_step = build(mode="ast")
        return step, first_step(), error


def _setup_training(name):
    """The training-step functions of each variant for one training row, each variant's first
    step checked against the hand-written numpy step's (gradients and updated weights)."""
    from . import nd
    model, builder, _ = bm.TRAIN_MODELS[name]
    spec = bm.MODELS[model]
    source, x, xn = bm.make(model)
    labels = bm.make_labels(name)
    y = nd.array(labels.astype(np.float32))
    batch = xn.shape[0]
    reference = builder(source, TRAIN_LR)
    ref_loss = reference.step(xn, labels)
    ref_grads = [g.copy() for g in reference.grads()]
    ref_weights = [w.copy() for w in reference.weights()]
    fns, matches, max_diff, error = {}, {}, {}, None
    for variant, mode in (("imperative", None), ("trace", "trace"), ("ast", "ast")):
        step, (loss, grads, weights), err = _train_variant(spec, source, mode, x, y, batch)
        if mode == "ast":
            error = err
        got = [loss] + grads + weights
        want = [ref_loss] + ref_grads + ref_weights
        ok = all(g.shape == w.shape and np.allclose(g, w, rtol=RTOL, atol=ATOL)
                 for g, w in zip(got, want))
        matches[variant] = bool(ok)
        max_diff[variant] = max(float(np.max(np.abs(g - w))) if g.shape == w.shape
                                else float("inf") for g, w in zip(got, want))
        fns[variant] = step
    matches["numpy"], max_diff["numpy"] = True, 0.0
    fns["numpy"] = lambda: reference.step(xn, labels)
    info = {
        "description": f"{spec[4]}: forward + SoftmaxCrossEntropyLoss + backward + "
                       f"SGD step (lr {TRAIN_LR})",
        "model": model,
        "input_shape": list(spec[3]),
        "reference_matches": matches,
        "max_abs_diff": max_diff,
        "checked": "first step's loss, gradients and updated weights vs the numpy step",
        "ast_compile_error": error,
    }
    return fns, info


def run_training(names, repeats, target_s, progress):
    results = {}
    for name in names:
        fns, info = _setup_training(name)
        info.update(_interleave(fns, repeats, target_s, progress, f"train {name}"))
        results[name] = info
    return results


# ----------------------------------------------------------------------------- peak memory
def _peak_bytes(fn, tries=3):
    """tracemalloc's peak over one call of fn (after a warm-up call), least of `tries`:
    bytes allocated during the call and alive at its high-water mark, its result included."""
    fn()
    best = None
    for _ in range(tries):
        gc.collect()
        tracemalloc.start()
        try:
            out = fn()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        del out
        best = peak if best is None else min(best, peak)
    return best


def measure_memory(names, progress):
    results = {}
    for name in names:
        fns, info = _setup_model(name, False)
        peaks = {v: _peak_bytes(fns[v]) for v in MEMORY_VARIANTS}
        results[name] = {
            "peak_bytes": peaks,
            "ratio_to_numpy": {v: peaks[v] / peaks["numpy"] for v in MEMORY_VARIANTS},
            "reference_matches": info["reference_matches"],
        }
        progress.step(f"memory {name}")
    return results


# --------------------------------------------------------------------------- first-call cost
def _warm_up_compilers():
    """Compile a small throwaway block in both modes so that one-time costs of the process
    (lazy imports, reading library sources) are not charged to the first model measured."""
    from .gluon import nn
    from . import nd
    x = nd.array(np.ones((1, 4), np.float32))
    for mode in ("ast", "trace"):
        net = nn.HybridSequential()
        net.add(nn.Dense(3, activation="relu", in_units=4), nn.Dense(2, in_units=3))
        net.initialize()
        net(x)
        net.hybridize(mode=mode)
        net(x)


def first_call(names, instances, progress):
    """Median seconds of the first call of freshly hybridized nets (parameters initialized
    eagerly beforehand), AST and trace interleaved; each instance is a new net."""
    _warm_up_compilers()
    results = {}
    for name in names:
        spec = bm.MODELS.get(name) or bm.FIRST_CALL_ONLY[name]
        source, x, _ = bm.make(name)
        source(x)   # the process has run this model's operators once (warm BLAS, allocators)
        count = instances.get(name, instances["default"])
        samples = {"ast": [], "trace": []}
        for i in range(count):
            for mode in (("ast", "trace") if i % 2 == 0 else ("trace", "ast")):
                net = spec[1]()
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


# ---------------------------------------------------------------------------------- targets
def evaluate_targets(models, first, training=None, memory=None):
    targets = []

    def add(what, model, measured, op, bound, issue=4):
        met = measured <= bound if op == "<=" else measured >= bound if op == ">=" \
            else measured > bound
        targets.append({"target": what, "model": model, "measured": measured,
                        "bound": f"{op} {bound:g}", "met": bool(met), "issue": issue})

    for name, info in models.items():
        bound = TARGET_AST_NUMPY_LARGE if name in LARGE_BATCH else TARGET_AST_NUMPY_BATCH1
        add("AST / numpy", name, info["ratio_to_numpy"]["ast"], "<=", bound)
    if "mlp1" in models:
        add("imperative / AST", "mlp1", models["mlp1"]["imperative_over_ast"], ">=",
            TARGET_IMPERATIVE_OVER_AST)
    for name, info in models.items():
        add("trace / AST (AST faster)", name, info["trace_over_ast"], ">", 1.0)
    for name, bound in (("mlp1", TARGET_FIRST_CALL_MLP_MS), ("res200", TARGET_FIRST_CALL_200_MS)):
        if name in first:
            add("first AST call (ms)", name, first[name]["ast"]["median_ms"], "<=", bound)
    training, memory = training or {}, memory or {}
    for name, info in memory.items():
        if name in LARGE_BATCH:
            add("peak memory AST / numpy", name, info["ratio_to_numpy"]["ast"], "<=",
                TARGET_PEAK_MEMORY_AST_NUMPY)
    if "mlp1" in training:
        add("train imperative / AST", "mlp1", training["mlp1"]["imperative_over_ast"], ">=",
            TARGET_TRAIN_IMPERATIVE_OVER_AST, issue=5)
    return targets


# --------------------------------------------------------------------------------- profile
def profile_missed(models, targets, peers, top=12, seconds=0.3, training=None):
    """cProfile of AST mode for each model whose AST/numpy target (forwards) or training
    imperative/AST target (training steps) was missed: where the time goes. Returns text."""
    import cProfile
    import io
    import pstats
    jobs = [(t["model"], "forwards") for t in targets
            if t["target"] == "AST / numpy" and not t["met"]]
    jobs += [(t["model"], "training steps") for t in targets
             if t["target"] == "train imperative / AST" and not t["met"]]
    out = []
    for name, what in jobs:
        if what == "forwards":
            fns, _ = _setup_model(name, False)
            per_call_us = models[name]["times_us"]["ast"]
        else:
            fns, _ = _setup_training(name)
            per_call_us = training[name]["times_us"]["ast"]
        number = max(1, int(seconds / max(per_call_us * 1e-6, 1e-9)))
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(number):
            fns["ast"]()
        profiler.disable()
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("tottime").print_stats(top)
        body = text.getvalue()
        body = body[body.find("   ncalls"):] if "   ncalls" in body else body
        out.append(f"Profile of {number} AST-mode {what} of {name} (by own time):\n"
                   + body.rstrip())
    return "\n\n".join(out)


# ---------------------------------------------------------------------------------- output
def _fmt_us(t):
    return f"{t:,.1f}" if t < 1000 else f"{t:,.0f}"


def _time_rows(title, rows_info, variants):
    """A table of times per variant with ratios to numpy, imperative/AST and trace/AST."""
    headers = ["model"] + [f"{v} us (x np)" for v in variants] + ["imp/AST", "trace/AST", "ref"]
    rows = []
    for name, info in rows_info.items():
        row = [name]
        for v in variants:
            if v in info["times_us"]:
                row.append(f"{_fmt_us(info['times_us'][v])} ({info['ratio_to_numpy'][v]:.2f})")
            else:
                row.append("-")
        row += [f"{info['imperative_over_ast']:.2f}", f"{info['trace_over_ast']:.2f}",
                "ok" if all(info["reference_matches"].values()) else "MISMATCH"]
        rows.append(row)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    return lines


def _fmt_bytes(n):
    return f"{n / 1024:,.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):,.2f} MiB"


def format_table(models, first, targets, variants, training=None, memory=None):
    lines = _time_rows("Per-forward time, median of repeats (ratio to the numpy reference):",
                       models, variants)
    if training:
        lines.append("")
        lines += _time_rows("Training step (record forward + SoftmaxCrossEntropyLoss + backward "
                            "+ Trainer.step, SGD), median of repeats (ratio to the numpy "
                            "step):", training, VARIANTS)
        lines.append("(ref: each mode's first-step loss, gradients and updated weights equal "
                     "the hand-written numpy step's.)")
    if memory:
        lines.append("")
        lines.append("Peak memory of one forward after a warm-up call (tracemalloc; ratio to "
                     "the numpy reference):")
        header = f"{'model':<8}" + "".join(f"  {v:>22}" for v in MEMORY_VARIANTS)
        lines.append(header)
        for name, info in memory.items():
            cells = [f"{_fmt_bytes(info['peak_bytes'][v])} ({info['ratio_to_numpy'][v]:.2f})"
                     for v in MEMORY_VARIANTS]
            lines.append(f"{name:<8}" + "".join(f"  {c:>22}" for c in cells))
    if first:
        lines.append("")
        lines.append("First hybridized call (parameters initialized), median ms:")
        lines.append(f"{'model':<8}  {'AST':>9}  {'trace':>9}  {'AST-forward':>11}  "
                     f"{'trace-forward':>13}")
        for name, info in first.items():
            beyond = [f"{info[m]['beyond_forward_ms']:.2f}" if "beyond_forward_ms" in info[m]
                      else "-" for m in ("ast", "trace")]
            lines.append(f"{name:<8}  {info['ast']['median_ms']:>9.2f}  "
                         f"{info['trace']['median_ms']:>9.2f}  {beyond[0]:>11}  "
                         f"{beyond[1]:>13}")
        lines.append("(X-forward: the first call less one steady-state forward of that mode. At "
                     "large batch a first call also pays for waking BLAS worker threads after "
                     "the compile's pure-Python work.)")
    if targets:
        lines.append("")
        lines.append("Targets (issues 4 and 5; informational, never a failure):")
        for t in targets:
            mark = "met   " if t["met"] else "MISSED"
            lines.append(f"  [{mark}] {t['target']:<26} {t['model']:<8} "
                         f"{t['measured']:>9.3f}  (target {t['bound']}, issue {t['issue']})")
    notes = [(n, i["ast_compile_error"]) for n, i in models.items() if i["ast_compile_error"]]
    notes += [(f"{n} (training)", i["ast_compile_error"]) for n, i in (training or {}).items()
              if i["ast_compile_error"]]
    for name, error in notes:
        lines.append("")
        lines.append(f"AST mode failed to compile {name}; its row uses hybridize()'s fallback:")
        lines.append(error.rstrip())
    return "\n".join(lines)


def write_json(path, data):
    """Write to a temporary file beside `path`, then rename over it (never a half file)."""
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".bench-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_plot(path, models, variants):
    """A grouped bar chart of each variant's time relative to numpy; False without
    matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = list(models)
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(names)), 4))
    width = 0.8 / len(variants)
    for i, v in enumerate(variants):
        values = [models[n]["ratio_to_numpy"].get(v, np.nan) for n in names]
        ax.bar([k + i * width for k in range(len(names))], values, width, label=v)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks([k + width * (len(variants) - 1) / 2 for k in range(len(names))])
    ax.set_xticklabels(names)
    ax.set_ylabel("time per forward / numpy reference")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title("ast_hybrid: per-forward time relative to hand-written numpy")
    fig.tight_layout()
    path = os.path.abspath(path)
    fd, tmp = tempfile.mkstemp(prefix=".bench-", suffix=".png", dir=os.path.dirname(path))
    os.close(fd)
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return True


# ------------------------------------------------------------------------------------ main
def parse_args(argv):
    all_names = list(bm.MODELS) + list(bm.FIRST_CALL_ONLY)
    p = argparse.ArgumentParser(prog="python -m ast_hybrid.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="few repeats and short samples (for tests; figures are noisy)")
    p.add_argument("--models", default=None,
                   help=f"comma-separated subset of {','.join(all_names)} (default: all)")
    p.add_argument("--json", default="bench_results.json", metavar="PATH",
                   help="where to write the results (default: bench_results.json)")
    p.add_argument("--plot", default=None, metavar="PATH",
                   help="write a PNG bar chart (needs matplotlib)")
    p.add_argument("--peers", action="store_true",
                   help="also time PyTorch eager and TorchScript, if torch is installed")
    p.add_argument("--repeats", type=int, default=None, help="round-robin repeats")
    p.add_argument("--no-train", dest="train", action="store_false",
                   help=f"skip the training-step rows ({', '.join(bm.TRAIN_MODELS)})")
    p.add_argument("--no-memory", dest="memory", action="store_false",
                   help="skip the peak-memory measurements")
    p.add_argument("--profile", action="store_true",
                   help="print a cProfile of AST mode for each model missing its AST/numpy "
                        "target, and of AST-mode training steps where the training target "
                        "is missed")
    args = p.parse_args(argv)
    if args.models:
        names = [n.strip() for n in args.models.split(",") if n.strip()]
        unknown = [n for n in names if n not in all_names]
        if unknown:
            p.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(all_names)}")
    else:
        names = all_names
    args.names = names
    return args


def main(argv=None):
    args = parse_args(argv)
    steady = [n for n in args.names if n in bm.MODELS]
    first_names = list(args.names)
    repeats = args.repeats or (3 if args.quick else 25)
    target_s = 0.002 if args.quick else 0.02
    instances = {"default": 1, "res200": 1} if args.quick else {"default": 7, "res200": 3}

    peers = False
    if args.peers:
        try:
            import torch
            # torch's OpenMP pool, interleaved in one process with numpy's OpenBLAS threads,
            # oversubscribes the cores and slows every variant erratically (measured: 10x on
            # a 2-vCPU machine); one torch thread keeps the other columns honest
            torch.set_num_threads(1)
            peers = True
        except ImportError:
            print("--peers: PyTorch is not installed; skipping the torch columns.",
                  file=sys.stderr)
    variants = VARIANTS + (PEERS if peers else ())

    train_names = [n for n in args.names if n in bm.TRAIN_MODELS] if args.train else []
    memory_names = steady if args.memory else []
    total = ((len(steady) + len(train_names)) * repeats + len(memory_names)
             + sum(instances.get(n, instances["default"]) for n in first_names))
    progress = Progress(total)
    models = run_models(steady, repeats, target_s, peers, progress)
    training = run_training(train_names, repeats, target_s, progress)
    memory = measure_memory(memory_names, progress)
    first = first_call(first_names, instances, progress)
    progress.close()
    for name, info in first.items():   # what the first call costs beyond one forward
        if name in models:
            for mode in ("ast", "trace"):
                info[mode]["beyond_forward_ms"] = (info[mode]["median_ms"]
                                                   - models[name]["times_us"][mode] / 1e3)
    targets = evaluate_targets(models, first, training, memory)

    print(format_table(models, first, targets, variants, training, memory))
    data = {
        "meta": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "quick": bool(args.quick),
            "repeats": repeats,
            "sample_seconds": target_s,
            "variants": list(variants),
            "peers": peers,
            "peer_threads": 1 if peers else None,
            "statistic": "median over repeats of the mean time per call within a repeat",
            "first_call": "first call of a fresh net, hybridized after its parameters were "
                          "initialized; median over fresh instances, after a warm-up compile "
                          "of an unrelated block",
            "training": "one step: forward under autograd.record(), SoftmaxCrossEntropyLoss "
                        "(hybridized with the net), backward(), gluon.Trainer 'sgd' "
                        f"(learning_rate {TRAIN_LR}) step(batch); numpy: the same step by hand",
            "peak_memory": "tracemalloc peak bytes over one forward after a warm-up call, "
                           "least of 3",
        },
        "models": models,
        "training": training,
        "peak_memory": memory,
        "first_call_ms": first,
        "targets": targets,
    }
    if args.profile:
        text = profile_missed(models, targets, peers, training=training)
        if text:
            print("\n" + text)
            data["profiles"] = text
    write_json(args.json, data)
    print(f"\nresults written to {args.json}")
    if args.plot:
        if write_plot(args.plot, models, variants):
            print(f"plot written to {args.plot}")
        else:
            print("--plot: matplotlib is not installed (pip install matplotlib, or the "
                  "'plot' extra); no plot written.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
