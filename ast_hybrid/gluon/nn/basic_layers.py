"""Basic layers: Sequential containers, Dense, Activation, Dropout, Flatten, Lambda,
BatchNorm, LayerNorm and Embedding (MXNet 1.x Gluon's names, signatures and defaults)."""
import warnings

import numpy as np

from ..block import Block, HybridBlock


class Sequential(Block):
    """Runs its children one after the other."""

    def add(self, *blocks):
        for block in blocks:
            self.register_child(block)

    def forward(self, x, *args):
        for block in self._children.values():
            x = block(x, *args)
            args = ()
            if isinstance(x, (tuple, list)):
                x, args = x[0], tuple(x[1:])
        return x if not args else (x,) + args

    def hybridize(self, active=True, **kwargs):
        """As Block.hybridize, with MXNet's hint when every child could be one program."""
        children = list(self._children.values())
        if active and children and all(isinstance(c, HybridBlock) for c in children):
            warnings.warn(f"All children of this Sequential layer '{self.prefix}' are "
                          "HybridBlocks. Consider using HybridSequential for the best "
                          "performance.", stacklevel=2)
        super().hybridize(active, **kwargs)

    def __getitem__(self, key):
        layers = list(self._children.values())[key]
        if isinstance(layers, list):
            net = type(self)(prefix=self._prefix)
            net.add(*layers)
            return net
        return layers

    def __len__(self):
        return len(self._children)


class HybridSequential(HybridBlock):
    """Sequential for HybridBlocks: hybridizes into one program."""

    def add(self, *blocks):
        for block in blocks:
            self.register_child(block)

    def hybrid_forward(self, F, x, *args):
        for block in self._children.values():
            x = block(x, *args)
            args = []
            if isinstance(x, (tuple, list)):
                args = x[1:]
                x = x[0]
        if args:
            x = tuple([x] + list(args))
        return x

    __getitem__ = Sequential.__getitem__
    __len__ = Sequential.__len__


class Dense(HybridBlock):
    """A fully connected layer: activation(dot(x, weight.T) + bias)."""

    def __init__(self, units, activation=None, use_bias=True, flatten=True, dtype="float32",
                 weight_initializer=None, bias_initializer="zeros", in_units=0, **kwargs):
        super().__init__(**kwargs)
        self._units, self._in_units, self._flatten = units, in_units, flatten
        self.weight = self.params.get("weight", shape=(units, in_units), dtype=dtype,
                                      init=weight_initializer, allow_deferred_init=True)
        self.bias = (self.params.get("bias", shape=(units,), dtype=dtype,
                                     init=bias_initializer, allow_deferred_init=True)
                     if use_bias else None)
        self.act = activation_child(self, activation)

    def hybrid_forward(self, F, x, weight, bias=None):
        out = F.FullyConnected(x, weight, bias, no_bias=bias is None, num_hidden=self._units,
                               flatten=self._flatten, name="fwd")
        if self.act is not None:
            out = self.act(out)
        return out

    def __repr__(self):
        shape = self.weight.shape
        in_units = shape[1] if shape and shape[1] else None
        activation = repr(self.act) if self.act is not None else "linear"
        return f"Dense({in_units} -> {shape[0]}, {activation})"


class Activation(HybridBlock):
    def __init__(self, activation, **kwargs):
        self._act_type = activation         # before Block.__init__, which counts _alias()
        super().__init__(**kwargs)

    def _alias(self):
        return self._act_type

    def hybrid_forward(self, F, x):
        return F.Activation(x, act_type=self._act_type, name="fwd")

    def __repr__(self):
        return f"Activation({self._act_type})"


def activation_child(block, activation):
    """The Activation a layer applies after its operator, named inside the layer
    (`dense0_relu_`) as in MXNet; None for no activation."""
    if activation is None:
        return None
    with block.name_scope():
        return Activation(activation, prefix=activation + "_")


