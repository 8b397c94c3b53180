"""Custom blocks, as in d2l.ai's "Layers and Blocks", "Parameter Management" and "Custom Layers"."""
import numpy as np
import mxnet as mx
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import nn

rng = np.random.RandomState(3)
X = nd.array(rng.uniform(size=(2, 20)))


class MLP(nn.Block):
    def __init__(self, **kwargs):
        super(MLP, self).__init__(**kwargs)
        self.hidden = nn.Dense(256, activation='relu')
        self.output = nn.Dense(10)

    def forward(self, x):
        return self.output(self.hidden(x))


class FixedHiddenMLP(nn.Block):
    def __init__(self, **kwargs):
        super(FixedHiddenMLP, self).__init__(**kwargs)
        self.rand_weight = self.params.get_constant(
            'rand_weight', nd.array(rng.uniform(size=(20, 20))))
        self.dense = nn.Dense(20, activation='relu')

    def forward(self, x):
        x = self.dense(x)
        x = nd.relu(nd.dot(x, self.rand_weight.data()) + 1)
        x = self.dense(x)
        while x.norm().asscalar() > 1:
            x /= 2
        if x.norm().asscalar() < 0.8:
            x *= 10
        return x.sum()


def set_all(net, scale=0.1):
    """Give every parameter fixed values (in the order collect_params lists them)."""
    for param in net.collect_params().values():
        if param.grad_req != 'null':
            param.set_data(nd.array(rng.normal(0, scale, param.shape)))


net = MLP()
net.initialize()
net(X)
set_all(net)
print(net(X).shape, '%.6f' % net(X).sum().asscalar())

net = FixedHiddenMLP()
net.initialize()
net(X)
set_all(net)
print('%.6f' % net(X).asscalar())


class CenteredLayer(nn.HybridBlock):
    def __init__(self, **kwargs):
        super(CenteredLayer, self).__init__(**kwargs)

    def hybrid_forward(self, F, x):
        return x - x.mean()


layer = CenteredLayer()
print(layer(nd.array([1, 2, 3, 4, 5])))
net = nn.HybridSequential()
net.add(nn.Dense(128), CenteredLayer())
net.initialize()
y = net(X)
print(y.shape, abs(y.mean().asscalar()) < 1e-5)


class MyDense(nn.HybridBlock):
    # units: the number of outputs in this layer; in_units: the number of inputs
    def __init__(self, units, in_units, **kwargs):
        super(MyDense, self).__init__(**kwargs)
        self.weight = self.params.get('weight', shape=(in_units, units))
        self.bias = self.params.get('bias', shape=(units,))

    def hybrid_forward(self, F, x, weight, bias):
        linear = F.broadcast_add(F.dot(x, weight), bias)
        return F.relu(linear)


dense = MyDense(units=3, in_units=5)
print(sorted(p.shape for p in dense.collect_params().values()))
print('names:', sorted(dense.collect_params().keys()))
dense.initialize()
dense.weight.set_data(nd.array(rng.normal(0, 1, (5, 3))))
dense.bias.set_data(nd.array([0.1, -0.2, 0.3]))
print(dense(nd.array(rng.uniform(size=(2, 5)))))
net = nn.HybridSequential()
net.add(MyDense(8, in_units=64), MyDense(1, in_units=8))
net.initialize(init.Constant(0.01))
print(net(nd.ones((2, 64))))
net.hybridize()
print(net(nd.ones((2, 64))))


class Scaled(nn.HybridBlock):
    """A block with a scalar parameter, a constant, a child and a helper method."""
    def __init__(self, **kwargs):
        super(Scaled, self).__init__(**kwargs)
        with self.name_scope():
            self.scale = self.params.get('scale', shape=(1,), init=init.Constant(2.0))
            self.offset = self.params.get_constant('offset', nd.array([[0.5, -0.5]]))
            self.body = nn.Dense(2, in_units=3, use_bias=False)

    def activate(self, F, x):
        return F.tanh(x)

    def hybrid_forward(self, F, x, scale, offset):
        h = self.body(x)
        return self.activate(F, F.broadcast_add(F.broadcast_mul(h, scale), offset))


blk = Scaled()
blk.initialize()
blk.body.weight.set_data(nd.array([[0.1, 0.2, 0.3], [-0.3, 0.2, -0.1]]))
inp = nd.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
out_imp = blk(inp)
blk.hybridize()
out_hyb = blk(inp)
print(out_imp, (out_imp - out_hyb).abs().max().asscalar() < 1e-6)
blk.scale.set_data(nd.array([3.0]))
print(blk(inp))
with autograd.record():
    l = blk(inp).sum()
l.backward()
print(blk.scale.grad(), blk.body.weight.grad())
print(blk.offset.grad_req, blk.scale.grad_req, blk.scale.data().shape)

# parameter access
net = nn.Sequential()
net.add(nn.Dense(256, activation='relu'))
net.add(nn.Dense(10))
net.initialize()
net(X)
print(net[0].weight.shape, net[0].bias.data().shape, net[1].weight.data().shape)
print('names:', [name for name in net.collect_params()])
print('names:', list(net.collect_params('.*weight').keys()))
print(net[0].weight.grad().shape, net[0].weight.grad().sum().asscalar())
print(len(list(net.collect_params())), len(list(net[0].collect_params().keys())))

# initializers
net.initialize(init=init.Normal(sigma=0.01), force_reinit=True)
print(net[0].weight.data().shape)
net.initialize(init=init.Constant(1), force_reinit=True)
print(net[0].weight.data()[0, :4])
net[0].weight.initialize(init=init.Xavier(), force_reinit=True)
bound = np.sqrt(6.0 / (20 + 256))
print(bool((net[0].weight.data().abs() <= bound).min().asscalar()))
net[1].initialize(init=init.One(), force_reinit=True)
print(net[1].weight.data()[0, :3], net[1].bias.data()[:3])


class MyInit(init.Initializer):
    def _init_weight(self, name, data):
        data[:] = nd.arange(data.size).reshape(data.shape) / data.size


net[0].weight.initialize(init=MyInit(), force_reinit=True)
print(net[0].weight.data()[0, :3], net[0].weight.data()[1, :2])
net[0].weight.set_data(net[0].weight.data() + 1)
print(net[0].weight.data()[0, :3])

# shared parameters
net = nn.Sequential()
shared = nn.Dense(8, activation='relu')
net.add(nn.Dense(8, activation='relu'), shared,
        nn.Dense(8, activation='relu', params=shared.params), nn.Dense(10))
net.initialize(init.Constant(0.05))
net(X)
print(net[1].weight.data()[0] == net[2].weight.data()[0])
net[1].weight.data()[0, 0] = 100
print(net[1].weight.data()[0, 0] == net[2].weight.data()[0, 0], net[2].weight.data()[0, 0])
print(len(list(net.collect_params().values())))

# deferred initialization
net = nn.Sequential()
net.add(nn.Dense(256, activation='relu'), nn.Dense(10))
net.initialize(init=init.Constant(0.02))
print(net[0].weight.shape)
net(nd.ones((2, 20)))
print(net[0].weight.shape, net[1].weight.shape)
net = nn.Sequential()
net.add(nn.Dense(256, in_units=20, activation='relu'))
net.initialize()
print(net[0].weight.shape)
