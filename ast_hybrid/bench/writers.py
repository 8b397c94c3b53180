"""Writing the results as JSON and as a PNG chart, each file replaced whole or not at all."""
import json

import numpy as np

from ..files import write_atomically


def write_json(path, data):
    def dump(stream):
        json.dump(data, stream, indent=2)
        stream.write("\n")
    write_atomically(path, dump, binary=False)


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
    try:
        write_atomically(path, lambda stream: fig.savefig(stream, format="png"))
    finally:
        plt.close(fig)
    return True
