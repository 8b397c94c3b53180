"""The results as text tables: times, training steps, peak memory, first calls, targets."""
from .forwards import VARIANTS
from .runner import MEMORY_VARIANTS


def _fmt_us(t):
    return f"{t:,.1f}" if t < 1000 else f"{t:,.0f}"


def _fmt_bytes(n):
    return f"{n / 1024:,.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):,.2f} MiB"


# the other systems: their ratio is to AST mode, the variant they are compared with
PEERS = ("torch", "torchscript", "jax", "mxnet")


def _time_rows(title, rows_info, variants):
    """A table of times per variant, with ratios to numpy (to AST mode for the peers, and
    for all where no numpy twin is timed), imperative/AST and trace/AST."""
    against = {v: "AST" if v in PEERS or "numpy" not in variants else "np" for v in variants}
    modes = [m for m in ("imperative", "trace") if m in variants]
    headers = (["model"] + [f"{v} us (x {against[v]})" for v in variants]
               + [{"imperative": "imp/AST", "trace": "trace/AST"}[m] for m in modes] + ["ref"])
    rows = []
    for name, info in rows_info.items():
        row = [name]
        for v in variants:
            if v in info["times_us"]:
                ratio = info["ratio_to_ast" if against[v] == "AST" else "ratio_to_numpy"][v]
                row.append(f"{_fmt_us(info['times_us'][v])} ({ratio:.2f})")
            else:
                row.append("-")
        row += [f"{info[f'{m}_over_ast']:.2f}" for m in modes]
        row.append("ok" if all(info["reference_matches"].values()) else "MISMATCH")
        rows.append(row)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    return lines


def _training_lines(training, variants):
    return ["", *_time_rows("Training step (record forward + SoftmaxCrossEntropyLoss + backward "
                            "+ Trainer.step, SGD), median of repeats (ratio to the numpy "
                            "step; to AST mode for the peers):", training, variants),
            "(peers: cross-entropy summed over the batch, backward, w -= lr / batch * grad. "
            "ref: each mode's and in-process peer's first-step loss, gradients and updated "
            "weights equal the hand-written numpy step's; MXNet's loss and updated weights.)"]


def _zoo_lines(zoo, variants, first):
    lines = ["", *_time_rows("Model zoo, predict mode, per-forward time, median of repeats "
                             "(ratio to AST mode):", zoo, variants),
             "(ref: outputs equal imperative mode's on the same weights.)",
             "", "Model zoo, first hybridized call at batch 1 (parameters known), median ms:"]
    lines += [f"  {name:<18} {info['ast']['median_ms']:>9.1f}" for name, info in first.items()]
    return lines


def _memory_lines(memory):
    lines = ["", "Peak memory of one forward after a warm-up call (tracemalloc; ratio to the "
             "numpy reference):",
             f"{'model':<8}" + "".join(f"  {v:>22}" for v in MEMORY_VARIANTS)]
    for name, info in memory.items():
        cells = [f"{_fmt_bytes(info['peak_bytes'][v])} ({info['ratio_to_numpy'][v]:.2f})"
                 for v in MEMORY_VARIANTS]
        lines.append(f"{name:<8}" + "".join(f"  {c:>22}" for c in cells))
    return lines


def _first_call_lines(first):
    lines = ["", "First hybridized call (parameters initialized), median ms:",
             f"{'model':<8}  {'AST':>9}  {'trace':>9}  {'AST-forward':>11}  "
             f"{'trace-forward':>13}"]
    for name, info in first.items():
        beyond = [f"{info[m]['beyond_forward_ms']:.2f}" if "beyond_forward_ms" in info[m]
                  else "-" for m in ("ast", "trace")]
        lines.append(f"{name:<8}  {info['ast']['median_ms']:>9.2f}  "
                     f"{info['trace']['median_ms']:>9.2f}  {beyond[0]:>11}  {beyond[1]:>13}")
    lines.append("(X-forward: the first call less one steady-state forward of that mode. At "
                 "large batch a first call also pays for waking BLAS worker threads after "
                 "the compile's pure-Python work.)")
    return lines


def _target_lines(targets):
    lines = ["", "Targets (informational, never a failure):"]
    width = max([26] + [len(t["target"]) for t in targets])
    for t in targets:
        if t["met"] is None:
            lines.append(f"  [n/a   ] {t['target']:<{width}} {t['model']:<16} "
                         f"not measured ({t['not_measured']})")
            continue
        mark = "met   " if t["met"] else "MISSED"
        lines.append(f"  [{mark}] {t['target']:<{width}} {t['model']:<16} "
                     f"{t['measured']:>9.3f}  (target {t['bound']})")
    return lines


def _error_lines(tables):
    """What failed to compile in AST mode, and which peers failed on which rows."""
    lines = []
    for suffix, rows in tables:
        for name, info in rows.items():
            if info["ast_compile_error"]:
                lines += ["", f"AST mode failed to compile {name}{suffix}; its row uses "
                          "hybridize()'s fallback:", info["ast_compile_error"].rstrip()]
            for peer, error in info.get("peer_errors", {}).items():
                lines += ["", f"{peer} failed on {name}{suffix}; its column is empty:",
                          error.rstrip()]
    return lines


def format_table(models, first, targets, variants, training=None, memory=None,
                 train_variants=VARIANTS, zoo=None, zoo_variants=(), zoo_first=None):
    lines = _time_rows("Per-forward time, median of repeats (ratio to the numpy reference):",
                       models, variants)
    if training:
        lines += _training_lines(training, train_variants)
    if memory:
        lines += _memory_lines(memory)
    if first:
        lines += _first_call_lines(first)
    if zoo:
        lines += _zoo_lines(zoo, zoo_variants, zoo_first or {})
    if targets:
        lines += _target_lines(targets)
    lines += _error_lines((("", models), (" (training)", training or {}),
                           (" (model zoo)", zoo or {})))
    return "\n".join(lines)