class Dropout(HybridBlock):
    """Zeroes a fraction `rate` of the inputs while training (autograd.record())."""

    def __init__(self, rate, axes=(), **kwargs):
        super().__init__(**kwargs)
        self._rate, self._axes = rate, axes

    def hybrid_forward(self, F, x):
        if self._rate > 0:
            return F.Dropout(x, p=self._rate, axes=self._axes, name="fwd")
        return F.identity(x)

    def __repr__(self):
        return f"Dropout(p = {self._rate}, axes={self._axes})"


class Flatten(HybridBlock):
    def hybrid_forward(self, F, x):
        return F.Flatten(x)

    def __repr__(self):
        return "Flatten"


class Lambda(Block):
    """Wraps a function of arrays (or the name of an `nd` function) as a Block."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            from ... import ndarray
            function = getattr(ndarray, function)
        self._func = function

    def forward(self, *args):
        return self._func(*args)

    def __repr__(self):
        return f"Lambda({getattr(self._func, '__name__', 'function')})"


class HybridLambda(HybridBlock):
    """Wraps `function(F, x, ...)` (or the name of an operator) as a HybridBlock."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            self._op_name, self._func = function, None
            self._func_name = function
        else:
            self._op_name, self._func = None, function
            self._func_name = getattr(function, "__name__", "function")

    def hybrid_forward(self, F, x, *args):
        if self._op_name is not None:
            return getattr(F, self._op_name)(x, *args)
        return self._func(F, x, *args)

    def __repr__(self):
        return f"HybridLambda({self._func_name})"


class BatchNorm(HybridBlock):
    """Batch normalization over every axis but `axis`.

    While training (autograd.record()) the batch statistics normalize and the running
    statistics are updated in place: running = running * momentum + batch * (1 - momentum);
    otherwise (or with use_global_stats) the running statistics are used. `running_mean` and
    `running_var` are parameters with grad_req='null', fed to the operator's auxiliary inputs
    `moving_mean` and `moving_var` (exported as `aux:` parameters).
    """

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True,
                 use_global_stats=False, beta_initializer="zeros", gamma_initializer="ones",
                 running_mean_initializer="zeros", running_variance_initializer="ones",
                 in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._axis, self._center, self._scale = axis, center, scale
        # the operator's attributes, under MXNet's name: GluonCV's BatchNorm subclasses pass
        # them on to F.BatchNorm themselves
        self._kwargs = {"axis": axis, "eps": epsilon, "momentum": momentum,
                        "fix_gamma": not scale, "use_global_stats": use_global_stats}
        if in_channels != 0:
            self.in_channels = in_channels
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null",
                                     shape=(in_channels,), init=gamma_initializer,
                                     allow_deferred_init=True, differentiable=scale)
        self.beta = self.params.get("beta", grad_req="write" if center else "null",
                                    shape=(in_channels,), init=beta_initializer,
                                    allow_deferred_init=True, differentiable=center)
        self.running_mean = self.params.get("running_mean", grad_req="null",
                                            shape=(in_channels,),
                                            init=running_mean_initializer,
                                            allow_deferred_init=True, differentiable=False)
        self.running_var = self.params.get("running_var", grad_req="null",
                                           shape=(in_channels,),
                                           init=running_variance_initializer,
                                           allow_deferred_init=True, differentiable=False)

    def cast(self, dtype):
        if np.dtype(dtype).name == "float16":
            dtype = "float32"
        super().cast(dtype)

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        return F.BatchNorm(x, gamma, beta, running_mean, running_var, name="fwd",
                           **self._kwargs)

    def __repr__(self):
        in_channels = self.gamma.shape[0] if self.gamma.shape else 0
        content = ", ".join(f"{k}={v!r}" for k, v in self._kwargs.items())
        return (f"BatchNorm({content}, "
                f"in_channels={in_channels if in_channels else None})")


def _add_gamma_beta(block, size, center, scale, gamma_initializer, beta_initializer):
    """A normalization layer's gamma (learned if `scale`) and beta (learned if `center`),
    `size` entries each (0: learned from the first input)."""
    block.gamma = block.params.get("gamma", grad_req="write" if scale else "null",
                                   shape=(size,), init=gamma_initializer,
                                   allow_deferred_init=True)
    block.beta = block.params.get("beta", grad_req="write" if center else "null",
                                  shape=(size,), init=beta_initializer, allow_deferred_init=True)


