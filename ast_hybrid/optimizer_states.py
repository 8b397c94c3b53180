"""The file of an optimizer's states: one .npz layout (no pickles) for the Trainer and kvstores."""
import zipfile

import numpy as np

from .files import write_atomically
from .ndarray.io import LoadError

FORMAT = "ast_hybrid optimizer states"
VERSION = 1


def save(fname, states, counts, num_update):
    """Write `states` ({key: None, an array, or a tuple of arrays}), the update `counts`
    ({key: int}) and `num_update`, replacing `fname` safely (a crash leaves the old file).
    Keys are ints or strings, as MXNet's are."""
    arrays = {"format": np.asarray(FORMAT), "version": np.asarray(VERSION),
              "num_update": np.asarray(num_update)}
    for n, (key, state) in enumerate(states.items()):
        parts = () if state is None else (state if isinstance(state, tuple) else (state,))
        arrays[f"key:{n}"] = _key_array(fname, key)
        arrays[f"kind:{n}"] = np.asarray(
            -1 if state is None else len(parts) if isinstance(state, tuple) else 0)
        for j, part in enumerate(parts):
            arrays[f"part:{n}:{j}"] = part
    for n, (key, count) in enumerate(counts.items()):
        arrays[f"countkey:{n}"] = _key_array(fname, key)
        arrays[f"count:{n}"] = np.asarray(count)
    write_atomically(fname, lambda stream: np.savez(stream, **arrays))


def load(fname):
    """(states, counts, num_update) from a file `save` wrote, or one of the two layouts
    written before it (the Trainer's `state:`/`part:` keys, the kvstore updater's `key:`
    keys without a version)."""
    try:
        with np.load(fname, allow_pickle=False) as loaded:
            data = {key: loaded[key] for key in loaded.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise LoadError(f"{fname}: not an optimizer states file ({error})") from None
    try:
        if "version" in data:
            if str(data.get("format")) != FORMAT or int(data["version"]) > VERSION:
                raise LoadError(f"{fname}: optimizer states of format "
                                f"{data.get('format')!s} version {data['version']!s}; this "
                                f"version of ast_hybrid reads {FORMAT!r} up to {VERSION}")
            return _keyed(data)
        if any(name.startswith("state:") for name in data):
            return _trainer_layout(data)
        if "num_update" in data:
            return _keyed(data)
    except (KeyError, ValueError, TypeError) as error:
        raise LoadError(f"{fname}: a damaged optimizer states file ({error!s})") from None
    raise LoadError(f"{fname}: not an optimizer states file (no num_update or states)")


def _key_array(fname, key):
    if not isinstance(key, (int, str)) or isinstance(key, bool):
        raise TypeError(f"{fname}: optimizer state keys must be ints or strings, not "
                        f"{type(key).__name__}")
    return np.asarray(key)


def _keyed(data):
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
    return states, counts, int(data["num_update"])


def _trainer_layout(data):
    """The layout Trainer.save_states wrote before this module: `state:INDEX:SIZE:IS_TUPLE`
    markers, `part:INDEX:J` arrays, `count:INDEX` counts."""
    states, counts = {}, {}
    for name in data:
        kind, _, rest = name.partition(":")
        if kind == "state":
            index, size, is_tuple = (int(v) for v in rest.split(":"))
            parts = tuple(data[f"part:{index}:{j}"].copy() for j in range(size))
            states[index] = parts if is_tuple else (parts[0] if parts else None)
        elif kind == "count":
            counts[int(rest)] = int(data[name])
    return states, counts, int(data.get("num_update", 0))
