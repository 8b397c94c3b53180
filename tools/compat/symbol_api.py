"""The symbol API, as in the MXNet "Symbol - Neural network graphs" tutorial."""
import json

import numpy as np
import mxnet as mx
from mxnet import nd

a = mx.sym.var('a')
b = mx.sym.var('b')
c = a + b
d = a * b
e = mx.sym.dot(a, b)
f = mx.sym.reshape(d + e, shape=(1, 4))
g = mx.sym.broadcast_to(f, shape=(2, 4))
print(type(c).__name__, c.list_arguments(), c.list_outputs())
print(g.list_arguments(), len(g.list_outputs()))

net = mx.sym.Variable('data')
net = mx.sym.FullyConnected(data=net, name='fc1', num_hidden=128)
net = mx.sym.Activation(data=net, name='relu1', act_type='relu')
net = mx.sym.FullyConnected(data=net, name='fc2', num_hidden=10)
net = mx.sym.softmax(net, name='out')
print(net.list_arguments())
print(net.list_outputs())
print(net.name)
arg_shapes, out_shapes, aux_shapes = net.infer_shape(data=(100, 64))
print(arg_shapes, out_shapes, aux_shapes)
arg_shapes, out_shapes, aux_shapes = net.infer_shape_partial(data=(5, 7))
print(dict(zip(net.list_arguments(), arg_shapes)), out_shapes)
arg_types, out_types, aux_types = net.infer_type(data='float32')
print([np.dtype(t).name for t in arg_types], [np.dtype(t).name for t in out_types])

internals = net.get_internals()
print(internals.list_outputs())
fc1 = internals['fc1_output']
print(fc1.list_arguments(), fc1.infer_shape(data=(3, 5))[1])

# composition
data = mx.sym.var('data')
conv = mx.sym.Convolution(data=data, kernel=(3, 3), num_filter=4, pad=(1, 1), name='conv')
bn = mx.sym.BatchNorm(data=conv, name='bn')
act = mx.sym.Activation(bn, act_type='relu', name='act')
pool = mx.sym.Pooling(act, kernel=(2, 2), stride=(2, 2), pool_type='max', name='pool')
flat = mx.sym.flatten(pool, name='flat')
out = mx.sym.FullyConnected(flat, num_hidden=3, name='fc')
print(out.list_arguments())
print(out.list_auxiliary_states())
shapes = out.infer_shape(data=(2, 1, 6, 6))
print(shapes)

# grouping
group = mx.sym.Group([c, d])
print(group.list_outputs(), len(group))
print(group[1].list_outputs())
x = mx.sym.var('x')
parts = mx.sym.split(x, num_outputs=3, axis=1, name='sp')
print(len(parts.list_outputs()), parts[2].infer_shape(x=(2, 6))[1])

# evaluation
ex = c.bind(ctx=mx.cpu(), args={'a': nd.ones((2, 3)), 'b': nd.ones((2, 3)) * 2})
ex.forward()
print(ex.outputs[0])
print(d.eval(ctx=mx.cpu(), a=nd.array([1.0, 2.0]), b=nd.array([3.0, 4.0]))[0])
rng = np.random.RandomState(0)
args = {'data': nd.array(rng.normal(size=(2, 5))),
        'fc1_weight': nd.array(rng.normal(0, 0.1, (128, 5))), 'fc1_bias': nd.zeros(128),
        'fc2_weight': nd.array(rng.normal(0, 0.1, (10, 128))), 'fc2_bias': nd.zeros(10)}
ex = net.bind(mx.cpu(), args)
ex.forward()
print(ex.outputs[0][:, :4], ex.outputs[0].sum(axis=1))
ex = net.simple_bind(mx.cpu(), data=(4, 5))
print(sorted((k, v.shape) for k, v in ex.arg_dict.items()))

# operators with attributes, scalar arithmetic
s = mx.sym.var('s')
expr = (2 * s + 1) / 4 - mx.sym.exp(s) ** 2
print(expr.eval(s=nd.array([0.0, 1.0]))[0])
r = mx.sym.sum(mx.sym.square(s), axis=1, keepdims=True)
print(r.eval(s=nd.array([[1.0, 2.0], [3.0, 4.0]]))[0])
t = mx.sym.transpose(mx.sym.reshape(s, shape=(0, -1, 2)), axes=(0, 2, 1))
print(t.infer_shape(s=(3, 8))[1])
cc = mx.sym.concat(a, b, dim=1)
print(cc.infer_shape(a=(2, 3), b=(2, 5))[1], cc.list_arguments())
bd = mx.sym.batch_dot(a, b, transpose_b=True)
print(bd.infer_shape(a=(4, 2, 3), b=(4, 5, 3))[1])
oh = mx.sym.one_hot(a, depth=5)
print(oh.infer_shape(a=(7,))[1])

# JSON
js = json.loads(net.tojson())
print(sorted(js.keys()))
print([node['op'] for node in js['nodes']])
print([node['name'] for node in js['nodes']])
print(js['nodes'][3]['attrs'], js['nodes'][4]['attrs'])
print(js['arg_nodes'], js['heads'])
loaded = mx.sym.load_json(net.tojson())
print(loaded.list_arguments() == net.list_arguments(), loaded.infer_shape(data=(1, 64))[1])
print(loaded.tojson() == net.tojson())
print(mx.sym.var('v', shape=(2, 3)).infer_shape()[1])
