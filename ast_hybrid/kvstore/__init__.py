"""mx.kv / mx.kvstore: MXNet 1.x's key-value stores, in one process or across processes on MPI."""
from .checks import check_step
from .dist import DistSyncKVStore
from .mpi_world import WorkerFailure
from .store import KVStore
from .trainer_link import TrainerLink
from .types import DIST_TYPES, LOCAL_TYPES, check_type, create

__all__ = ["create", "check_step", "check_type", "DIST_TYPES", "DistSyncKVStore", "KVStore",
           "LOCAL_TYPES", "TrainerLink", "WorkerFailure"]
