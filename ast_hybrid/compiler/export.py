"""Export: the block's graph from the trace front end, written as JSON, and its parameters."""
import numpy as np

from ..base import MXNetError
from ..ndarray import NDArray
from ..model_pair import write_pair
from .entry import ARRAY
from .trace import trace


def export_block(block, path, epoch=0):
    key = block._program_cache.last_key
    if key is None:
        raise MXNetError(f"{type(block).__name__}.export: call hybridize() and run the network "
                         "once first, so its inputs are known")
    args = [NDArray(np.zeros((1,), np.float32)) if part is ARRAY else part[2] for part in key]
    traced = trace(block, args)
    graph = traced.symbol
    aux = set(graph.list_auxiliary_states())
    arrays = {}
    for name, param in traced.params.items():
        arrays[("aux:" if name in aux else "arg:") + name] = param.data().asnumpy()
    symbol_file, params_file = f"{path}-symbol.json", "%s-%04d.params" % (path, epoch)
    write_pair(graph, symbol_file, arrays, params_file)
    return symbol_file, params_file
