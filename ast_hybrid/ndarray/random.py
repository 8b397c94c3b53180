"""nd.random: samplers drawing from the table's random operators."""
from ..ops.namespace import random_samplers
from ..ops.random_state import seed as _seed
from .invoke import apply

globals().update(random_samplers(apply))


def seed(seed_state, ctx="all"):
    _seed(seed_state)
