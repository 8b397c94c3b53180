"""Data-parallel training over several devices, as in d2l.ai's "Concise Implementation for
Multiple GPUs" chapter (with CPU contexts standing for the GPUs)."""
import numpy as np
import mxnet as mx
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import nn

devices = [mx.cpu(0), mx.cpu(1)]
rng = np.random.RandomState(3)
features = nd.array(rng.uniform(-1, 1, (64, 1, 8, 8)))
labels = nd.array(rng.randint(0, 4, (64,)))

net = nn.HybridSequential()
net.add(nn.Conv2D(4, kernel_size=3, padding=1, activation='relu'),
        nn.BatchNorm(), nn.MaxPool2D(2), nn.Dense(16, activation='relu'), nn.Dense(4))
net.initialize(init.Xavier(), ctx=devices)
net(gluon.utils.split_and_load(features[:2], devices)[0])
mx.random.seed(1)
for name, param in net.collect_params().items():
    shape = param.shape
    param.set_data(nd.array(rng.uniform(-0.3, 0.3, shape) if 'gamma' not in name
                            and 'var' not in name else np.ones(shape)))
print('parameters on', [str(c) for c in net[0].weight.list_ctx()])
print('copies:', len(net[0].weight.list_data()), 'shapes', net[0].weight.data(devices[1]).shape)
net.hybridize()
trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.2, 'momentum': 0.9})
loss = gluon.loss.SoftmaxCrossEntropyLoss()


def train_batch(X, y):
    X_shards = gluon.utils.split_and_load(X, devices)
    y_shards = gluon.utils.split_and_load(y, devices)
    with autograd.record():
        ls = [loss(net(X_shard), y_shard) for X_shard, y_shard in zip(X_shards, y_shards)]
    for l in ls:
        l.backward()
    trainer.step(X.shape[0])
    return sum(l.sum().asscalar() for l in ls) / X.shape[0]


for epoch in range(3):
    total = 0.0
    for start in range(0, 64, 16):
        total += train_batch(features[start:start + 16], labels[start:start + 16])
    print('epoch %d, loss %.4f' % (epoch + 1, total / 4))
same = all((p.list_data()[0].asnumpy() == d.asnumpy()).all()
           for p in net.collect_params().values() for d in p.list_data())
print('copies equal after training:', same)
with autograd.predict_mode():
    predictions = net(features.as_in_context(devices[0])).argmax(axis=1)
print('train accuracy %.3f' % (predictions == labels).mean().asscalar())
print(net[3].weight.data(devices[0])[0, :5])
