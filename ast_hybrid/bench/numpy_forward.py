"""The benchmark models' forwards hand-written in plain numpy: the limit of a numpy back end."""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .weights import dense_layers, param_arrays

# Each builder takes the initialized Gluon net, reads its weights once and returns a function
# of the input numpy array. They are what a careful person writes by hand, so that the ratio
# to them measures the library's overhead and nothing else: `x @ W.T` (BLAS takes the
# transposed view without a copy), bias adds and activations in place on temporaries, im2col
# through a strided view for convolutions.


def numpy_mlp(net):
    (w1, b1), (w2, b2), (w3, b3) = dense_layers(param_arrays(net))

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


def im2col_nhwc(x, k):
    """The k x k windows of channel-last (N,H,W,C) data as (N*H'*W', K*K*C) rows: a strided
    view, copied once by the reshape."""
    n, height, width, c = x.shape
    oh, ow = height - k + 1, width - k + 1
    s = x.strides
    return as_strided(x, (n, oh, ow, k, k, c), (s[0], s[1], s[2], s[1], s[2], s[3]),
                      writeable=False).reshape(n * oh * ow, k * k * c)


def _conv_relu_nhwc(x, w2d, b, k):
    """Valid k x k stride-1 convolution + bias + relu on channel-last data through im2col:
    (N,H,W,C) -> (N,H',W',F); `w2d` is the weight as (K*K*C, F)."""
    n, height, width, _ = x.shape
    cols = im2col_nhwc(x, k)
    out = cols @ w2d             # (N*P, F): already channel-last, no transpose back
    out += b
    np.maximum(out, 0, out=out)
    return out.reshape(n, height - k + 1, width - k + 1, -1)


def maxpool2_nhwc(x):
    top = np.maximum(x[:, 0::2, 0::2], x[:, 0::2, 1::2])
    return np.maximum(top, np.maximum(x[:, 1::2, 0::2], x[:, 1::2, 1::2]), out=top)


def numpy_lenet(net):
    """Channel-last inside (im2col needs no transposes, 2x2 pooling is 3 maxima of strided
    views); the weights are rearranged once to match, as any hand port would."""
    w = param_arrays(net)
    c1w, c1b, c2w, c2b = w[:4]
    (d1w, d1b), (d2w, d2b), (d3w, d3b) = dense_layers(w[4:])
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
        h = maxpool2_nhwc(_conv_relu_nhwc(h, c1, c1b, k))
        h = maxpool2_nhwc(_conv_relu_nhwc(h, c2, c2b, k))
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
    layers = dense_layers(param_arrays(net))

    def forward(x):
        for w, b in layers:
            h = x @ w.T
            h += b
            np.maximum(h, 0, out=h)
            h += x
            x = h
        return x
    return forward
