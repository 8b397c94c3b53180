"""Neural-network layers (`gluon.nn`)."""
from .basic_layers import (Activation, Dense, Dropout, Flatten, HybridLambda, HybridSequential,
                           Lambda, Sequential)
