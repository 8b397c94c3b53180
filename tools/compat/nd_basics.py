"""NDArray basics in the style of d2l.ai's "Data Manipulation" (MXNet edition)."""
import os
import tempfile

import numpy as np
import mxnet as mx
from mxnet import nd

# creation
x = nd.arange(12)
print(x)
print(x.shape, x.size, x.dtype)
X = x.reshape((3, 4))
print(X)
print(nd.zeros((2, 3, 4)).shape, nd.ones((2, 3)).sum().asscalar())
print(nd.full((2, 2), 7))
print(nd.array([[2, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]]))
print(nd.zeros_like(X).shape, nd.ones_like(X).sum().asscalar())
print(nd.arange(2, 11, 3), nd.linspace(0, 1, 5))
print(nd.eye(3))

# arithmetic
x = nd.array([1, 2, 4, 8])
y = nd.ones_like(x) * 2
print(x + y, x - y, x * y, x / y, x ** y)
print(nd.exp(x))
print(nd.sqrt(x), nd.log(x), nd.abs(-x), nd.square(x))
print(x == y, x > y)
print((x + 1) * 2 - 3 / x, 1 / x, 2 ** x, 10 - x)
Y = nd.array([[2, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
print(nd.concat(X, Y, dim=0))
print(nd.concat(X, Y, dim=1))
print((X == Y).sum().asscalar(), X.sum())

# broadcasting
a = nd.arange(3).reshape((3, 1))
b = nd.arange(2).reshape((1, 2))
print(a + b)
print(nd.broadcast_add(a, b), nd.broadcast_mul(a, b))
print(nd.broadcast_to(b, shape=(3, 2)))

# indexing and slicing
print(X[-1], X[1:3])
X[1, 2] = 9
print(X)
X[0:2, :] = 12
print(X)
X[2] = nd.array([1, 2, 3, 4])
print(X)
print(X[:, 1], X[1:, 1:3])
print(X[nd.array([0, 2])])
z = nd.arange(24).reshape((2, 3, 4))
print(z[1, :, 2], z[:, 1])
z[:, :, 0] = -1
print(z)

# saving memory
before = id(Y)
Y = Y + X
print(id(Y) == before)
Z = Y.zeros_like()
before = id(Z)
Z[:] = X + Y
print(id(Z) == before)
before = id(X)
X += Y
print(id(X) == before)

# reductions
A = nd.arange(20).reshape((5, 4))
print(A.sum(), A.sum(axis=0), A.sum(axis=1), A.sum(axis=1, keepdims=True))
print(A.mean(), A.mean(axis=0), nd.mean(A, axis=1))
print(A.max(), A.min(axis=1), nd.prod(nd.array([1, 2, 3, 4])))
print(nd.norm(nd.array([3, -4])), nd.sum(nd.abs(nd.array([3, -4]))))
print(A.argmax(axis=1), nd.argmax(A, axis=0), nd.argmin(A, axis=1))
print(A / A.sum(axis=1, keepdims=True))

# reshape with special codes
B = nd.arange(24).reshape((2, 3, 4))
print(B.reshape((0, -1)).shape, B.reshape((-1, 4)).shape, B.reshape((6, -1)).shape)
print(B.reshape((-2,)).shape, B.reshape((0, 0, -1)).shape, B.reshape((-3, 4)).shape)
print(B.reshape((2, -4, 1, 3, 4)).shape, B.reshape((-1,)).shape)
print(B.flatten().shape, B.expand_dims(axis=1).shape, B.transpose().shape)
print(B.transpose((1, 0, 2)).shape, B.swapaxes(0, 2).shape, B.T.shape)
print(nd.expand_dims(B, axis=0).squeeze().shape, B.reshape_like(nd.zeros((4, 6))).shape)

# concat, stack, split
p, q = nd.ones((2, 3)), nd.zeros((2, 3))
print(nd.stack(p, q).shape, nd.stack(p, q, axis=1).shape, nd.concat(p, q).shape)
parts = nd.split(nd.arange(12).reshape((2, 6)), num_outputs=3, axis=1)
print(len(parts), [part.shape for part in parts])
print(parts[1])
halves = nd.arange(8).reshape((4, 2)).split(num_outputs=2, axis=0)
print(halves[0], halves[1])
print(nd.split(nd.arange(6).reshape((3, 2)), num_outputs=3, axis=0, squeeze_axis=True)[2])
print(nd.tile(nd.array([1, 2]), reps=(2, 2)), nd.repeat(nd.array([1, 2]), repeats=2))
print(nd.flip(nd.arange(4), axis=0), nd.where(nd.array([1, 0, 1]), nd.array([1, 2, 3]), nd.array([7, 8, 9])))

# dot and batch_dot
m = nd.arange(6).reshape((2, 3))
v = nd.array([1, 0, 2])
print(nd.dot(m, v), nd.dot(m, m.T), nd.dot(m, m, transpose_b=True))
print(nd.dot(m, m, transpose_a=True))
bx = nd.arange(12).reshape((2, 2, 3))
by = nd.arange(12).reshape((2, 3, 2))
print(nd.batch_dot(bx, by))
print(nd.batch_dot(bx, bx, transpose_b=True).shape)

# one_hot, pick, take, argmax, clip, astype
labels = nd.array([0, 2, 1])
print(nd.one_hot(labels, 3))
print(nd.one_hot(labels, depth=4, on_value=5, off_value=-1))
scores = nd.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.8, 0.1, 0.1]])
print(nd.pick(scores, labels), nd.pick(scores, labels, axis=1, keepdims=True))
print(scores.pick(nd.array([1, 1, 0])))
print(nd.take(scores, nd.array([2, 0])), nd.take(scores, nd.array([1]), axis=1))
emb = nd.arange(10).reshape((5, 2))
print(nd.Embedding(nd.array([4, 0]), emb, input_dim=5, output_dim=2))
print(scores.argmax(axis=1), nd.argmax(scores, axis=1).astype('int32'))
print(nd.topk(scores, k=2), nd.sort(nd.array([3, 1, 2])), nd.argsort(nd.array([3, 1, 2])))
print(nd.clip(nd.array([-2, 0.5, 3]), -1, 1), nd.array([-2, 0.5, 3]).clip(0, 2))
i = nd.array([1.7, -2.2, 3.5]).astype('int32')
print(i, i.dtype, i.astype(np.float64).dtype, nd.array([1, 2], dtype='float16').dtype)
print(nd.floor(nd.array([1.5, -1.5])), nd.ceil(nd.array([1.5, -1.5])), nd.round(nd.array([1.4, 2.6])))
print(nd.sign(nd.array([-3, 0, 2])), nd.maximum(nd.array([1, 5]), nd.array([3, 2])), nd.minimum(nd.array([1, 5]), 3))
print(nd.relu(nd.array([-1, 2])), nd.sigmoid(nd.array([0])), nd.tanh(nd.array([0, 1])))
print(nd.softmax(nd.array([[1, 2, 3]])), nd.log_softmax(nd.array([[1, 2, 3]])))