class LayerNorm(HybridBlock):
    """Layer normalization along `axis`: (x - mean) / sqrt(var + epsilon) * gamma + beta."""

    def __init__(self, axis=-1, epsilon=1e-5, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._axis, self._epsilon, self._center, self._scale = axis, epsilon, center, scale
        _add_gamma_beta(self, in_channels, center, scale, gamma_initializer, beta_initializer)

    def hybrid_forward(self, F, data, gamma, beta):
        return F.LayerNorm(data, gamma, beta, axis=self._axis, eps=self._epsilon, name="fwd")

    def __repr__(self):
        in_channels = self.gamma.shape[0] if self.gamma.shape else 0
        return (f"LayerNorm(eps={self._epsilon!r}, axis={self._axis!r}, "
                f"center={self._center!r}, scale={self._scale!r}, in_channels={in_channels})")


class Embedding(HybridBlock):
    """Maps integer indices (any shape) to rows of a (input_dim, output_dim) weight."""

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None,
                 sparse_grad=False, **kwargs):
        super().__init__(**kwargs)
        self._input_dim, self._output_dim = int(input_dim), int(output_dim)
        self._dtype = np.dtype(dtype).name
        self._sparse_grad = bool(sparse_grad)
        self.weight = self.params.get("weight", shape=(self._input_dim, self._output_dim),
                                      init=weight_initializer, dtype=dtype,
                                      allow_deferred_init=True)

    def hybrid_forward(self, F, x, weight):
        return F.Embedding(x, weight, input_dim=self._input_dim, output_dim=self._output_dim,
                           dtype=self._dtype, sparse_grad=self._sparse_grad, name="fwd")

    def __repr__(self):
        return f"Embedding({self._input_dim} -> {self._output_dim}, {self._dtype})"


class InstanceNorm(HybridBlock):
    """Instance normalization: each sample's channel normalized over its spatial axes, then
    scaled by gamma and shifted by beta (per channel; `axis` is the channel axis)."""

    def __init__(self, axis=1, epsilon=1e-5, center=True, scale=False,
                 beta_initializer="zeros", gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis, self._epsilon = axis, epsilon
        _add_gamma_beta(self, in_channels, center, scale, gamma_initializer, beta_initializer)

    def hybrid_forward(self, F, x, gamma, beta):
        if self._axis == 1:
            return F.InstanceNorm(x, gamma, beta, name="fwd", eps=self._epsilon)
        x = x.swapaxes(1, self._axis)
        return F.InstanceNorm(x, gamma, beta, name="fwd",
                              eps=self._epsilon).swapaxes(1, self._axis)

    def __repr__(self):
        content = ", ".join(f"{k}={v!r}" for k, v in self._kwargs.items())
        return f"InstanceNorm({content}, in_channels={self.gamma.shape[0]})"


class GroupNorm(HybridBlock):
    """Group normalization: each sample's channels split into `num_groups` groups, each
    normalized over its channels and spatial axes, then scaled and shifted per group (gamma
    and beta have `num_groups` entries, as in MXNet 1.x)."""

    def __init__(self, num_groups=1, epsilon=1e-5, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "num_groups": num_groups, "center": center,
                        "scale": scale}
        self._num_groups, self._epsilon = num_groups, epsilon
        self._center, self._scale = center, scale
        _add_gamma_beta(self, num_groups, center, scale, gamma_initializer, beta_initializer)

    def hybrid_forward(self, F, data, gamma, beta):
        return F.GroupNorm(data, gamma=gamma, beta=beta, num_groups=self._num_groups,
                           eps=self._epsilon)

    def __repr__(self):
        content = ", ".join(f"{k}={v!r}" for k, v in self._kwargs.items())
        return f"GroupNorm({content})"
