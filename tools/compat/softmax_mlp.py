"""Softmax regression and an MLP, as in d2l.ai's chapters 3.6-4.3 and the Gluon crash course."""
import numpy as np
import mxnet as mx
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import loss as gloss, nn

rng = np.random.RandomState(1)
num_inputs, num_outputs, num_examples = 20, 4, 256
centers = rng.normal(0, 2, (num_outputs, num_inputs))
y_np = rng.randint(0, num_outputs, num_examples)
X_np = centers[y_np] + rng.normal(0, 5.0, (num_examples, num_inputs))
features, labels = nd.array(X_np), nd.array(y_np)
train_iter = gluon.data.DataLoader(gluon.data.ArrayDataset(features, labels), batch_size=32)

# softmax regression from scratch
W = nd.array(rng.normal(0, 0.01, (num_inputs, num_outputs)))
b = nd.zeros(num_outputs)
W.attach_grad()
b.attach_grad()


def softmax(X):
    X_exp = X.exp()
    partition = X_exp.sum(axis=1, keepdims=True)
    return X_exp / partition


X = nd.array(rng.normal(size=(2, 5)))
X_prob = softmax(X)
print(X_prob, X_prob.sum(axis=1))


def net(X):
    return softmax(nd.dot(X.reshape((-1, num_inputs)), W) + b)


y_hat = nd.array([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
y = nd.array([0, 2], dtype='int32')
print(nd.pick(y_hat, y))


def cross_entropy(y_hat, y):
    return -nd.pick(y_hat, y).log()


def accuracy(y_hat, y):
    return (y_hat.argmax(axis=1) == y.astype('float32')).mean().asscalar()


print(accuracy(y_hat, y))


def evaluate_accuracy(data_iter, net):
    acc_sum, n = 0.0, 0
    for X, y in data_iter:
        y = y.astype('float32')
        acc_sum += (net(X).argmax(axis=1) == y).sum().asscalar()
        n += y.size
    return acc_sum / n


print('%.4f' % evaluate_accuracy(train_iter, net))


def train_ch3(net, train_iter, loss, num_epochs, batch_size, params=None, lr=None, trainer=None):
    for epoch in range(num_epochs):
        train_l_sum, train_acc_sum, n = 0.0, 0.0, 0
        for X, y in train_iter:
            with autograd.record():
                y_hat = net(X)
                l = loss(y_hat, y).sum()
            l.backward()
            if trainer is None:
                for param in params:
                    param[:] = param - lr * param.grad / batch_size
            else:
                trainer.step(batch_size)
            y = y.astype('float32')
            train_l_sum += l.asscalar()
            train_acc_sum += (y_hat.argmax(axis=1) == y).sum().asscalar()
            n += y.size
        print('epoch %d, loss %.4f, train acc %.3f'
              % (epoch + 1, train_l_sum / n, train_acc_sum / n))


train_ch3(net, train_iter, cross_entropy, 3, 32, [W, b], 0.1)

# concise softmax regression
net = nn.Sequential()
net.add(nn.Dense(num_outputs))
net.initialize(init.Normal(sigma=0.01))
net(features[:1])
net[0].weight.set_data(nd.array(rng.normal(0, 0.01, (num_outputs, num_inputs))))
loss = gloss.SoftmaxCrossEntropyLoss()
trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
train_ch3(net, train_iter, loss, 3, 32, None, None, trainer)

# an MLP, hybridized, with mx.metric.Accuracy
net = nn.HybridSequential()
with net.name_scope():
    net.add(nn.Dense(32, activation='relu'), nn.Dense(16, activation='sigmoid'),
            nn.Dense(num_outputs))
net.initialize(init.Xavier())
net(features[:1])
for name, param in sorted(net.collect_params().items(), key=lambda kv: kv[1].shape):
    param.set_data(nd.array(rng.normal(0, 0.2, param.shape)))
print([param.shape for param in net.collect_params().values()])
net.hybridize()
trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1, 'momentum': 0.5})
metric = mx.metric.Accuracy()
loss_metric = mx.metric.Loss()
for epoch in range(4):
    metric.reset()
    loss_metric.reset()
    for X, y in train_iter:
        with autograd.record():
            output = net(X)
            l = loss(output, y)
        l.backward()
        trainer.step(X.shape[0])
        metric.update([y], [output])
        loss_metric.update(0, [l])
    name, acc = metric.get()
    print('epoch %d: %s=%.4f %s=%.4f' % (epoch, name, acc, *loss_metric.get()))
print(metric.get_name_value())

probs = nd.softmax(net(features[:5]))
print(probs.argmax(axis=1), labels[:5])
print(probs.sum(axis=1))
acc = mx.metric.Accuracy()
acc.update(labels, net(features))
print(acc.get())
top2 = mx.metric.TopKAccuracy(top_k=2)
top2.update([labels], [net(features)])
print(top2.get())
ce = mx.metric.CrossEntropy()
ce.update([labels], [nd.softmax(net(features))])
print('%s %.5f' % ce.get())
mse = mx.metric.MSE()
mse.update([nd.array([1.0, 2.0])], [nd.array([1.5, 1.0])])
print(mse.get())
composite = mx.metric.create(['acc', 'mse'])
print(type(composite).__name__)
l2 = gloss.L2Loss()(nd.array([[1.0, 2.0]]), nd.array([[0.0, 0.0]]))
l1 = gloss.L1Loss()(nd.array([[1.0, -2.0]]), nd.array([[0.0, 0.0]]))
sce = gloss.SoftmaxCrossEntropyLoss(sparse_label=False)(nd.array([[1.0, 2.0]]), nd.array([[0.0, 1.0]]))
bce = gloss.SigmoidBinaryCrossEntropyLoss()(nd.array([[0.3, -1.0]]), nd.array([[1.0, 0.0]]))
print(l2, l1, sce, bce)
