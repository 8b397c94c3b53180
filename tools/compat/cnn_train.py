"""A small CNN (LeNet-like with BatchNorm), as in d2l.ai's "Convolutional Neural Networks" chapter."""
import numpy as np
import mxnet as mx
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import nn

rng = np.random.RandomState(5)


def corr2d(X, K):
    """2-D cross-correlation, from scratch."""
    h, w = K.shape
    Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
    return Y


X = nd.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
K = nd.array([[0, 1], [2, 3]])
print(corr2d(X, K))

# learning an edge-detection kernel
X = nd.ones((6, 8))
X[:, 2:6] = 0
K = nd.array([[1, -1]])
Y = corr2d(X, K)
conv2d = nn.Conv2D(1, kernel_size=(1, 2), use_bias=False)
conv2d.initialize(init.Constant(0.3))
X = X.reshape((1, 1, 6, 8))
Y = Y.reshape((1, 1, 6, 7))
for i in range(10):
    with autograd.record():
        Y_hat = conv2d(X)
        l = (Y_hat - Y) ** 2
    l.backward()
    conv2d.weight.data()[:] -= 3e-2 * conv2d.weight.grad()
    if (i + 1) % 2 == 0:
        print('batch %d, loss %.3f' % (i + 1, l.sum().asscalar()))
print(conv2d.weight.data().reshape((1, 2)))

# padding, stride, channels, pooling
def comp_conv2d(conv2d, X):
    conv2d.initialize(init.Constant(0.1))
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    return Y.reshape(Y.shape[2:])


X = nd.array(rng.uniform(size=(8, 8)))
print(comp_conv2d(nn.Conv2D(1, kernel_size=3, padding=1), X).shape)
print(comp_conv2d(nn.Conv2D(1, kernel_size=(5, 3), padding=(2, 1)), X).shape)
print(comp_conv2d(nn.Conv2D(1, kernel_size=3, padding=1, strides=2), X).shape)
print(comp_conv2d(nn.Conv2D(1, kernel_size=(3, 5), padding=(0, 1), strides=(3, 4)), X).shape)
X = nd.arange(16).reshape((1, 1, 4, 4))
print(nn.MaxPool2D(3)(X), nn.MaxPool2D(3, padding=1, strides=2)(X))
print(nn.AvgPool2D((2, 3), padding=(1, 2), strides=(2, 3))(X))
X = nd.concat(X, X + 1, dim=1)
print(nn.MaxPool2D(3, padding=1, strides=2)(X).shape, nn.GlobalAvgPool2D()(X).reshape((-1,)))
print(nd.Pooling(X, kernel=(2, 2), pool_type='avg', stride=(2, 2)))
w = nd.array(rng.normal(size=(3, 2, 1, 1)))
print(nd.Convolution(X, w, no_bias=True, kernel=(1, 1), num_filter=3)[0, :, 0, :2])

# a LeNet-like network with BatchNorm
net = nn.HybridSequential()
net.add(nn.Conv2D(channels=6, kernel_size=5, padding=2),
        nn.BatchNorm(), nn.Activation('sigmoid'),
        nn.MaxPool2D(pool_size=2, strides=2),
        nn.Conv2D(channels=16, kernel_size=5),
        nn.BatchNorm(), nn.Activation('relu'),
        nn.AvgPool2D(pool_size=2, strides=2),
        nn.Flatten(),
        nn.Dense(32), nn.BatchNorm(), nn.Activation('relu'),
        nn.Dropout(0.0),
        nn.Dense(10))
net.initialize(init.Xavier())
X = nd.array(rng.uniform(size=(8, 1, 16, 16)))
for layer in net:
    X = layer(X)
    print(layer.name.rstrip('0123456789'), 'output shape:\t', X.shape)
for param in net.collect_params().values():
    if param.grad_req != 'null':
        param.set_data(nd.array(rng.normal(0, 0.2, param.shape)))
print([param.shape for param in net.collect_params().values()])
print([param.grad_req for param in net.collect_params().values()][:6])

data = nd.array(rng.uniform(size=(16, 1, 16, 16)))
label = nd.array(rng.randint(0, 10, size=16))
loss = gluon.loss.SoftmaxCrossEntropyLoss()
trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1, 'momentum': 0.9, 'wd': 1e-4})
net.hybridize()
for step in range(4):
    with autograd.record():
        out = net(data)
        l = loss(out, label)
    l.backward()
    trainer.step(data.shape[0])
    print('step %d, loss %.5f, acc %.4f' % (step, l.mean().asscalar(),
                                            (out.argmax(axis=1) == label).mean().asscalar()))
bn = net[1]
print(bn.running_mean.data(), bn.running_var.data())
print(bn.gamma.data(), bn.beta.grad())
print(net[0].weight.grad()[0, 0, 0])
pred = net(data[:4])
print(pred.argmax(axis=1), pred[0, :4])
with autograd.predict_mode():
    print(net(data[:2])[:, :3])
with autograd.train_mode():
    print(net(data[:2])[:, :3])
print(net[9])
print(net[1])
print(net[0])
print(net[3])
