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


def torch_forward(kind, net):
    """(eager, torchscript) forwards of the same model in PyTorch with the same weights, each
    a function of a numpy array returning a numpy array; raises ImportError without torch."""
    import torch
    from torch import nn as tnn
    from torch.nn import functional as tF

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a))

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
        module = tnn.Sequential(a, tnn.ReLU(), b, tnn.ReLU(), c)
    elif kind == "lenet":
        conv1, conv2 = tnn.Conv2d(1, 6, 5), tnn.Conv2d(6, 16, 5)
        conv1.weight.data, conv1.bias.data = t(weights[0]), t(weights[1])
        conv2.weight.data, conv2.bias.data = t(weights[2]), t(weights[3])
        d1, d2, d3 = linears(weights[4:])
        module = tnn.Sequential(conv1, tnn.ReLU(), tnn.MaxPool2d(2), conv2, tnn.ReLU(),
                                tnn.MaxPool2d(2), tnn.Flatten(), d1, tnn.ReLU(), d2,
                                tnn.ReLU(), d3)
    elif kind == "rnn":
        dx, dh = linears([p.data().asnumpy() for p in
                          (net.dense_x.weight, net.dense_x.bias, net.dense_h.weight,
                           net.dense_h.bias)])

        class Cell(tnn.Module):
            def __init__(self, steps):
                super().__init__()
                self.dx, self.dh, self.steps = dx, dh, steps

            def forward(self, x):
                h = torch.zeros(x.shape[0], self.dh.out_features, dtype=x.dtype)
                for i in range(self.steps):
                    h = torch.tanh(self.dx(x[:, i]) + self.dh(h))
                return h
        module = Cell(net.steps)
    elif kind == "residual":
        lins = linears(weights)

        class Res(tnn.Module):
            def __init__(self):
                super().__init__()
                self.layers = tnn.ModuleList(lins)

            def forward(self, x):
                for lin in self.layers:
                    x = x + tF.relu(lin(x))
                return x
        module = Res()
    else:
        raise ValueError(kind)
    module.eval()
    scripted = torch.jit.script(module)

    def wrap(m):
        def forward(x):
            with torch.no_grad():
                return m(torch.from_numpy(x)).numpy()
        return forward
    return wrap(module), wrap(scripted)
