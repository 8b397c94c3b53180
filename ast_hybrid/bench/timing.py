"""Measuring functions: interleaved round-robin timing and tracemalloc's peak memory."""
import gc
import statistics
import time
import tracemalloc


def _calibrate(sample, target_s):
    """How many calls make one sample last about target_s (at least 1)."""
    sample(1)
    number = 1
    while True:
        elapsed = sample(number) * number
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


def _sampler(fn):
    """fn's own `sample(number)` where it is timed in another process (a peer's worker), or
    timing fn in this one."""
    return getattr(fn, "sample", None) or (lambda number: _sample(fn, number))


def interleave(fns, repeats, target_s, progress, label):
    """Round-robin timing of `fns` (name -> function), the order rotated each round so that
    drifts in clock speed or cache state hit every variant alike; the timing fields of a
    result row (microseconds, ratios to AST mode, and to 'numpy' and over AST mode where
    those variants are timed)."""
    samplers = {v: _sampler(fn) for v, fn in fns.items()}
    numbers = {v: _calibrate(sample, target_s) for v, sample in samplers.items()}
    order = list(fns)
    samples = {v: [] for v in order}
    for r in range(repeats):
        rotated = order[r % len(order):] + order[:r % len(order)]
        for variant in rotated:
            samples[variant].append(samplers[variant](numbers[variant]))
        progress.step(f"{label} repeat {r + 1}/{repeats}")
    times = {v: statistics.median(s) * 1e6 for v, s in samples.items()}
    row = {
        "times_us": times,
        "samples_us": {v: [x * 1e6 for x in s] for v, s in samples.items()},
        "calls_per_sample": numbers,
        "ratio_to_ast": {v: t / times["ast"] for v, t in times.items()},
    }
    if "numpy" in times:
        row["ratio_to_numpy"] = {v: t / times["numpy"] for v, t in times.items()}
    for mode in ("imperative", "trace"):
        if mode in times:
            row[f"{mode}_over_ast"] = times[mode] / times["ast"]
    return row


def peak_bytes(fn, tries=3):
    """tracemalloc's peak over one call of fn (after a warm-up call), least of `tries`:
    bytes allocated during the call and alive at its high-water mark, its result included.
    numpy reports its buffers to tracemalloc, so this counts the arrays."""
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
