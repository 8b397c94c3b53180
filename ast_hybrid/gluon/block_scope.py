"""Block prefixes as MXNet 1.x gives them: counted per name scope, nested by name_scope()."""
import threading

from .. import name
from .parameter import ParameterDict


class _Current(threading.local):
    def __init__(self):
        self.scope = None
        self.entered = []       # (the scope replaced, the node-name prefix) per `with`


_current = _Current()


class BlockScope:
    """What `block.name_scope()` returns. Inside it, a new block's prefix is `block`'s
    prefix and the new block's hint counted in this scope (`net0_dense1_`), and its
    parameters are looked up in the dictionary `block`'s parameters share from, if any.
    Outside every scope, the hint is counted by the current mx.name manager (`dense3_`)."""

    def __init__(self, block):
        self._block = block
        self._counter = {}

    @staticmethod
    def create(prefix, params, hint):
        """(prefix, ParameterDict) of a new block given the constructor's `prefix` and
        `params` (a ParameterDict to share parameters from, by name)."""
        scope = _current.scope
        if scope is None:
            if prefix is None:
                prefix = name.current().get(None, hint) + "_"
            shared_prefix = prefix if params is None else params.prefix
            return prefix, ParameterDict(shared_prefix, params)
        if prefix is None:
            count = scope._counter.get(hint, 0)
            scope._counter[hint] = count + 1
            prefix = f"{hint}{count}_"
        if params is None:
            parent = scope._block.params
            params = ParameterDict(parent.prefix + prefix, parent._shared)
        else:
            params = ParameterDict(params.prefix, params)
        return scope._block.prefix + prefix, params

    def __enter__(self):
        # a block made with prefix='' names nothing: its children are named as its own
        # siblings would be, and so are the nodes of its graph
        if self._block._empty_prefix:
            return self
        node_names = name.Prefix(self._block.prefix)
        _current.entered.append((_current.scope, node_names))
        _current.scope = self
        node_names.__enter__()
        return self

    def __exit__(self, *exc_info):
        if self._block._empty_prefix:
            return
        replaced, node_names = _current.entered.pop()
        node_names.__exit__(*exc_info)
        _current.scope = replaced
