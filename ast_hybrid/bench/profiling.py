"""Where AST mode's time goes, for the models that missed their targets: cProfile tables."""
import cProfile
import io
import pstats

from .forwards import setup_model
from .targets import AST_OVER_NUMPY, TRAIN_IMPERATIVE_OVER_AST, missed
from .training import setup_training


def _profile_table(fn, number, top):
    """cProfile of `number` calls of fn: the `top` functions by own time, as text."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(number):
        fn()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    body = text.getvalue()
    return body[body.find("   ncalls"):] if "   ncalls" in body else body


def profile_missed(models, targets, training, top=12, seconds=0.3):
    """cProfile of AST mode for each model whose AST/numpy target (forwards) or training
    imperative/AST target (training steps) was missed, about `seconds` each. Returns text."""
    jobs = [(name, "forwards", setup_model, models[name])
            for name in missed(targets, AST_OVER_NUMPY)]
    jobs += [(name, "training steps", setup_training, training[name])
             for name in missed(targets, TRAIN_IMPERATIVE_OVER_AST)]
    out = []
    for name, what, setup, row in jobs:
        fns, _ = setup(name)
        number = max(1, int(seconds / max(row["times_us"]["ast"] * 1e-6, 1e-9)))
        table = _profile_table(fns["ast"], number, top)
        out.append(f"Profile of {number} AST-mode {what} of {name} (by own time):\n"
                   + table.rstrip())
    return "\n\n".join(out)
