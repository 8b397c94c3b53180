"""gluon.Trainer: applies an optimizer to a set of Parameters after backward()."""
import numpy as np

from .. import autograd
from .. import kvstore as kvs
from .. import optimizer as opt
from .. import optimizer_states
from .parameter import Parameter, ParameterDict

_MISSING = object()


class Trainer:
    """Updates `params` with `optimizer` ('sgd', 'nag', 'adam', 'rmsprop' or an Optimizer).

    step(batch_size) rescales gradients by 1/batch_size (times the optimizer's rescale_grad)
    and updates every parameter whose grad_req is not 'null', in place; each updated
    parameter is marked changed so caches derived from its value are refreshed.

    kvstore: as MXNet 1.x's, a type name, a KVStore or None; a 'dist_sync' store sums the
    gradients over the workers before each update (batch_size is then the global batch)
    and gives every worker rank 0's parameters first. A name this package does not run is
    an error here, where MXNet ignores any non-'dist' name on one device.
    """

    def __init__(self, params, optimizer, optimizer_params=None, kvstore="device",
                 compression_params=None, update_on_kvstore=None):
        if isinstance(params, (dict, ParameterDict)):
            params = list(params.values())
        if not isinstance(params, (list, tuple)):
            raise ValueError("First argument must be a list or dict of Parameters, "
                             f"got {type(params).__name__}.")
        self._params = []
        seen = set()
        for param in params:
            if not isinstance(param, Parameter):
                raise ValueError("First argument must be a list or dict of Parameters, got "
                                 f"list of {type(param).__name__}.")
            if id(param) not in seen:
                seen.add(id(param))
                self._params.append(param)
        optimizer_params = dict(optimizer_params or {})
        self._scale = optimizer_params.get("rescale_grad", 1.0)
        param_dict = dict(enumerate(self._params))
        if isinstance(optimizer, opt.Optimizer):
            if optimizer_params:
                raise ValueError("optimizer_params must be None if optimizer is an Optimizer")
            self._optimizer = optimizer
            self._optimizer.param_dict = param_dict
            self._scale = optimizer.rescale_grad
        else:
            self._optimizer = opt.create(optimizer, param_dict=param_dict, **optimizer_params)
        self._states = {}
        if kvstore is not None and not isinstance(kvstore, kvs.KVStore):
            kvs.check_type(kvstore)
        if compression_params:
            raise NotImplementedError("compression_params: gradient compression is not "
                                      "supported (it would change the gradients)")
        self._kv = kvs.TrainerLink(kvstore, update_on_kvstore, self._params, self._optimizer)

    @property
    def _kvstore(self):
        return self._kv.store

    @property
    def _update_on_kvstore(self):
        return self._kv.update_on_kvstore

    @property
    def optimizer(self):
        return self._optimizer

    @property
    def learning_rate(self):
        return self._optimizer.learning_rate

    def set_learning_rate(self, lr):
        self._optimizer.set_learning_rate(lr)

    def step(self, batch_size, ignore_stale_grad=False):
        """One update: gradients / batch_size, then the optimizer's rule on every parameter."""
        self._optimizer.rescale_grad = self._scale / batch_size
        self._kv.prepare()
        self._sum_copies()
        self._kv.reduce()
        self._update(ignore_stale_grad)

    def allreduce_grads(self):
        """Sum the gradients: of a parameter's copies on several contexts (each becomes their
        sum, as MXNet's reduction across devices leaves them), then over the kvstore's
        workers (no kvstore: nothing more to reduce)."""
        self._kv.prepare()
        self._kv.refuse_on_kvstore("allreduce_grads()")
        self._sum_copies()
        self._kv.reduce()

    def _sum_copies(self):
        for param in self._params:
            if param._copies and param._grad_req != "null":
                grads = [copy._grad._data for copy in param._arrays() if copy._grad is not None]
                total = np.sum(grads, axis=0, dtype=grads[0].dtype) if grads else None
                for grad in grads:
                    grad[...] = total

    def update(self, batch_size, ignore_stale_grad=False):
        self._kv.prepare()
        self._kv.refuse_on_kvstore("update()")
        self._optimizer.rescale_grad = self._scale / batch_size
        self._update(ignore_stale_grad)

    def _update(self, ignore_stale_grad):
        chosen = []
        for index, param in enumerate(self._params):
            if param._grad_req == "null":
                continue
            data = param._data
            if data is None:
                param._check_initialized()      # raises
            if data._grad is None:
                continue
            if param._copies:
                fresh = all([autograd.grad_is_fresh(copy, consume=True)
                             for copy in param._arrays()])
            else:       # one context, the common case: no list per parameter
                fresh = autograd.grad_is_fresh(data, consume=True)
            if not fresh:
                if not ignore_stale_grad:
                    raise UserWarning(
                        f"Gradient of Parameter `{param.name}` on context cpu(0) has not been "
                        "updated by backward since last `step`. This could mean a bug in your "
                        "model that made it only use a subset of the Parameters (Blocks) for "
                        "this iteration. If you are intentionally only using a subset, call "
                        "step with ignore_stale_grad=True to suppress this warning and skip "
                        "updating of Parameters with stale gradient")
                continue
            chosen.append((index, param, data))
        if self._update_on_kvstore:
            for _, param, data in chosen:     # the kvstore has updated the first copies
                for copy in param._copies:
                    copy._data[...] = data._data
            return
        update, states = self._optimizer.update, self._states
        for index, param, data in chosen:
            state = states.get(index, _MISSING)
            weight = data._data
            if state is _MISSING:
                state = states[index] = self._optimizer.create_state(index, weight)
            update(index, weight, data._grad._data, state)
            for copy in param._copies:      # the copies' gradients are the same sum
                copy._data[...] = weight
            param.mark_changed()

    def save_states(self, fname):
        """The optimizer's state arrays and update counts, as an .npz file (no pickles)."""
        self._kv.prepare()
        if self._update_on_kvstore:
            return self._kvstore.save_optimizer_states(fname)
        optimizer_states.save(fname, self._states, self._optimizer._index_update_count,
                              self._optimizer.num_update)

    def load_states(self, fname):
        self._kv.prepare()
        if self._update_on_kvstore:
            return self._kvstore.load_optimizer_states(fname)
        self._states, self._optimizer._index_update_count, self._optimizer.num_update = \
            optimizer_states.load(fname)
