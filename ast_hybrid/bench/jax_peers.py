"""The benchmark models as JAX functions under jax.jit, over the same weights (optional)."""
import os

import numpy as np

from .weights import dense_layers, param_arrays

# XLA's CPU back end runs on its own thread pool; one thread, as every peer
SINGLE_THREADED_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def enable_jax():
    """True where jax imports, its CPU back end set to one thread first (it reads XLA_FLAGS
    once, when it starts), and to run each call in the caller's thread where it can: every
    call the benchmark times is waited for, so asynchronous dispatch only adds a hand-off
    between threads (measured: 5 to 20% of the MLP's training step at batch 1)."""
    os.environ.setdefault("XLA_FLAGS", SINGLE_THREADED_XLA)
    try:
        import jax
    except ImportError:
        return False
    jax.config.update("jax_platforms", "cpu")
    if "jax_cpu_enable_async_dispatch" in jax.config.values:
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    return True


def jax_model(kind, net):
    """The model `kind` as a function of (its weights in `net.collect_params()` order, x)
    returning its output, for jax to transform."""
    import jax
    import jax.numpy as jnp
    from jax import lax

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

    return {"mlp": mlp, "lenet": lenet, "rnn": rnn, "residual": residual}[kind]


def jax_forward(kind, net):
    """The jitted forward of the same model with the same weights, a function of a numpy
    array returning a numpy array."""
    import jax
    import jax.numpy as jnp

    weights = [jnp.asarray(w) for w in param_arrays(net)]
    jitted = jax.jit(jax_model(kind, net))

    def forward(x):
        return np.asarray(jitted(weights, x))
    return forward


def jax_training(kind, net, x, labels, lr):
    """(step, checked_step): the library's SGD training step of the model as one jitted
    function of (weights, x, labels) returning (per-sample losses, updated weights), the
    weights kept on the device between steps and donated to the step that replaces them.
    `step()` is one step on the batch (x, integer labels), waited for; `checked_step()` is
    the same step, returning its (per-sample losses, gradients, updated weights) as numpy,
    the gradients from a second jitted function at the weights the step starts from."""
    import jax
    import jax.numpy as jnp

    model = jax_model(kind, net)
    scale = lr / x.shape[0]

    def total_loss(weights, xs, ys):
        """Softmax cross-entropy summed over the batch (what the library's backward
        differentiates), with the per-sample losses."""
        log_p = jax.nn.log_softmax(model(weights, xs))
        losses = -jnp.take_along_axis(log_p, ys[:, None], axis=1)[:, 0]
        return losses.sum(), losses

    def sgd_step(weights, xs, ys):
        (_, losses), grads = jax.value_and_grad(total_loss, has_aux=True)(weights, xs, ys)
        return losses, [w - scale * g for w, g in zip(weights, grads)]

    jitted = jax.jit(sgd_step, donate_argnums=0)
    gradient = jax.jit(jax.grad(lambda *args: total_loss(*args)[0]))
    xs, ys = jnp.asarray(x), jnp.asarray(labels.astype(np.int32))
    state = {"weights": [jnp.array(w) for w in param_arrays(net)]}

    def step():
        losses, state["weights"] = jitted(state["weights"], xs, ys)
        jax.block_until_ready(state["weights"])
        return losses

    def checked_step():
        # copies: a donated buffer is reused by the next step
        grads = [np.array(g) for g in gradient(state["weights"], xs, ys)]
        losses = np.array(step())
        return losses, grads, [np.array(w) for w in state["weights"]]
    return step, checked_step
