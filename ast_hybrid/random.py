"""`mx.random`: seeding the generator behind every sampler, initializer and Dropout."""
from .ops.random_state import seed as _seed


def seed(seed_state, ctx="all"):
    _seed(seed_state)
