"""Saving and loading, as in d2l.ai's "File I/O" and the Gluon "Saving and Loading" tutorial."""
import json
import os
import tempfile

import numpy as np
import mxnet as mx
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import nn

rng = np.random.RandomState(11)
tmp = tempfile.mkdtemp()


def path(name):
    return os.path.join(tmp, name)


# NDArrays
x = nd.arange(4)
nd.save(path('x-file'), x)
x2 = nd.load(path('x-file'))
print(x2)
y = nd.zeros(4)
nd.save(path('x-files'), [x, y])
x2, y2 = nd.load(path('x-files'))
print(x2, y2)
mydict = {'x': x, 'y': y}
nd.save(path('mydict'), mydict)
mydict2 = nd.load(path('mydict'))
print(sorted(mydict2.items(), key=lambda kv: kv[0]))


class MLP(nn.HybridBlock):
    def __init__(self, **kwargs):
        super(MLP, self).__init__(**kwargs)
        self.hidden = nn.Dense(16, activation='relu')
        self.output = nn.Dense(3)

    def hybrid_forward(self, F, x):
        return self.output(self.hidden(x))


net = MLP()
net.initialize()
X = nd.array(rng.uniform(size=(2, 8)))
net(X)
for param in net.collect_params().values():
    param.set_data(nd.array(rng.normal(0, 0.5, param.shape)))
Y = net(X)
print(Y)
net.save_parameters(path('mlp.params'))
clone = MLP()
clone.load_parameters(path('mlp.params'))
Y_clone = clone(X)
print(Y_clone == Y)
clone2 = MLP()
clone2.initialize(init.Zero())
clone2.load_parameters(path('mlp.params'), ctx=mx.cpu())
print((clone2(X) - Y).abs().max().asscalar())
clone3 = MLP()
clone3.hidden.initialize()
clone3.load_parameters(path('mlp.params'), allow_missing=False, ignore_extra=True)
print(clone3.output.weight.data().shape)

# a Sequential net: save_parameters, then load into a net built the same way
def build():
    net = nn.HybridSequential()
    net.add(nn.Dense(10, activation='relu'), nn.BatchNorm(), nn.Dense(2))
    return net


seq = build()
seq.initialize()
seq(X)
for param in seq.collect_params().values():
    values = nd.array(rng.normal(0, 0.5, param.shape))
    param.set_data(values.abs() + 0.5 if param.grad_req == 'null' else values)
out = seq(X)
seq.save_parameters(path('seq.params'))
seq2 = build()
seq2.load_parameters(path('seq.params'))
print(out, (seq2(X) - out).abs().max().asscalar())
print(seq2[1].running_var.data()[:3])

# export and SymbolBlock.imports
seq.hybridize()
out_h = seq(X)
print((out_h - out).abs().max().asscalar() < 1e-6)
seq.export(path('seq'), epoch=3)
print(sorted(os.listdir(tmp)))
graph = json.load(open(path('seq-symbol.json')))
print(sorted(graph.keys()))
ops = [node['op'] for node in graph['nodes'] if node['op'] != 'null']
print(ops)
print(len(graph['arg_nodes']), len(graph['heads']))
imported = gluon.SymbolBlock.imports(path('seq-symbol.json'), ['data'], path('seq-0003.params'))
out_i = imported(X)
print(out_i, (out_i - out).abs().max().asscalar() < 1e-6)
print(len(list(imported.collect_params().values())))
imported.hybridize()
print((imported(X) - out).abs().max().asscalar() < 1e-6)
arrays = nd.load(path('seq-0003.params'))
print(len(arrays), sorted(k.split(':')[0] for k in arrays))
print(sorted(v.shape for v in arrays.values()))

# a SymbolBlock built from a symbol, with parameters from the block
data = mx.sym.var('data')
sym_out = seq(data)
print(type(sym_out).__name__, len(sym_out.list_arguments()), len(sym_out.list_auxiliary_states()))
sb = gluon.SymbolBlock(sym_out, data, params=seq.collect_params())
print((sb(X) - out).abs().max().asscalar() < 1e-6)

# a symbol saved and loaded
sym_out.save(path('sym.json'))
loaded = mx.sym.load(path('sym.json'))
print(loaded.list_outputs() == sym_out.list_outputs(), len(loaded.list_arguments()))
print(mx.sym.load_json(sym_out.tojson()).list_arguments() == sym_out.list_arguments())

import shutil
shutil.rmtree(tmp)
