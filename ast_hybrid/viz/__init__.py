"""MXNet 1.x's `mx.viz`: a network's layer table (print_summary) and its Graphviz drawing."""
from .plot import plot_network
from .summary import print_summary

__all__ = ["plot_network", "print_summary"]
