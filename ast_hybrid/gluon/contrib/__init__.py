"""Contributed blocks (`gluon.contrib`), as MXNet 1.x ships them."""
from . import nn, rnn

__all__ = ["nn", "rnn"]
