"""The one random generator behind every sampler and Dropout; `ast_hybrid.random.seed` resets it."""
import numpy as np

_state = {"generator": np.random.default_rng()}


def generator():
    return _state["generator"]


def seed(seed_state):
    _state["generator"] = np.random.default_rng(seed_state)
