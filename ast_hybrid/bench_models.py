"""The benchmark's models: Gluon definitions, inputs, and the same models hand-written in plain
numpy (and, optionally, PyTorch) over the very same weights.

Every reference builder takes the initialized Gluon net, reads its weights once through
`net.collect_params()` -> `param.data().asnumpy()`, and returns a function of the input
numpy array. The numpy references are what a careful person writes by hand: weights read
once, `x @ W.T` (BLAS takes the transposed view without a copy), bias adds and activations in
place on temporaries, im2col through a strided view for convolutions.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import nd
from .gluon import nn
from .gluon.block import HybridBlock


# ----------------------------------------------------------------------------- Gluon models
class RNNCell(HybridBlock):
    """A simple recurrent cell unrolled over `steps` time steps by a Python `for` loop:
    h = tanh(dense_x(x_t) + dense_h(h)), h starting at zero."""

    def __init__(self, steps=20, hidden=64, in_units=32, **kwargs):
        super().__init__(**kwargs)
        self.steps = steps
        self.dense_x = nn.Dense(hidden, in_units=in_units)
        self.dense_h = nn.Dense(hidden, in_units=hidden)

    def hybrid_forward(self, F, x):
        for t in range(self.steps):
            a = self.dense_x(F.slice_axis(x, axis=1, begin=t, end=t + 1))
            if t == 0:
                h = F.zeros_like(a)     # h starts at zero (shaped without an extra product)
            h = F.tanh(a + self.dense_h(h))
        return h


class ResidualBlock(HybridBlock):
    """x + Dense(units, relu)(x)."""

    def __init__(self, units=64, **kwargs):
        super().__init__(**kwargs)
        self.dense = nn.Dense(units, activation="relu", in_units=units)

    def hybrid_forward(self, F, x):
        return x + self.dense(x)


def mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(256, activation="relu", in_units=512),
            nn.Dense(128, activation="relu", in_units=256),
            nn.Dense(2, in_units=128))
    return net


def lenet():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, 5, activation="relu", in_channels=1), nn.MaxPool2D(2),
            nn.Conv2D(16, 5, activation="relu", in_channels=6), nn.MaxPool2D(2),
            nn.Dense(120, activation="relu", in_units=256),
            nn.Dense(84, activation="relu", in_units=120),
            nn.Dense(10, in_units=84))
    return net


def rnn():
    return RNNCell(steps=20, hidden=64, in_units=32)


def residual(blocks):
    net = nn.HybridSequential()
    for _ in range(blocks):
        net.add(ResidualBlock(64))
    return net


# ------------------------------------------------------------------------ numpy references
def _weights(net):
    """The parameters' values as numpy arrays, in the order collect_params lists them."""
    return [p.data().asnumpy() for p in net.collect_params().values()]


def _dense_layers(weights):
    return [(weights[i], weights[i + 1]) for i in range(0, len(weights), 2)]


def numpy_mlp(net):
    (w1, b1), (w2, b2), (w3, b3) = _dense_layers(_weights(net))

    def forward(x):
        h = x @ w1.T
        h += b1
        np.maximum(h, 0, out=h)
        h2 = h @ w2.T
        h2 += b2
        np.maximum(h2, 0, out=h2)
        out = h2 @ w3.T
        out += b3
        return out
    return forward


def _conv_relu_nhwc(x, w2d, b, k):
    """Valid k x k stride-1 convolution + bias + relu on channel-last data through im2col:
    (N,H,W,C) -> (N,H',W',F); `w2d` is the weight as (K*K*C, F)."""
    n, height, width, c = x.shape
    oh, ow = height - k + 1, width - k + 1
    s = x.strides
    cols = as_strided(x, (n, oh, ow, k, k, c), (s[0], s[1], s[2], s[1], s[2], s[3]),
                      writeable=False).reshape(n * oh * ow, k * k * c)
    out = cols @ w2d             # (N*P, F): already channel-last, no transpose back
    out += b
    np.maximum(out, 0, out=out)
    return out.reshape(n, oh, ow, -1)


def _maxpool2_nhwc(x):
    top = np.maximum(x[:, 0::2, 0::2], x[:, 0::2, 1::2])
    return np.maximum(top, np.maximum(x[:, 1::2, 0::2], x[:, 1::2, 1::2]), out=top)


