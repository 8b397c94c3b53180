"""The benchmark models as JAX functions under jax.jit, over the same weights (optional)."""
import os

import numpy as np

from .weights import dense_layers, param_arrays

# XLA's CPU back end runs on its own thread pool; one thread, as every peer
SINGLE_THREADED_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def enable_jax():
    """True where jax imports, its CPU back end set to one thread first (it reads XLA_FLAGS
    once, when it starts)."""
    os.environ.setdefault("XLA_FLAGS", SINGLE_THREADED_XLA)
    try:
        import jax
    except ImportError:
        return False
    jax.config.update("jax_platforms", "cpu")
    return True


def jax_forward(kind, net):
    """The jitted forward of the same model with the same weights, a function of a numpy
    array returning a numpy array."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    weights = [jnp.asarray(w) for w in param_arrays(net)]

    def dense(x, w, b):
        return x @ w.T + b

    def conv_relu(x, w, b):
        y = lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return jax.nn.relu(y + b[None, :, None, None])

    def max_pool(x):
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def mlp(ws, x):
        (w1, b1), (w2, b2), (w3, b3) = dense_layers(ws)
        return dense(jax.nn.relu(dense(jax.nn.relu(dense(x, w1, b1)), w2, b2)), w3, b3)

    def lenet(ws, x):
        x = max_pool(conv_relu(x, ws[0], ws[1]))
        x = max_pool(conv_relu(x, ws[2], ws[3])).reshape(x.shape[0], -1)
        return mlp(ws[4:], x)

    def rnn(ws, x):
        wx, bx, wh, bh = ws
        h = jnp.zeros((x.shape[0], wh.shape[0]), x.dtype)
        for t in range(net.steps):
            h = jnp.tanh(dense(x[:, t], wx, bx) + dense(h, wh, bh))
        return h

    def residual(ws, x):
        for w, b in dense_layers(ws):
            x = x + jax.nn.relu(dense(x, w, b))
        return x

    kinds = {"mlp": mlp, "lenet": lenet, "rnn": rnn, "residual": residual}
    jitted = jax.jit(kinds[kind])

    def forward(x):
        return np.asarray(jitted(weights, x))
    return forward
