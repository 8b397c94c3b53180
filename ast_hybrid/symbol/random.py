"""sym.random: samplers as graph nodes."""
from ..ops.namespace import random_samplers
from .symbol import apply

globals().update(random_samplers(apply))
