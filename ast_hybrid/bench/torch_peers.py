"""The benchmark models in PyTorch, eager and TorchScript, over the same weights (optional)."""
import numpy as np

from .weights import dense_layers, param_arrays


def enable_torch():
    """True where torch imports, then limited to one thread: its OpenMP pool, interleaved in
    one process with numpy's OpenBLAS threads, oversubscribes the cores and slows every
    variant erratically (measured: 10x on a 2-vCPU machine)."""
    try:
        import torch
    except ImportError:
        return False
    torch.set_num_threads(1)
    return True


def torch_module(kind, net):
    """The model `kind` as a torch.nn.Module holding copies of `net`'s weights, its
    parameters() in `net.collect_params()` order; raises ImportError without torch."""
    import torch
    from torch import nn as tnn
    from torch.nn import functional as tF

    def t(a):
        # a copy: a training peer updates its weights in place
        return torch.tensor(np.asarray(a))

    def linears(weights):
        out = []
        for w, b in dense_layers(weights):
            lin = tnn.Linear(w.shape[1], w.shape[0])
            lin.weight.data = t(w)
            lin.bias.data = t(b)
            out.append(lin)
        return out

    weights = param_arrays(net)
    if kind == "mlp":
        a, b, c = linears(weights)
        return tnn.Sequential(a, tnn.ReLU(), b, tnn.ReLU(), c)
    if kind == "lenet":
        conv1, conv2 = tnn.Conv2d(1, 6, 5), tnn.Conv2d(6, 16, 5)
        conv1.weight.data, conv1.bias.data = t(weights[0]), t(weights[1])
        conv2.weight.data, conv2.bias.data = t(weights[2]), t(weights[3])
        d1, d2, d3 = linears(weights[4:])
        return tnn.Sequential(conv1, tnn.ReLU(), tnn.MaxPool2d(2), conv2, tnn.ReLU(),
                              tnn.MaxPool2d(2), tnn.Flatten(), d1, tnn.ReLU(), d2,
                              tnn.ReLU(), d3)
    if kind == "rnn":
        dx, dh = linears(weights)

        class Cell(tnn.Module):
            def __init__(self, steps):
                super().__init__()
                self.dx, self.dh, self.steps = dx, dh, steps

            def forward(self, x):
                h = torch.zeros(x.shape[0], self.dh.out_features, dtype=x.dtype)
                for i in range(self.steps):
                    h = torch.tanh(self.dx(x[:, i]) + self.dh(h))
                return h
        return Cell(net.steps)
    if kind == "residual":
        lins = linears(weights)

        class Res(tnn.Module):
            def __init__(self):
                super().__init__()
                self.layers = tnn.ModuleList(lins)

            def forward(self, x):
                for lin in self.layers:
                    x = x + tF.relu(lin(x))
                return x
        return Res()
    raise ValueError(kind)


def torch_forward(kind, net):
    """(eager, torchscript) forwards of the same model in PyTorch with the same weights, each
    a function of a numpy array returning a numpy array; raises ImportError without torch."""
    import torch

    module = torch_module(kind, net).eval()
    scripted = torch.jit.script(module)

    def wrap(m):
        def forward(x):
            with torch.no_grad():
                return m(torch.from_numpy(x)).numpy()
        return forward
    return wrap(module), wrap(scripted)


def torch_training(kind, net, x, labels, lr):
    """{"torch": (step, checked_step), "torchscript": (step, checked_step)}: the library's
    SGD training step of the model in PyTorch, each peer on its own copy of `net`'s weights
    (a scripted module shares its parameters with the module it was scripted from).
    `step()` is one step on the batch (x, integer labels): forward, cross-entropy summed
    over the batch, backward, `w -= (lr / batch) * grad`; `checked_step()` is the same step,
    returning its (per-sample losses, gradients, updated weights) as numpy."""
    import torch
    from torch.nn import functional as tF

    xt = torch.from_numpy(np.ascontiguousarray(x))
    yt = torch.from_numpy(labels.astype(np.int64))
    scale = lr / x.shape[0]

    def build(model):
        params = list(model.parameters())

        def forward_backward():
            out = model(xt)
            tF.cross_entropy(out, yt, reduction="sum").backward()
            return out

        def update():
            with torch.no_grad():
                # the kernel torch.optim.SGD runs (foreach), without the optimizer's Python
                torch._foreach_add_(params, [p.grad for p in params], alpha=-scale)
            for p in params:
                p.grad = None

        def step():
            forward_backward()
            update()

        def checked_step():
            out = forward_backward()
            losses = tF.cross_entropy(out.detach(), yt, reduction="none").numpy()
            grads = [p.grad.numpy().copy() for p in params]
            update()
            return losses, grads, [p.detach().numpy().copy() for p in params]
        return step, checked_step

    return {"torch": build(torch_module(kind, net)),
            "torchscript": build(torch.jit.script(torch_module(kind, net)))}
