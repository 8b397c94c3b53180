"""Concise linear regression with Gluon, as in d2l.ai's "Concise Implementation of Linear Regression"."""
import numpy as np
import mxnet as mx
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import data as gdata
from mxnet.gluon import loss as gloss
from mxnet.gluon import nn

rng = np.random.RandomState(7)
num_inputs = 2
num_examples = 1000
true_w = [2, -3.4]
true_b = 4.2
features = nd.array(rng.normal(scale=1, size=(num_examples, num_inputs)))
labels = true_w[0] * features[:, 0] + true_w[1] * features[:, 1] + true_b
labels += nd.array(rng.normal(scale=0.01, size=labels.shape))

batch_size = 10
dataset = gdata.ArrayDataset(features, labels)
data_iter = gdata.DataLoader(dataset, batch_size, shuffle=False)
print(len(dataset), len(data_iter))
for X, y in data_iter:
    print(X.shape, y.shape, type(X).__name__)
    break
first = dataset[3]
print(first[0], '%.5f' % first[1].asscalar() if isinstance(first[1], nd.NDArray) else '%.5f' % first[1])

net = nn.Sequential()
net.add(nn.Dense(1))
net.initialize(init.Normal(sigma=0.01))
net[0].weight.set_data(nd.array([[0.01, -0.02]]))
loss = gloss.L2Loss()
trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.03})
print(trainer.learning_rate)

num_epochs = 3
for epoch in range(1, num_epochs + 1):
    for X, y in data_iter:
        with autograd.record():
            l = loss(net(X), y)
        l.backward()
        trainer.step(batch_size)
    l = loss(net(features), labels)
    # d2l: l.mean().asnumpy(), which numpy 2 no longer formats with %f (README)
    print('epoch %d, loss: %f' % (epoch, l.mean().asscalar()))

dense = net[0]
print(true_w, dense.weight.data())
print(true_b, dense.bias.data())
print(dense.weight.grad().shape, dense.weight.shape, dense.bias.shape)
print(dense)
print(net)

# the same model, hybridized, with a shuffling loader and last_batch options
mx.random.seed(3)
net2 = nn.HybridSequential()
net2.add(nn.Dense(1, in_units=2))
net2.initialize(init.Constant(0.1))
net2.hybridize()
trainer2 = gluon.Trainer(net2.collect_params(), 'sgd', {'learning_rate': 0.05, 'wd': 0.0})
small = gdata.ArrayDataset(features[:25], labels[:25])
for last_batch in ('keep', 'discard', 'rollover'):
    sizes = [X.shape[0] for X, _ in gdata.DataLoader(small, batch_size=10, last_batch=last_batch)]
    print(last_batch, sizes)
shuffled = gdata.DataLoader(small, batch_size=5, shuffle=True)
print(sorted(int(s) for X, y in shuffled for s in [X.shape[0]]))
for epoch in range(2):
    total = 0.0
    for X, y in gdata.DataLoader(dataset, batch_size=50):
        with autograd.record():
            l = loss(net2(X), y)
        l.backward()
        trainer2.step(X.shape[0])
        total += l.sum().asscalar()
    print('hybrid epoch %d, loss %.6f' % (epoch, total / num_examples))
trainer2.set_learning_rate(0.01)
print(trainer2.learning_rate)
print(net2[0].weight.data(), net2[0].bias.data())
print(net2(nd.array([[1.0, 1.0]])))