def numpy_lenet(net):
    """Channel-last inside (im2col needs no transposes, 2x2 pooling is 3 maxima of strided
    views); the weights are rearranged once to match, as any hand port would."""
    w = _weights(net)
    c1w, c1b, c2w, c2b = w[:4]
    (d1w, d1b), (d2w, d2b), (d3w, d3b) = _dense_layers(w[4:])
    k = c1w.shape[-1]
    # (F, C, kh, kw) -> (kh*kw*C, F)
    c1 = np.ascontiguousarray(c1w.transpose(2, 3, 1, 0).reshape(-1, c1w.shape[0]))
    c2 = np.ascontiguousarray(c2w.transpose(2, 3, 1, 0).reshape(-1, c2w.shape[0]))
    # Dense(120) flattens (C, H, W); reorder its input columns to (H, W, C)
    f = c2w.shape[0]
    side = int(round((d1w.shape[1] // f) ** 0.5))
    d1 = np.ascontiguousarray(
        d1w.reshape(d1w.shape[0], f, side, side).transpose(0, 2, 3, 1).reshape(d1w.shape[0], -1))

    def forward(x):
        h = x.transpose(0, 2, 3, 1)          # (N,1,H,W) -> (N,H,W,1): a view
        h = _maxpool2_nhwc(_conv_relu_nhwc(h, c1, c1b, k))
        h = _maxpool2_nhwc(_conv_relu_nhwc(h, c2, c2b, k))
        h = h.reshape(h.shape[0], -1) @ d1.T
        h += d1b
        np.maximum(h, 0, out=h)
        h2 = h @ d2w.T
        h2 += d2b
        np.maximum(h2, 0, out=h2)
        out = h2 @ d3w.T
        out += d3b
        return out
    return forward


def numpy_rnn(net):
    wx = net.dense_x.weight.data().asnumpy()
    bx = net.dense_x.bias.data().asnumpy()
    wh = net.dense_h.weight.data().asnumpy()
    bh = net.dense_h.bias.data().asnumpy()
    steps = net.steps

    def forward(x):
        h = np.zeros((x.shape[0], wh.shape[0]), dtype=x.dtype)
        for t in range(steps):
            a = x[:, t] @ wx.T
            a += bx
            a += h @ wh.T
            a += bh
            h = np.tanh(a, out=a)
        return h
    return forward


def numpy_residual(net):
    layers = _dense_layers(_weights(net))

    def forward(x):
        for w, b in layers:
            h = x @ w.T
            h += b
            np.maximum(h, 0, out=h)
            h += x
            x = h
        return x
    return forward


# ------------------------------------------------------------------ numpy training steps
# One SGD training step by hand, as the benchmark's training rows time it in the library:
# forward, softmax cross-entropy summed over the batch (what `loss.backward()` differentiates),
# its gradient, backward through the layers, then `w -= (lr / batch) * grad` (gluon.Trainer
# with 'sgd', step(batch)) through a scratch buffer per weight. Each builder copies the
# net's weights once and returns a TrainStep whose own weights the steps update in place.
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
    w = [a.copy() for a in _weights(net)]
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


def _im2col_nhwc(x, k):
    n, height, width, c = x.shape
    oh, ow = height - k + 1, width - k + 1
    s = x.strides
    return as_strided(x, (n, oh, ow, k, k, c), (s[0], s[1], s[2], s[1], s[2], s[3]),
                      writeable=False).reshape(n * oh * ow, k * k * c)


def _col2im_nhwc(dcols, shape, k):
    """The adjoint of _im2col_nhwc: scatter-add (N*P, K*K*C) columns into (N,H,W,C)."""
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
    w = _weights(net)
    c1w, c1b, c2w, c2b = (a.copy() for a in w[:4])
    (d1w, d1b), (d2w, d2b), (d3w, d3b) = _dense_layers([a.copy() for a in w[4:]])
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
        cols = _im2col_nhwc(h, k)
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
        p1 = _maxpool2_nhwc(a1)
        cols2, a2 = conv_relu(p1, c2, c2b)
        p2 = _maxpool2_nhwc(a2)
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


# -------------------------------------------------------------------------- torch peers
def torch_forward(kind, net):
    """(eager, torchscript) forwards of the same model in PyTorch with the same weights, each
    a function of a numpy array returning a numpy array; raises ImportError without torch."""
    import torch
    from torch import nn as tnn
    from torch.nn import functional as tF

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a))

    def linears(weights):
        out = []
        for w, b in _dense_layers(weights):
            lin = tnn.Linear(w.shape[1], w.shape[0])
            lin.weight.data = t(w)
            lin.bias.data = t(b)
            out.append(lin)
        return out

    weights = _weights(net)
    if kind == "mlp":
        a, b, c = linears(weights)
        module = tnn.Sequential(a, tnn.ReLU(), b, tnn.ReLU(), c)
    elif kind == "lenet":
        conv1, conv2 = tnn.Conv2d(1, 6, 5), tnn.Conv2d(6, 16, 5)
        conv1.weight.data, conv1.bias.data = t(weights[0]), t(weights[1])
        conv2.weight.data, conv2.bias.data = t(weights[2]), t(weights[3])
        d1, d2, d3 = linears(weights[4:])
        module = tnn.Sequential(conv1, tnn.ReLU(), tnn.MaxPool2d(2), conv2, tnn.ReLU(),
                                tnn.MaxPool2d(2), tnn.Flatten(), d1, tnn.ReLU(), d2,
                                tnn.ReLU(), d3)
    elif kind == "rnn":
        dx, dh = linears([p.data().asnumpy() for p in
                          (net.dense_x.weight, net.dense_x.bias, net.dense_h.weight,
                           net.dense_h.bias)])

        class Cell(tnn.Module):
            def __init__(self, steps):
                super().__init__()
                self.dx, self.dh, self.steps = dx, dh, steps

            def forward(self, x):
                h = torch.zeros(x.shape[0], self.dh.out_features, dtype=x.dtype)
                for i in range(self.steps):
                    h = torch.tanh(self.dx(x[:, i]) + self.dh(h))
                return h
        module = Cell(net.steps)
    elif kind == "residual":
        lins = linears(weights)

        class Res(tnn.Module):
            def __init__(self):
                super().__init__()
                self.layers = tnn.ModuleList(lins)

            def forward(self, x):
                for lin in self.layers:
                    x = x + tF.relu(lin(x))
                return x
        module = Res()
    else:
        raise ValueError(kind)
    module.eval()
    scripted = torch.jit.script(module)

    def wrap(m):
        def forward(x):
            with torch.no_grad():
                return m(torch.from_numpy(x)).numpy()
        return forward
    return wrap(module), wrap(scripted)


# --------------------------------------------------------------------------- the catalog
# name -> (kind, gluon builder, numpy reference builder, input shape, description)
MODELS = {
    "mlp1": ("mlp", mlp, numpy_mlp, (1, 512), "MLP 512-256-128-2, batch 1"),
    "mlp256": ("mlp", mlp, numpy_mlp, (256, 512), "MLP 512-256-128-2, batch 256"),
    "lenet1": ("lenet", lenet, numpy_lenet, (1, 1, 28, 28), "LeNet, batch 1"),
    "lenet64": ("lenet", lenet, numpy_lenet, (64, 1, 28, 28), "LeNet, batch 64"),
    "rnn1": ("rnn", rnn, numpy_rnn, (1, 20, 32), "RNN cell x20 steps, batch 1"),
    "res50": ("residual", lambda: residual(50), numpy_residual, (1, 64),
              "residual MLP 50 blocks, batch 1"),
}

# models whose first hybridized call is measured but not the steady state
FIRST_CALL_ONLY = {
    "res200": ("residual", lambda: residual(200), numpy_residual, (1, 64),
               "residual MLP 200 blocks"),
}


# training-step rows: name -> (forward model of MODELS, numpy training-step builder,
# number of classes)
TRAIN_MODELS = {
    "mlp1": ("mlp1", numpy_train_mlp, 2),
    "mlp256": ("mlp256", numpy_train_mlp, 2),
    "lenet64": ("lenet64", numpy_train_lenet, 10),
}


def make_labels(name, seed=0):
    """Integer class labels for a training row's batch, as a numpy int array."""
    model, _, classes = TRAIN_MODELS[name]
    batch = MODELS[model][3][0]
    return np.random.RandomState(seed + 1).randint(0, classes, size=batch)


def make(name, seed=0):
    """(net, x as NDArray, x as numpy) for a model of MODELS or FIRST_CALL_ONLY, initialized
    with a fixed seed (parameters created eagerly, never deferred)."""
    from . import random as mx_random
    spec = MODELS.get(name) or FIRST_CALL_ONLY[name]
    mx_random.seed(seed)
    net = spec[1]()
    net.initialize()
    x = np.random.RandomState(seed).standard_normal(spec[3]).astype(np.float32)
    return net, nd.array(x), x


def copy_params(src, dst):
    """Give `dst` (same architecture) the very same parameter values as `src`."""
    # same architecture, other names (dense0_ and dense3_): matched in collect_params' order
    for source, target in zip(src.collect_params().values(), dst.collect_params().values()):
        target.set_data(source.data())
