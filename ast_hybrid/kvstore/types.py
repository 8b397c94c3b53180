"""The kvstore types: which names run here, which are refused and why, and `create`."""
from ..base import MXNetError
from .dist import DistSyncKVStore
from .store import KVStore

# one process: on the CPU every device store sums in one place, so all compute alike
LOCAL_TYPES = ("local", "device", "local_allreduce_cpu", "local_allreduce_device",
               "local_update_cpu", "nccl")
DIST_TYPES = ("dist_sync", "dist_sync_device", "dist_device_sync")
_REFUSED = {
    "dist_async": "asynchronous updates (each worker's push applied on arrival, with stale "
                  "weights) make results depend on timing; use 'dist_sync'",
    "dist_async_device": "asynchronous updates make results depend on timing; use "
                         "'dist_sync_device'",
    "horovod": "Horovod is not used; 'dist_sync' sums gradients by MPI allreduce as "
               "Horovod's allreduce does",
    "byteps": "BytePS is not used; 'dist_sync' sums gradients by MPI allreduce",
}


def check_type(name):
    """Raise for a kvstore type this package does not run (before anything is created)."""
    if not isinstance(name, str):
        raise TypeError(f"kvstore must be KVStore, str or None, not {type(name).__name__}")
    if name in _REFUSED:
        raise MXNetError(f"kvstore {name!r} is not supported: {_REFUSED[name]}")
    if name not in LOCAL_TYPES + DIST_TYPES:
        raise MXNetError(f"Unknown KVStore type {name!r}; supported: "
                         f"{', '.join(LOCAL_TYPES + DIST_TYPES)}")


def create(name="local"):
    """A new KVStore of type `name` ('local', 'device', ..., or 'dist_sync' over MPI)."""
    check_type(name)
    return DistSyncKVStore(name) if name in DIST_TYPES else KVStore(name)