# conversion
n = X.asnumpy()
print(type(n).__name__, n.dtype, n.sum())
print(type(nd.array(n)).__name__, nd.array(n).shape)
s = nd.array([3.5])
print(s.asscalar(), float(s.asscalar()), int(nd.array([4]).asscalar()), s.asnumpy()[0])
print(nd.array(np.arange(4, dtype=np.int64)).dtype, nd.array([1, 2, 3]).dtype)
print(X.context, mx.cpu(), X.copyto(mx.cpu()).shape, X.as_in_context(mx.cpu()).shape)
print(X.copy().sum().asscalar(), len(nd.arange(5)), X.ndim)

# random with a fixed seed gives some shape, values not compared across libraries
mx.random.seed(1)
r = nd.random.normal(0, 1, shape=(2, 3))
u = nd.random.uniform(-1, 1, shape=(4,))
print(r.shape, u.shape, bool((u >= -1).min().asscalar()), bool((u <= 1).min().asscalar()))

# save and load
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, 'x-file')
    nd.save(path, nd.arange(4))
    print(nd.load(path))
    nd.save(path, [nd.arange(3), nd.ones((2,))])
    print(nd.load(path))
    nd.save(path, {'x': nd.arange(3), 'y': nd.zeros((1, 2))})
    loaded = nd.load(path)
    print(sorted(loaded), loaded['x'], loaded['y'].shape)
