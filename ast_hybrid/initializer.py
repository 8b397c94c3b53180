"""Initializers (`mx.init.*`): fill a parameter's numpy array in place."""
import numpy as np

from .ops.random_state import generator


class Initializer:
    def __call__(self, name, array):
        self._init_weight(name, array)

    def _init_weight(self, name, array):
        raise NotImplementedError(f"{type(self).__name__} does not initialize weights")

    def __repr__(self):
        return f"{type(self).__name__}()"

    def _kwargs(self):
        """The arguments it was made with, by name: what equality compares."""
        return {}

    def __eq__(self, other):
        # MXNet's rule: of one class and made with equal arguments
        if not isinstance(other, Initializer):
            return NotImplemented
        return type(self) is type(other) and self._kwargs() == other._kwargs()

    __hash__ = None      # equal initializers would need equal hashes of mutable arguments


class Zero(Initializer):
    def _init_weight(self, name, array):
        array[...] = 0


class One(Initializer):
    def _init_weight(self, name, array):
        array[...] = 1


class Constant(Initializer):
    def __init__(self, value):
        self.value = value

    def _kwargs(self):
        return {"value": self.value}

    def _init_weight(self, name, array):
        array[...] = np.asarray(self.value.asnumpy() if hasattr(self.value, "asnumpy")
                                else self.value)


class Uniform(Initializer):
    def __init__(self, scale=0.07):
        self.scale = scale

    def _kwargs(self):
        return {"scale": self.scale}

    def _init_weight(self, name, array):
        array[...] = generator().uniform(-self.scale, self.scale, array.shape)


class Normal(Initializer):
    def __init__(self, sigma=0.01):
        self.sigma = sigma

    def _kwargs(self):
        return {"sigma": self.sigma}

    def _init_weight(self, name, array):
        array[...] = generator().normal(0.0, self.sigma, array.shape)


class Xavier(Initializer):
    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        if rnd_type not in ("uniform", "gaussian") or factor_type not in ("avg", "in", "out"):
            raise ValueError(f"Xavier: bad rnd_type {rnd_type!r} or factor_type {factor_type!r}")
        self.rnd_type, self.factor_type, self.magnitude = rnd_type, factor_type, float(magnitude)

    def _kwargs(self):
        return {"rnd_type": self.rnd_type, "factor_type": self.factor_type,
                "magnitude": self.magnitude}

    def _init_weight(self, name, array):
        shape = array.shape
        if len(shape) < 2:
            raise ValueError(f"Xavier initializer needs at least 2 dimensions, {name} has {shape}")
        receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
        fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
        factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}[self.factor_type]
        scale = np.sqrt(self.magnitude / factor)
        if self.rnd_type == "uniform":
            array[...] = generator().uniform(-scale, scale, shape)
        else:
            array[...] = generator().normal(0, scale, shape)


class MSRAPrelu(Xavier):
    def __init__(self, factor_type="avg", slope=0.25):
        super().__init__("gaussian", factor_type, 2.0 / (1 + slope ** 2))
        self.slope = slope

    def _kwargs(self):
        return {"factor_type": self.factor_type, "slope": self.slope}


def create(init):
    """An Initializer from an instance, a class name ('xavier') or None."""
    if init is None or isinstance(init, Initializer):
        return init
    if isinstance(init, str):
        known = {cls.__name__.lower(): cls for cls in
                 (Zero, One, Uniform, Normal, Xavier, MSRAPrelu)}
        known.update(zeros=Zero, ones=One)
        if init.lower() in known:
            return known[init.lower()]()
    raise ValueError(f"unknown initializer {init!r}")
