"""The distributed kvstore ('dist_sync') over MPI: sums by allreduce, initial values from rank 0."""
import zlib

import numpy as np

from ..base import MXNetError
from .mpi_world import world
from .store import KVStore

_MAX_DIMS = 64          # numpy's own limit
_DTYPE_NAMES = {np.dtype(code).num: np.dtype(code).name for code in "?bhilqBHILQefdgFDG"}


def _signature(key, array):
    """What every worker must agree on for a key: the key, the dtype and the shape."""
    row = np.zeros(3 + _MAX_DIMS, np.int64)
    row[:3] = zlib.crc32(repr(key).encode()), array.dtype.num, array.ndim
    row[3:3 + array.ndim] = array.shape
    return row


def _describe(row):
    shape = tuple(int(n) for n in row[3:3 + row[2]])
    return f"shape {shape} {_DTYPE_NAMES.get(int(row[1]), 'dtype #' + str(row[1]))}"


def _fused(arrays):
    """Arrays grouped by dtype, each group one flat buffer: one collective per dtype."""
    groups = {}
    for i, a in enumerate(arrays):
        groups.setdefault(a.dtype, []).append(i)
    for members in groups.values():
        yield members, np.concatenate([arrays[i].ravel() for i in members])


def _split(flat, members, arrays, results):
    offset = 0
    for i in members:
        size = arrays[i].size
        results[i] = flat[offset:offset + size].reshape(arrays[i].shape)
        offset += size


class DistSyncKVStore(KVStore):
    """Synchronous data parallelism as MXNet's 'dist_sync': every push is summed over all
    workers before it is stored or applied, so each worker holds the same values; `init`
    checks that the workers agree on keys, dtypes and shapes and stores rank 0's values."""

    def __init__(self, name="dist_sync"):
        super().__init__(name)
        self._world = world()

    @property
    def rank(self):
        return self._world.rank

    @property
    def num_workers(self):
        return self._world.size

    def barrier(self):
        self._world.wait(self._world.comm.Ibarrier(), "barrier")

    def _agree(self, keys, arrays):
        self._check_signatures(keys, arrays)
        w = self._world
        results = [None] * len(arrays)
        for members, flat in _fused(arrays):
            flat = np.ascontiguousarray(flat)
            w.wait(w.comm.Ibcast(flat, root=0), f"init of {len(members)} key(s)")
            _split(flat, members, arrays, results)
        return [np.array(r, copy=True) for r in results]

    def _sum_workers(self, keys, sums):
        w = self._world
        results = [None] * len(sums)
        for members, flat in _fused(sums):
            total = np.empty_like(flat)
            w.wait(w.comm.Iallreduce(flat, total, op=w.MPI.SUM),
                   f"push of {len(members)} key(s), the first {keys[members[0]]!r}")
            _split(total, members, sums, results)
        return results

    def _count_over_workers(self, flags):
        w = self._world
        mine = np.asarray(flags, np.int64)
        counts = np.empty_like(mine)
        w.wait(w.comm.Iallreduce(mine, counts, op=w.MPI.SUM), "comparing gradients' state")
        return counts

    def _check_signatures(self, keys, arrays):
        w = self._world
        counts = np.empty(w.size, np.int64)
        w.wait(w.comm.Iallgather(np.array([len(keys)], np.int64), counts),
               "init: counting keys")
        if len(set(counts.tolist())) > 1:
            raise MXNetError(f"kvstore init: the workers initialize different numbers of keys "
                             f"(per rank: {counts.tolist()}): every worker must hold the same "
                             "parameters")
        if not keys:
            return
        mine = np.stack([_signature(k, a) for k, a in zip(keys, arrays)])
        table = np.empty((w.size,) + mine.shape, np.int64)
        w.wait(w.comm.Iallgather(mine, table), f"init of {len(keys)} key(s)")
        for position, key in enumerate(keys):
            rows = table[:, position]
            if (rows[:, 0] != rows[0, 0]).any():
                raise MXNetError(f"kvstore init: the workers initialize different keys at "
                                 f"position {position} (rank {w.rank} has {key!r}): every "
                                 "worker must hold the same parameters, in the same order")
            if (rows != rows[0]).any():
                per_rank = ", ".join(f"{_describe(row)} on rank {r}"
                                     for r, row in enumerate(rows))
                raise MXNetError(f"kvstore init of key {key!r}: the workers disagree ("
                                 f"{per_rank}): every worker must hold parameters of the same "
                                 "shapes and dtypes (the same model)")
