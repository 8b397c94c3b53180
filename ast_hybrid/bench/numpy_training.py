"""One SGD training step of the benchmark models, hand-written in plain numpy."""
import numpy as np

from .numpy_forward import im2col_nhwc, maxpool2_nhwc
from .weights import dense_layers, param_arrays

# The step the benchmark's training rows time in the library: forward, softmax cross-entropy
# summed over the batch (what `loss.backward()` differentiates), its gradient, backward
# through the layers, then `w -= (lr / batch) * grad` (gluon.Trainer with 'sgd',
# step(batch)) through a scratch buffer per weight. Each builder copies the net's weights
# once and returns a TrainStep whose own weights the steps update in place.


def _softmax_ce_grad(z, labels):
    """Softmax cross-entropy of logits z (N, K) against integer labels: (per-sample losses,
    gradient of their sum w.r.t. z). Overwrites z."""
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    total = z.sum(axis=1, keepdims=True)
    rows = np.arange(z.shape[0])
    loss = np.log(total[:, 0]) - np.log(z[rows, labels])
    z /= total
    z[rows, labels] -= 1
    return loss, z


def _weight_grad(d, a, out):
    """d.T @ a into out through np.dot, which hands BLAS the transposed view without the
    copy np.matmul makes of it (several times faster with one sample)."""
    return np.dot(d.T, a, out=out)


class TrainStep:
    """A hand-written training step. `weights()` and `grads()` give its current weights and
    the last step's gradients as numpy arrays in the library's layout and in
    `net.collect_params()` order; `step(x, labels)` returns the per-sample losses."""

    def __init__(self, step, weights, grads):
        self.step = step
        self.weights = weights
        self.grads = grads


def numpy_train_mlp(net, lr):
    w = [a.copy() for a in param_arrays(net)]
    g = [np.zeros_like(a) for a in w]
    scratch = [np.empty_like(a) for a in w]
    w1, b1, w2, b2, w3, b3 = w
    g1, gb1, g2, gb2, g3, gb3 = g

    def step(x, labels):
        scale = lr / x.shape[0]
        h1 = x @ w1.T
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w2.T
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ w3.T
        z += b3
        loss, dz = _softmax_ce_grad(z, labels)
        _weight_grad(dz, h2, g3)
        np.sum(dz, axis=0, out=gb3)
        d2 = dz @ w3
        d2 *= h2 > 0
        _weight_grad(d2, h1, g2)
        np.sum(d2, axis=0, out=gb2)
        d1 = d2 @ w2
        d1 *= h1 > 0
        _weight_grad(d1, x, g1)
        np.sum(d1, axis=0, out=gb1)
        for p, gp, tmp in zip(w, g, scratch):
            p -= np.multiply(gp, scale, out=tmp)
        return loss
    return TrainStep(step, lambda: w, lambda: g)


def _col2im_nhwc(dcols, shape, k):
    """The adjoint of im2col_nhwc: scatter-add (N*P, K*K*C) columns into (N,H,W,C)."""
    n, height, width, c = shape
    oh, ow = height - k + 1, width - k + 1
    d = dcols.reshape(n, oh, ow, k, k, c)
    dx = np.zeros(shape, dcols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, i:i + oh, j:j + ow] += d[:, :, :, i, j]
    return dx


def _maxpool2_backward_nhwc(x, pooled, dpool):
    """Gradient of 2x2 max pooling: each window's gradient to its first maximum."""
    dx = np.zeros_like(x)
    free = np.ones(pooled.shape, bool)
    for a in (0, 1):
        for b in (0, 1):
            hit = x[:, a::2, b::2] == pooled
            hit &= free
            free &= ~hit
            dx[:, a::2, b::2] = dpool * hit
    return dx


