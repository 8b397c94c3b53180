"""A Gluon net's parameter values as numpy arrays, read once by the hand-written twins."""


def param_arrays(net):
    """The parameters' values as numpy arrays, in the order collect_params lists them."""
    return [p.data().asnumpy() for p in net.collect_params().values()]


def dense_layers(arrays):
    """(weight, bias) pairs of consecutive Dense layers, from their arrays in order."""
    return [(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]
