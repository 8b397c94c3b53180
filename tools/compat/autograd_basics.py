"""Automatic differentiation in the style of d2l.ai's "Automatic Differentiation"."""
import mxnet as mx
from mxnet import autograd, nd

x = nd.arange(4)
x.attach_grad()
with autograd.record():
    y = 2 * nd.dot(x, x)
print(y)
y.backward()
print(x.grad)
print((x.grad - 4 * x).norm().asscalar())

# the gradient is overwritten by a new backward
with autograd.record():
    y = x.sum()
y.backward()
print(x.grad)

# backward of a non-scalar sums its elements (head gradient of ones)
with autograd.record():
    y = x * x
y.backward()
print(x.grad)

# an explicit head gradient
with autograd.record():
    y = x * x
y.backward(nd.array([1, 0.5, 0.1, 2]))
print(x.grad)

# detach
with autograd.record():
    y = x * x
    u = y.detach()
    z = u * x
z.backward()
print(x.grad, (x.grad == u).sum().asscalar())

# Python control flow
def f(a):
    b = a * 2
    while b.norm().asscalar() < 1000:
        b = b * 2
    if b.sum().asscalar() > 0:
        c = b
    else:
        c = 100 * b
    return c

a = nd.array([0.3, -1.2])
a.attach_grad()
with autograd.record():
    d = f(a)
d.backward()
print(a.grad, (a.grad == d / a).sum().asscalar())

# grad_req='add' accumulates
w = nd.array([1.0, 2.0, 3.0])
w.attach_grad(grad_req='add')
for _ in range(3):
    with autograd.record():
        loss = (w * w).sum()
    loss.backward()
print(w.grad)
w.grad[:] = 0
print(w.grad)

# autograd.grad, with a graph kept for higher order
v = nd.array([1.0, 2.0, 3.0])
v.attach_grad()
with autograd.record():
    out = (v ** 3).sum()
g = autograd.grad(out, [v])[0]
print(g)
with autograd.record():
    out = nd.exp(v).sum() + (v * v).sum()
gs = autograd.grad([out], [v], retain_graph=True)
print(gs[0])

# several variables and a retained graph
p = nd.array([[1.0, 2.0], [3.0, 4.0]])
q = nd.array([[0.5], [-1.0]])
p.attach_grad()
q.attach_grad()
with autograd.record():
    r = nd.dot(p, q)
    s = nd.sigmoid(r).sum()
s.backward(retain_graph=True)
print(p.grad, q.grad)
s.backward()
print(p.grad)

# pause, is_recording, is_training, train_mode / predict_mode
print(autograd.is_recording(), autograd.is_training())
with autograd.record():
    print(autograd.is_recording(), autograd.is_training())
    with autograd.pause():
        print(autograd.is_recording(), autograd.is_training())
        k = x * 3
    m = k * x
    with autograd.predict_mode():
        print(autograd.is_training())
m.backward()
print(x.grad)
with autograd.record(train_mode=False):
    print(autograd.is_recording(), autograd.is_training())
with autograd.train_mode():
    print(autograd.is_training())
print(autograd.is_recording(), autograd.is_training())

# dropout follows the training flag
mx.random.seed(0)
ones = nd.ones((2, 4))
print(nd.Dropout(ones, p=0.5))
with autograd.record():
    dropped = nd.Dropout(ones, p=0.5)
print(dropped.shape, sorted(set(dropped.asnumpy().ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0]))

# gradients of common functions
t = nd.array([-2.0, -0.5, 0.0, 0.5, 2.0])
for name, fn in [('relu', nd.relu), ('sigmoid', nd.sigmoid), ('tanh', nd.tanh),
                 ('exp', nd.exp), ('abs', nd.abs), ('softrelu', lambda z: nd.Activation(z, act_type='softrelu'))]:
    t.attach_grad()
    with autograd.record():
        o = fn(t)
    o.backward()
    print(name, ' '.join('%.5f' % value for value in t.grad.asnumpy()))

# gradient through indexing, reshape, broadcast and reductions
h = nd.arange(6).reshape((2, 3))
h.attach_grad()
with autograd.record():
    o = (h[:, 1:] * nd.array([[1.0], [2.0]])).reshape((-1,)).sum() + h.max(axis=1).sum() + nd.mean(h)
o.backward()
print(h.grad)
# softmax cross entropy by hand
logits = nd.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
labels = nd.array([1, 2])
logits.attach_grad()
with autograd.record():
    l = -nd.pick(nd.log_softmax(logits), labels).mean()
l.backward()
print('%.6f' % l.asscalar())
print(logits.grad)
