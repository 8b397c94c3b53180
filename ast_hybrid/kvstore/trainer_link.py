"""A Trainer's kvstore: chosen as MXNet 1.x chooses it, given rank 0's values, fed gradients."""
import os

import numpy as np

from .. import autograd
from ..base import MXNetError
from .checks import check_step
from .dist import DistSyncKVStore
from .store import KVStore
from .types import DIST_TYPES, create


class TrainerLink:
    """What a Trainer does with its kvstore. The store is made at the first step, as MXNet
    does, or at once for a 'dist' store so that parameters already initialized are given
    rank 0's values before the first forward."""

    def __init__(self, kvstore, update_on_kvstore, params, optimizer):
        self._config = (kvstore, update_on_kvstore)
        self._params, self._optimizer = params, optimizer
        self.store, self.update_on_kvstore = None, False
        self._made = False
        self._to_init = list(params)
        self._versions = {}     # id(param) -> its version when the store last wrote it
        self._replaced = {}     # id(param) -> whether the broadcast changed its value here
        if kvstore in DIST_TYPES or isinstance(kvstore, DistSyncKVStore):
            self.prepare()
            self._replaced.clear()      # no gradient was computed from the old values

    def prepare(self):
        """Make the store if not yet, and broadcast the parameters initialized since."""
        if not self._made:
            kvstore, wanted = self._config
            if isinstance(kvstore, str):
                # one device, one process: MXNet uses no store, so neither do we
                kvstore = create(kvstore) if kvstore in DIST_TYPES else None
            if isinstance(kvstore, KVStore):
                update = bool(int(os.getenv("MXNET_UPDATE_ON_KVSTORE", "1")))
                self.update_on_kvstore = kvstore.is_capable("optimizer") and (
                    update if wanted is None else wanted)
                if self.update_on_kvstore:
                    kvstore.set_optimizer(self._optimizer)
            self.store, self._made = kvstore, True
        if self.store is None or not self._to_init:
            return
        ready = [(i, p) for i, p in enumerate(self._params)
                 if p in self._to_init and p._data is not None]
        self._to_init = [p for p in self._to_init if p._data is None]
        own = [p._data._data.copy() for _, p in ready]
        self.store.broadcast([i for i, _ in ready], [p._data for _, p in ready],
                             out=[p._data for _, p in ready])
        for (_, param), value in zip(ready, own):
            param.mark_changed()
            self._versions[id(param)] = param.version
            self._replaced[id(param)] = not np.array_equal(value, param._data._data)

    def refuse_on_kvstore(self, what):
        if self.store is not None and self.update_on_kvstore:
            raise AssertionError(f"{what} when parameters are updated on kvstore is not "
                                 "supported. Try setting `update_on_kvstore` to False when "
                                 "creating trainer.")

    def reduce(self):
        """Sum the gradients over the workers; with update_on_kvstore the store applies the
        optimizer to the fresh ones and the parameters get its new values."""
        if self.store is None:
            return
        chosen = [(i, p) for i, p in enumerate(self._params)
                  if p._grad_req != "null" and p._data is not None and p._data._grad is not None]
        fresh = [autograd.grad_is_fresh(p._data) for _, p in chosen]
        late = [self._replaced.pop(id(p), False) for _, p in chosen]
        check_step(self.store, [p.name for _, p in chosen], fresh, late)
        if not self.update_on_kvstore:
            self.store.pushpull([i for i, _ in chosen], [p._data._grad for _, p in chosen])
            return
        chosen = [(i, p) for (i, p), f in zip(chosen, fresh) if f]
        for _, param in chosen:
            if param.version != self._versions[id(param)]:
                # the store would overwrite the new value with its own copy's update
                raise MXNetError(
                    f"Parameter `{param.name}` was set (set_data, load_parameters) after the "
                    "kvstore took its value, and the kvstore updates its own copy: make a new "
                    "Trainer after changing parameters, or pass update_on_kvstore=False")
        self.store.pushpull([i for i, _ in chosen], [p._data._grad for _, p in chosen],
                            out=[p._data for _, p in chosen])
        for _, param in chosen:
            param.mark_changed()
            self._versions[id(param)] = param.version