def numpy_train_lenet(net, lr):
    """Channel-last inside as numpy_lenet; the weights are kept (and updated) in that layout,
    and converted back to the library's only when asked for."""
    w = param_arrays(net)
    c1w, c1b, c2w, c2b = (a.copy() for a in w[:4])
    (d1w, d1b), (d2w, d2b), (d3w, d3b) = dense_layers([a.copy() for a in w[4:]])
    k, f1, f2 = c1w.shape[-1], c1w.shape[0], c2w.shape[0]
    c1shape, c2shape = c1w.shape, c2w.shape
    side = int(round((d1w.shape[1] // f2) ** 0.5))
    units = d1w.shape[0]
    c1 = np.ascontiguousarray(c1w.transpose(2, 3, 1, 0).reshape(-1, f1))
    c2 = np.ascontiguousarray(c2w.transpose(2, 3, 1, 0).reshape(-1, f2))
    d1 = np.ascontiguousarray(
        d1w.reshape(units, f2, side, side).transpose(0, 2, 3, 1).reshape(units, -1))
    w_own = [c1, c1b, c2, c2b, d1, d1b, d2w, d2b, d3w, d3b]
    g_own = [np.zeros_like(a) for a in w_own]
    scratch = [np.empty_like(a) for a in w_own]

    def conv_relu(h, wk, b):
        cols = im2col_nhwc(h, k)
        out = cols @ wk
        out += b
        np.maximum(out, 0, out=out)
        n, height, width, _ = h.shape
        return cols, out.reshape(n, height - k + 1, width - k + 1, -1)

    def step(x, labels):
        n = x.shape[0]
        scale = lr / n
        gc1, gc1b, gc2, gc2b, gd1, gd1b, gd2, gd2b, gd3, gd3b = g_own
        x0 = x.transpose(0, 2, 3, 1)
        cols1, a1 = conv_relu(x0, c1, c1b)
        p1 = maxpool2_nhwc(a1)
        cols2, a2 = conv_relu(p1, c2, c2b)
        p2 = maxpool2_nhwc(a2)
        flat = p2.reshape(n, -1)
        h1 = flat @ d1.T
        h1 += d1b
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ d2w.T
        h2 += d2b
        np.maximum(h2, 0, out=h2)
        z = h2 @ d3w.T
        z += d3b
        loss, dz = _softmax_ce_grad(z, labels)
        np.matmul(dz.T, h2, out=gd3)
        np.sum(dz, axis=0, out=gd3b)
        dh2 = dz @ d3w
        dh2 *= h2 > 0
        np.matmul(dh2.T, h1, out=gd2)
        np.sum(dh2, axis=0, out=gd2b)
        dh1 = dh2 @ d2w
        dh1 *= h1 > 0
        np.matmul(dh1.T, flat, out=gd1)
        np.sum(dh1, axis=0, out=gd1b)
        dp2 = (dh1 @ d1).reshape(p2.shape)
        da2 = _maxpool2_backward_nhwc(a2, p2, dp2)
        da2 *= a2 > 0
        da2 = da2.reshape(-1, f2)
        np.matmul(cols2.T, da2, out=gc2)
        np.sum(da2, axis=0, out=gc2b)
        dp1 = _col2im_nhwc(da2 @ c2.T, p1.shape, k)
        da1 = _maxpool2_backward_nhwc(a1, p1, dp1)
        da1 *= a1 > 0
        da1 = da1.reshape(-1, f1)
        np.matmul(cols1.T, da1, out=gc1)
        np.sum(da1, axis=0, out=gc1b)
        for p, gp, tmp in zip(w_own, g_own, scratch):
            p -= np.multiply(gp, scale, out=tmp)
        return loss

    def library_layout(arrays):
        a_c1, a_c1b, a_c2, a_c2b, a_d1, *rest = arrays
        kh = kw = k
        conv1 = a_c1.reshape(kh, kw, c1shape[1], f1).transpose(3, 2, 0, 1)
        conv2 = a_c2.reshape(kh, kw, c2shape[1], f2).transpose(3, 2, 0, 1)
        dense1 = a_d1.reshape(units, side, side, f2).transpose(0, 3, 1, 2).reshape(units, -1)
        return [conv1, a_c1b, conv2, a_c2b, dense1, *rest]

    return TrainStep(step, lambda: library_layout(w_own), lambda: library_layout(g_own))
