"""ast_hybrid: MXNet Gluon's API on numpy, whose hybridize() compiles hybrid_forward's source."""
from . import autograd, context, initializer, lr_scheduler, metric, ndarray, random, symbol
from . import initializer as init
from . import ndarray as nd
from . import symbol as sym
from . import base, errors, gluon, name, test_utils
from . import contrib, util
from . import kvstore
from . import kvstore as kv
from . import onnx, viz
from .base import MXNetError
from .context import Context, cpu, current_context, gpu, num_gpus
from .compiler.ast_front_end import hybrid, to_source

__version__ = "0.1.0"

__all__ = ["autograd", "base", "context", "Context", "contrib", "cpu", "current_context", "errors",
           "gluon", "gpu", "hybrid", "init", "initializer", "kv", "kvstore", "lr_scheduler",
           "metric", "MXNetError", "name", "nd", "ndarray", "num_gpus", "onnx", "random", "sym",
           "symbol", "test_utils", "to_source", "util", "viz"]
