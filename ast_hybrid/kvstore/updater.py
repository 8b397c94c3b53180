"""The update a kvstore applies to its stored values when given an optimizer (MXNet's Updater)."""
import numpy as np

_MISSING = object()


class Updater:
    """optimizer.update(key, weight, grad, state) on raw arrays, the state made on first use."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}

    def __call__(self, key, grad, weight):
        state = self.states.get(key, _MISSING)
        if state is _MISSING:
            state = self.states[key] = self.optimizer.create_state(key, weight)
        self.optimizer.update(key, weight, grad, state)

    def save(self, fname):
        """The states and update counts as an .npz file (no pickles); keys must be ints or
        strings, as MXNet's are."""
        arrays = {"num_update": np.asarray(self.optimizer.num_update)}
        for n, (key, state) in enumerate(self.states.items()):
            parts = () if state is None else (state if isinstance(state, tuple) else (state,))
            arrays[f"key:{n}"] = np.asarray(key)
            arrays[f"kind:{n}"] = np.asarray(
                -1 if state is None else len(parts) if isinstance(state, tuple) else 0)
            for j, part in enumerate(parts):
                arrays[f"part:{n}:{j}"] = part
        for n, (key, count) in enumerate(self.optimizer._index_update_count.items()):
            arrays[f"countkey:{n}"] = np.asarray(key)
            arrays[f"count:{n}"] = np.asarray(count)
        with open(fname, "wb") as f:
            np.savez(f, **arrays)

    def load(self, fname):
        with np.load(fname, allow_pickle=False) as loaded:
            data = {key: loaded[key] for key in loaded.files}
        states, counts = {}, {}
        for name in data:
            kind, _, n = name.partition(":")
            if kind == "key":
                key, size = data[name].item(), int(data[f"kind:{n}"])
                count = {-1: 0, 0: 1}.get(size, size)
                parts = tuple(data[f"part:{n}:{j}"].copy() for j in range(count))
                states[key] = None if size < 0 else parts[0] if size == 0 else parts
            elif kind == "countkey":
                counts[data[name].item()] = int(data[f"count:{n}"])
        self.states = states
        self.optimizer._index_update_count = counts
        self.optimizer.num_update = int(data["num_update"])
