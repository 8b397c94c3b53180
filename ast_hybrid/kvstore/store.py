"""The one-process kvstore ('local'): values kept per key, pushed lists summed, pulled copies."""
import numpy as np

from ..base import MXNetError
from ..ndarray import NDArray
from .updater import Updater

OPTIMIZER = "optimizer"


def _key_list(key, value):
    """(keys, values) with one value (an array or a list of arrays) per key."""
    if isinstance(key, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(key):
            raise ValueError(f"{len(key)} keys need a list of as many values")
        return list(key), list(value)
    return [key], [value]


def _arrays(value, key):
    arrays = list(value) if isinstance(value, (list, tuple)) else [value]
    if not arrays or not all(isinstance(a, NDArray) for a in arrays):
        raise TypeError(f"kvstore key {key!r}: values must be NDArrays or lists of NDArrays")
    return arrays


class KVStore:
    """MXNet 1.x's KVStore in one process: `push` sums the arrays given for a key (one per
    device) and, with an optimizer set, applies its update to the stored value; otherwise
    the sum becomes the stored value. `pull` copies the stored value into each output."""

    def __init__(self, name="local"):
        self._type = name
        self._store = {}
        self._updater = None

    @property
    def type(self):
        return self._type

    @property
    def rank(self):
        return 0

    @property
    def num_workers(self):
        return 1

    def is_capable(self, capability):
        if capability != OPTIMIZER:
            raise MXNetError(f"Unknown capability: {capability}")
        return True

    def init(self, key, value):
        keys, values = _key_list(key, value)
        firsts = []
        for k, v in zip(keys, values):
            if k in self._store:
                raise MXNetError(f"duplicate init of key {k!r}")
            firsts.append(_arrays(v, k)[0]._data)
        for k, array in zip(keys, self._agree(keys, firsts)):
            self._store[k] = array

    def push(self, key, value, priority=0):
        keys, values = _key_list(key, value)
        sums = []
        for k, v in zip(keys, values):
            stored = self._stored(k)
            arrays = _arrays(v, k)
            for a in arrays:
                if a.shape != stored.shape:
                    raise MXNetError(f"kvstore key {k!r}: pushed shape {a.shape} does not "
                                     f"match the initialized {stored.shape}")
            total = arrays[0]._data.astype(stored.dtype, copy=True)
            for a in arrays[1:]:
                total += a._data
            sums.append(total)
        for k, total in zip(keys, self._sum_workers(keys, sums)):
            if self._updater is not None:
                self._updater(k, total, self._store[k])
            else:
                self._store[k] = total

    def pull(self, key, out=None, priority=0, ignore_sparse=True):
        if out is None:
            raise ValueError("pull needs `out`: the arrays to copy the stored values into")
        keys, outs = _key_list(key, out)
        for k, o in zip(keys, outs):
            stored = self._stored(k)
            for target in _arrays(o, k):
                if target.shape != stored.shape:
                    raise MXNetError(f"kvstore key {k!r}: pull into shape {target.shape}, "
                                     f"the stored value has {stored.shape}")
                target._data[...] = stored

    def pushpull(self, key, value, out=None, priority=0):
        self.push(key, value, priority)
        self.pull(key, value if out is None else out, priority)

    def broadcast(self, key, value, out, priority=0):
        self.init(key, value)
        self.pull(key, out, priority)

    def set_optimizer(self, optimizer):
        self._updater = Updater(optimizer)

    def set_gradient_compression(self, compression_params):
        raise NotImplementedError(
            "gradient compression is not supported: it changes the gradients (2-bit "
            "quantization with error feedback), so training would silently differ from "
            "uncompressed training; leave compression_params out")

    def row_sparse_pull(self, key, out=None, priority=0, row_ids=None):
        raise NotImplementedError("row_sparse_pull: sparse storage is not supported; "
                                  "values are dense, use pull")

    def save_optimizer_states(self, fname, dump_optimizer=False):
        self._check_updater().save(fname)

    def load_optimizer_states(self, fname):
        self._check_updater().load(fname)

    def barrier(self):
        """Wait until every worker reaches this point (one worker: at once)."""

    def _barrier(self):     # MXNet 1.x's name
        self.barrier()

    def _check_updater(self):
        if self._updater is None:
            raise MXNetError("Cannot save/load states: no optimizer is set on the kvstore "
                             "(set_optimizer)")
        return self._updater

    def _stored(self, key):
        if key not in self._store:
            raise MXNetError(f"kvstore key {key!r} has not been initialized (init)")
        return self._store[key]

    def _agree(self, keys, arrays):
        """The values every worker stores for newly initialized keys: one worker's own."""
        return [np.array(a, copy=True) for a in arrays]

    def _sum_workers(self, keys, sums):
        """Each key's sum over the workers (one worker: its own)."""
        return sums

    def _count_over_workers(self, flags):
        """For each flag, on how many workers it is set (one worker: its own)."""
        return np.asarray(flags, np.int64)
