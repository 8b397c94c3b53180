"""Recurrent layers and cells, as MXNet 1.x's `gluon.rnn`."""
from .rnn_cell import (GRUCell, HybridRecurrentCell, HybridSequentialRNNCell, LSTMCell,
                       RecurrentCell, RNNCell, SequentialRNNCell)
from .rnn_layer import GRU, LSTM, RNN

__all__ = ["GRU", "GRUCell", "HybridRecurrentCell", "HybridSequentialRNNCell", "LSTM",
           "LSTMCell", "RecurrentCell", "RNN", "RNNCell", "SequentialRNNCell"]
