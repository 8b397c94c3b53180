"""The update a kvstore applies to its stored values when given an optimizer (MXNet's Updater)."""
from .. import optimizer_states

_MISSING = object()


class Updater:
    """optimizer.update(key, weight, grad, state) on raw arrays, the state made on first use."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}

    def __call__(self, key, grad, weight):
        state = self.states.get(key, _MISSING)
        if state is _MISSING:
            state = self.states[key] = self.optimizer.create_state(key, weight)
        self.optimizer.update(key, weight, grad, state)

    def save(self, fname):
        """The states and update counts, in optimizer_states' file layout."""
        optimizer_states.save(fname, self.states, self.optimizer._index_update_count,
                              self.optimizer.num_update)

    def load(self, fname):
        self.states, self.optimizer._index_update_count, self.optimizer.num_update = \
            optimizer_states.load(fname)
