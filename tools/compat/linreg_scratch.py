"""Linear regression from scratch, as in d2l.ai's "Linear Regression Implementation from Scratch"."""
import random

import numpy as np
from mxnet import autograd, nd

rng = np.random.RandomState(42)
true_w = nd.array([2, -3.4])
true_b = 4.2


def synthetic_data(w, b, num_examples):
    """Generate y = Xw + b + noise."""
    X = nd.array(rng.normal(0, 1, (num_examples, len(w))))
    y = nd.dot(X, w) + b
    y += nd.array(rng.normal(0, 0.01, y.shape))
    return X, y.reshape((-1, 1))


features, labels = synthetic_data(true_w, true_b, 1000)
print('features:', features[0], '\nlabel:', labels[0])
print(features.shape, labels.shape, features.dtype)


def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    random.Random(0).shuffle(indices)
    for i in range(0, num_examples, batch_size):
        j = nd.array(indices[i: min(i + batch_size, num_examples)])
        yield features.take(j), labels.take(j)


batch_size = 10
for X, y in data_iter(batch_size, features, labels):
    print(X, '\n', y)
    break

w = nd.array(rng.normal(0, 0.01, (2, 1)))
b = nd.zeros(shape=(1,))
w.attach_grad()
b.attach_grad()


def linreg(X, w, b):
    return nd.dot(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    for param in params:
        param[:] = param - lr * param.grad / batch_size


lr = 0.03
num_epochs = 3
net = linreg
loss = squared_loss

for epoch in range(num_epochs):
    for X, y in data_iter(batch_size, features, labels):
        with autograd.record():
            l = loss(net(X, w, b), y)
        l.backward()
        sgd([w, b], lr, batch_size)
    train_l = loss(net(features, w, b), labels)
    # d2l writes train_l.mean().asnumpy() here: numpy 2 no longer formats a shape-(1,) array
    # with %f (README, How it differs), so the script takes the scalar
    print('epoch %d, loss %f' % (epoch + 1, train_l.mean().asscalar()))

print('w', w.reshape((1, -1)), 'b', b)
print('error in estimating w', true_w - w.reshape(true_w.shape))
print('error in estimating b', true_b - b)
print('%.4f %.4f %.4f' % (w[0].asscalar(), w[1].asscalar(), b.asscalar()))
