"""`mx.random`: nd.random's samplers (`mx.random.uniform(0, 1, shape=(2, 3))`, as in MXNet
1.x, where they are the same functions) and seeding the generator behind every sampler,
initializer and Dropout."""
from .ndarray.random import normal, randn, seed, uniform

__all__ = ["normal", "randn", "seed", "uniform"]
