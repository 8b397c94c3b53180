"""Neural-network layers (`gluon.nn`)."""
from .activations import ELU, GELU, LeakyReLU, PReLU, SELU, Swish
from .basic_layers import (Activation, BatchNorm, Dense, Dropout, Embedding, Flatten,
                           HybridLambda, HybridSequential, Lambda, LayerNorm, Sequential)
from .conv_layers import (AvgPool1D, AvgPool2D, AvgPool3D, Conv1D, Conv2D, Conv3D,
                          GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D,
                          GlobalMaxPool2D, GlobalMaxPool3D, MaxPool1D, MaxPool2D, MaxPool3D)
from ..block import Block, HybridBlock  # noqa: F401  (MXNet scripts use nn.HybridBlock)

__all__ = ["Activation", "AvgPool1D", "AvgPool2D", "AvgPool3D", "BatchNorm", "Conv1D",
           "Conv2D", "Conv3D", "Dense", "Dropout", "ELU", "Embedding", "Flatten", "GELU",
           "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D",
           "GlobalMaxPool2D", "GlobalMaxPool3D", "HybridLambda", "HybridSequential", "Lambda",
           "LayerNorm", "LeakyReLU", "MaxPool1D", "MaxPool2D", "MaxPool3D", "PReLU", "SELU",
           "Sequential", "Swish"]
