"""Predefined models (`gluon.model_zoo`): the vision architectures MXNet 1.x ships."""
from . import model_store, vision

__all__ = ["model_store", "vision"]
