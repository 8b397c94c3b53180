"""nd.save / nd.load: arrays in numpy's .npz format, written atomically, read without pickle."""
import hashlib
import json
import os
import zipfile

import numpy as np

from ..files import write_atomically
from ..limits import LoadLimits, element_count

_LIST_PREFIX = "__list__"


class LoadError(ValueError):
    """A file that is not a valid array file."""


def check_array_names(fname, names):
    """Refuse names the file cannot hold exactly: the zip format cuts a name at a NUL."""
    for name in names:
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise ValueError(f"{fname}: the name {name!r} has a control character, which an "
                             "array file cannot store; rename the parameter")


def save_arrays(fname, arrays: dict):
    """Write named numpy arrays to `fname`, atomically (see ast_hybrid.files)."""
    check_array_names(fname, arrays)
    write_atomically(fname, lambda stream: np.savez(stream, **arrays))


def array_headers(fname) -> dict:
    """{name: (shape, dtype)} of an array file, read from each array's header without
    inflating its data; any malformed content raises LoadError naming the file."""
    headers = {}
    try:
        with zipfile.ZipFile(fname) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    raise LoadError(f"{fname}: member {member!r:.80} is not an array")
                with archive.open(member) as stream:
                    version = np.lib.format.read_magic(stream)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(stream)
                headers[member[:-len(".npy")]] = (shape, dtype)
    except (FileNotFoundError, LoadError):
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as err:
        raise LoadError(f"{fname}: not a valid array file ({err})") from None
    return headers


def parameter_name(key):
    """A params file's key without export's `arg:`/`aux:` kind, as load_parameters reads it."""
    return key.split(":", 1)[1] if key.startswith(("arg:", "aux:")) else key


def parameters_signature(headers) -> str:
    """SHA-256 of the names, shapes and dtypes of parameters, so that two files of the same
    parameters (exported, or saved with save_parameters) agree."""
    described = sorted([parameter_name(key), list(shape), dtype.str]
                       for key, (shape, dtype) in headers.items())
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()


_NUMBER_KINDS = "biuf"      # bool, signed and unsigned integers, floats: what NDArray holds


def check_headers(fname, headers, limits):
    """Refuse, before inflating anything, arrays this library cannot hold or that exceed
    `limits`: each error names the file and the array."""
    total = 0
    for key, (shape, dtype) in headers.items():
        if dtype.kind not in _NUMBER_KINDS:
            raise LoadError(f"{fname}: array {key!r} has dtype {dtype} ({dtype.kind!r} kind); "
                            "only bool, integer and float arrays can be loaded")
        elements = element_count(shape)
        message = limits.exceeded("max_array_elements", elements,
                                  f"the size of array {key!r} of shape {shape}")
        total += elements * dtype.itemsize
        message = message or limits.exceeded("max_total_bytes", total,
                                              "the bytes of its arrays up to " + repr(key))
        if message:
            raise LoadError(f"{fname}: {message}")


def load_arrays(fname, limits=None, expect=None) -> dict:
    """Named numpy arrays from `fname`; any malformed content raises LoadError naming the file.

    Headers are checked against `limits` (LoadLimits) and given to `expect(names)`, which may
    refuse the file, before any array is inflated."""
    limits = limits or LoadLimits()
    if os.path.getsize(fname) > limits.max_total_bytes:
        raise LoadError(f"{fname}: " + limits.exceeded(
            "max_total_bytes", os.path.getsize(fname), "its size"))
    headers = array_headers(fname)
    check_headers(fname, headers, limits)
    if expect is not None:
        expect(list(headers))
    try:
        with np.load(fname, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise LoadError(f"{fname}: not an .npz archive of named arrays")
            arrays = {}
            for key in archive.files:
                try:
                    arrays[key] = archive[key]
                except MemoryError:
                    raise LoadError(f"{fname}: not enough memory for array {key!r} of shape "
                                    f"{headers[key][0]}") from None
            return arrays
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


def load(fname, **limits):
    """MXNet's nd.load; `limits` raise those of ast_hybrid.limits.LoadLimits."""
    from .ndarray import NDArray
    arrays = load_arrays(fname, LoadLimits.given(limits))
    if arrays and all(key.startswith(_LIST_PREFIX) for key in arrays):
        ordered = sorted(arrays, key=lambda key: int(key[len(_LIST_PREFIX):]))
        return [NDArray(arrays[key]) for key in ordered]
    return {key: NDArray(value) for key, value in arrays.items()}
