"""Gluon: parameters, blocks and layers."""
from . import nn, utils
from . import rnn
from . import data, loss
from . import contrib, model_zoo
from .trainer import Trainer
from .block import Block, HybridBlock
from .parameter import Constant, DeferredInitializationError, Parameter, ParameterDict
from .symbol_block import SymbolBlock

__all__ = ["Block", "Constant", "contrib", "data", "DeferredInitializationError",
           "HybridBlock", "loss", "model_zoo", "nn", "Parameter", "ParameterDict", "rnn",
           "SymbolBlock", "Trainer", "utils"]
