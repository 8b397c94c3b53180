"""MXNet 1.x's binary parameter files (what its nd.save and save_parameters write), read."""
import os
import struct

import numpy as np

from ..limits import LoadLimits, element_count
from .io import LoadError

# the file's first 8 bytes: MXNet's magic number of a list of arrays
FILE_MAGIC = struct.pack("<Q", 0x112)
# an array's first 4 bytes: its format's version, the number of dimensions in MXNet's
# oldest files
_ARRAY_V1, _ARRAY_V2, _ARRAY_V3 = 0xF993FAC8, 0xF993FAC9, 0xF993FACA
_MAX_NDIM = 32                   # far more than any parameter has
# MXNet's type flags -> numpy dtypes (little-endian, as MXNet writes on every platform it
# ships for)
_DTYPES = {0: "<f4", 1: "<f8", 2: "<f2", 3: "u1", 4: "<i4", 5: "i1", 6: "<i8", 7: "?"}


def is_mxnet_file(path):
    """Whether the file at `path` starts as MXNet's parameter files do."""
    with open(path, "rb") as stream:
        return stream.read(8) == FILE_MAGIC


class _Reader:
    """Little-endian fields from `data`; running past its end raises LoadError."""

    def __init__(self, path, data):
        self.path, self.data, self.at = path, memoryview(data), 0

    def fail(self, why):
        raise LoadError(f"{self.path}: not a valid MXNet parameter file ({why} at byte "
                        f"{self.at})")

    def take(self, size, what):
        if size > len(self.data) - self.at:
            self.fail(f"the file ends inside {what}")
        start, self.at = self.at, self.at + size
        return self.data[start:self.at]

    def field(self, form, what):
        return struct.unpack("<" + form, self.take(struct.calcsize(form), what))[0]

    def left(self):
        return len(self.data) - self.at


def read_arrays(path, limits=None):
    """{name: numpy array} of an MXNet file of named arrays; whatever the file holds is
    checked against `limits` (ast_hybrid.limits.LoadLimits) before it is allocated, and any
    malformed content raises LoadError naming the file."""
    limits = limits or LoadLimits()
    size = os.path.getsize(path)
    message = limits.exceeded("max_total_bytes", size, "its size")
    if message:
        raise LoadError(f"{path}: {message}")
    with open(path, "rb") as stream:
        reader = _Reader(path, stream.read())
    if bytes(reader.take(8, "the magic number")) != FILE_MAGIC:
        reader.fail("no MXNet magic number")
    reader.field("Q", "the header")
    count = reader.field("Q", "the number of arrays")
    if count > reader.left() // 20:          # an array takes 20 bytes at least
        reader.fail(f"{count} arrays declared")
    arrays = [_read_array(reader, limits) for _ in range(count)]
    if reader.field("Q", "the number of names") != count:
        reader.fail("not one name for each array")
    names = []
    for _ in range(count):
        length = reader.field("Q", "a name's length")
        try:
            names.append(bytes(reader.take(length, "a name")).decode("utf-8"))
        except UnicodeDecodeError:
            reader.fail("a name that is not UTF-8")
    if reader.left():
        reader.fail("bytes after the names")
    if len(set(names)) != len(names):
        reader.fail("a name given twice")
    return dict(zip(names, arrays))


def _read_array(reader, limits):
    """One array: its format's version (V2, with a storage type, is what MXNet 1.x writes;
    V3 that of numpy shape semantics; V1 and the oldest format, whose first field is the
    number of dimensions, have no storage type), shape, device, type flag and data."""
    version = reader.field("I", "an array's format")
    if version in (_ARRAY_V2, _ARRAY_V3) and \
            reader.field("i", "an array's storage type") != 0:
        reader.fail("a sparse array")
    if version in (_ARRAY_V1, _ARRAY_V2, _ARRAY_V3):
        ndim = reader.field("i", "an array's number of dimensions")
        form = "q"
    else:
        ndim, form = version, "I"
    # MXNet reads no more of an array whose shape it takes as unknown (-1 dimensions, or 0
    # outside numpy semantics), and a parameter always has a shape
    lowest = 0 if version == _ARRAY_V3 else 1
    if not lowest <= ndim <= _MAX_NDIM:
        reader.fail(f"an array of {ndim} dimensions")
    shape = tuple(reader.field(form, "an array's shape") for _ in range(ndim))
    if min(shape, default=0) < 0:
        reader.fail(f"an array of shape {shape}")
    message = limits.exceeded("max_array_elements", element_count(shape),
                              f"the size of an array of shape {shape}")
    if message:
        raise LoadError(f"{reader.path}: {message}")
    reader.field("i", "an array's device type")
    reader.field("i", "an array's device id")
    flag = reader.field("i", "an array's type")
    if flag not in _DTYPES:
        reader.fail(f"an array of type flag {flag}")
    dtype = np.dtype(_DTYPES[flag])
    data = reader.take(element_count(shape) * dtype.itemsize, "an array's data")
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
