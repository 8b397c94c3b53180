"""nd.save / nd.load: arrays in numpy's .npz format, written atomically, read without pickle."""
import os
import tempfile
import zipfile

import numpy as np

_LIST_PREFIX = "__list__"


class LoadError(ValueError):
    """A file that is not a valid array file."""


def save_arrays(fname, arrays: dict):
    """Write named numpy arrays to `fname` through a temporary file in the same folder."""
    folder = os.path.dirname(os.path.abspath(fname))
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(temporary, fname)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load_arrays(fname) -> dict:
    """Named numpy arrays from `fname`; any malformed content raises LoadError naming the file."""
    try:
        with np.load(fname, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise LoadError(f"{fname}: not an .npz archive of named arrays")
            return {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise
    except LoadError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as err:
        raise LoadError(f"{fname}: not a valid array file ({err})") from None


def save(fname, data):
    """MXNet's nd.save: a dict of NDArrays, a list of them, or one."""
    from .ndarray import NDArray
    if isinstance(data, NDArray):
        data = [data]
    if isinstance(data, dict):
        for key in data:
            if not isinstance(key, str) or key.startswith(_LIST_PREFIX):
                raise ValueError(f"nd.save: invalid key {key!r}")
        arrays = {key: value.asnumpy() for key, value in data.items()}
    elif isinstance(data, (list, tuple)):
        arrays = {f"{_LIST_PREFIX}{i}": value.asnumpy() for i, value in enumerate(data)}
    else:
        raise TypeError("nd.save takes an NDArray, a list of NDArrays or a dict of them")
    save_arrays(fname, arrays)


def load(fname):
    from .ndarray import NDArray
    arrays = load_arrays(fname)
    if arrays and all(key.startswith(_LIST_PREFIX) for key in arrays):
        ordered = sorted(arrays, key=lambda key: int(key[len(_LIST_PREFIX):]))
        return [NDArray(arrays[key]) for key in ordered]
    return {key: NDArray(value) for key, value in arrays.items()}
