"""Record MXNet 1.9.1 on small blocks written as GluonCV writes its models, for
tests/gluon/test_gluoncv_style.py: the parameter file its save_parameters writes, the
output, and a training step's gradients and running statistics.

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_gluoncv_style_reference.py \
        tests/data/mxnet_gluoncv_style_reference.json
(see tools/mxnet_reference.py for installing it). The test imports this file's functions and
passes ast_hybrid in place of mxnet. The blocks reproduce what GluonCV's model code does
that a plain Gluon model does not (tools/gluoncv_models.py runs GluonCV's own code):
attributes set before `super().__init__()`, a `norm_layer` class with `norm_kwargs`,
`last_gamma` (a zero-initialized last BatchNorm scale), a deep stem, `avg_down` (an
AvgPool2D with ceil_mode and count_include_pad=False on odd sizes), HardSigmoid/HardSwish,
squeeze-and-excitation with AdaptiveAvgPooling2D, grouped convolutions, ResNeSt's split
attention, DropBlock's pooling of a mask with four pads, and a BatchNorm subclass calling
F.BatchNorm with the layer's `_kwargs`.
"""
import base64
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxnet_model_zoo_reference import parameter_value  # noqa: E402  (tools/ is no package)

INPUT_SHAPE = (4, 3, 27, 27)      # odd sides, so that ceil_mode's last windows are partial
NORM_KWARGS = {"momentum": 0.8, "epsilon": 2e-5}
CLASSES = 5


def define(mx):
    """The blocks, as classes of `mx`'s Gluon; returns the network's class."""
    nn, HybridBlock = mx.gluon.nn, mx.gluon.HybridBlock

    class HardSigmoid(HybridBlock):
        def hybrid_forward(self, F, x):
            return F.clip(x + 3., 0, 6, name="relu6") / 6.

    class HardSwish(HybridBlock):
        def __init__(self, **kwargs):
            super(HardSwish, self).__init__(**kwargs)
            self.act = HardSigmoid()

        def hybrid_forward(self, F, x):
            return x * self.act(x)

    class BatchNormCudnnOff(nn.BatchNorm):
        def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
            return F.BatchNorm(x, gamma, beta, running_mean, running_var,
                               name='fwd', cudnn_off=True, **self._kwargs)

    class SqueezeExcite(HybridBlock):
        def __init__(self, channels, reduction=4, **kwargs):
            super(SqueezeExcite, self).__init__(**kwargs)
            with self.name_scope():
                self.fc1 = nn.Conv2D(channels // reduction, 1, in_channels=channels)
                self.fc2 = nn.Conv2D(channels, 1, in_channels=channels // reduction)
                self.gate = HardSigmoid()

        def hybrid_forward(self, F, x):
            w = F.contrib.AdaptiveAvgPooling2D(x, output_size=1)
            w = self.gate(self.fc2(F.relu(self.fc1(w))))
            return F.broadcast_mul(x, w)

    class SplitAttention(HybridBlock):
        def __init__(self, channels, radix=2, groups=2, norm_layer=nn.BatchNorm,
                     norm_kwargs=None, **kwargs):
            super(SplitAttention, self).__init__(**kwargs)
            norm_kwargs = norm_kwargs if norm_kwargs is not None else {}
            self.radix, self.cardinality, self.channels = radix, groups, channels
            self.conv = nn.Conv2D(channels * radix, 3, padding=1, groups=groups * radix,
                                  in_channels=channels, use_bias=False)
            self.bn = norm_layer(in_channels=channels * radix, **norm_kwargs)
            self.fc1 = nn.Conv2D(8, 1, in_channels=channels, groups=groups)
            self.fc2 = nn.Conv2D(channels * radix, 1, in_channels=8, groups=groups)

        def hybrid_forward(self, F, x):
            x = F.relu(self.bn(self.conv(x)))
            splited = F.reshape(x.expand_dims(1), (0, self.radix, self.channels, 0, 0))
            gap = F.contrib.AdaptiveAvgPooling2D(F.sum(splited, axis=1), 1)
            atten = self.fc2(F.relu(self.fc1(gap)))
            atten = atten.reshape((0, self.cardinality, self.radix, -1)).swapaxes(1, 2)
            atten = F.softmax(atten, axis=1).reshape((0, self.radix, -1, 1, 1))
            return F.sum(F.broadcast_mul(atten, splited), axis=1)

    class MaskPool(HybridBlock):
        """DropBlock's widening of a mask, the mask taken from the data (not drawn)."""

        def __init__(self, block_size, **kwargs):
            super(MaskPool, self).__init__(**kwargs)
            pad = block_size - 1
            self.block_size = block_size
            self.padding = (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2)

        def hybrid_forward(self, F, x):
            mask = x > 0.5
            mask = F.Pooling(mask, pool_type='max', kernel=(self.block_size, self.block_size),
                             pad=self.padding)
            return F.broadcast_mul(x, 1 - mask)

    class Bottleneck(HybridBlock):
        def __init__(self, planes, strides=1, groups=1, avg_down=False, last_gamma=False,
                     norm_layer=nn.BatchNorm, norm_kwargs=None, use_se=False, **kwargs):
            self.expansion = 2          # before super().__init__(), as GluonCV's blocks do
            super(Bottleneck, self).__init__(**kwargs)
            norm_kwargs = norm_kwargs if norm_kwargs is not None else {}
            with self.name_scope():
                self.conv1 = nn.Conv2D(planes, 1, use_bias=False)
                self.bn1 = norm_layer(**norm_kwargs)
                self.conv2 = nn.Conv2D(planes, 3, strides, 1, groups=groups, use_bias=False)
                self.bn2 = norm_layer(**norm_kwargs)
                self.act = HardSwish()
                self.conv3 = nn.Conv2D(planes * self.expansion, 1, use_bias=False)
                self.bn3 = norm_layer(gamma_initializer='zeros' if last_gamma else 'ones',
                                      **norm_kwargs)
                self.se = SqueezeExcite(planes * self.expansion) if use_se else None
                self.downsample = nn.HybridSequential(prefix='down_')
                if avg_down:
                    self.downsample.add(nn.AvgPool2D(pool_size=strides, strides=strides,
                                                     ceil_mode=True, count_include_pad=False))
                    self.downsample.add(nn.Conv2D(planes * self.expansion, 1, use_bias=False))
                else:
                    self.downsample.add(nn.Conv2D(planes * self.expansion, 1, strides,
                                                  use_bias=False))
                self.downsample.add(norm_layer(**norm_kwargs))

        def hybrid_forward(self, F, x):
            residual = x
            out = self.act(self.bn1(self.conv1(x)))
            out = self.act(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            if self.se:
                out = self.se(out)
            return F.Activation(out + self.downsample(residual), act_type='relu')

    class GluonCVStyleNet(HybridBlock):
        def __init__(self, classes=CLASSES, deep_stem=True, stem_width=8,
                     norm_layer=nn.BatchNorm, norm_kwargs=None, **kwargs):
            self.inplanes = stem_width * 2      # before super().__init__()
            super(GluonCVStyleNet, self).__init__(**kwargs)
            norm_kwargs = norm_kwargs if norm_kwargs is not None else {}
            with self.name_scope():
                if deep_stem:
                    self.conv1 = nn.HybridSequential(prefix='conv1_')
                    self.conv1.add(nn.Conv2D(stem_width, 3, 2, 1, use_bias=False))
                    self.conv1.add(norm_layer(**norm_kwargs))
                    self.conv1.add(nn.Activation('relu'))
                    self.conv1.add(nn.Conv2D(stem_width, 3, 1, 1, use_bias=False))
                    self.conv1.add(norm_layer(**norm_kwargs))
                    self.conv1.add(nn.Activation('relu'))
                    self.conv1.add(nn.Conv2D(self.inplanes, 3, 1, 1, use_bias=False))
                else:
                    self.conv1 = nn.Conv2D(self.inplanes, 7, 2, 3, use_bias=False)
                self.bn1 = norm_layer(**norm_kwargs)
                self.relu = nn.Activation('relu')
                self.maxpool = nn.MaxPool2D(pool_size=3, strides=2, padding=1)
                self.layer1 = Bottleneck(8, strides=2, groups=4, avg_down=True,
                                         last_gamma=True, norm_layer=norm_layer,
                                         norm_kwargs=norm_kwargs, use_se=True)
                self.attention = SplitAttention(16, norm_layer=BatchNormCudnnOff,
                                                norm_kwargs=norm_kwargs)
                self.mask = MaskPool(3)
                self.head = HardSwish()
                self.pool = nn.GlobalAvgPool2D()
                self.flat = nn.Flatten()
                self.fc = nn.Dense(classes)

        def hybrid_forward(self, F, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.mask(self.attention(self.layer1(x)))
            return self.fc(self.flat(self.pool(self.head(x))))

    return GluonCVStyleNet


def make(mx):
    """The network with the norm_kwargs, initialized, its deferred shapes known."""
    net = define(mx)(norm_layer=mx.gluon.nn.BatchNorm, norm_kwargs=dict(NORM_KWARGS))
    net.initialize()
    net(mx.nd.array(data()))
    return net


def data():
    return np.random.RandomState(0).uniform(-1, 1, INPUT_SHAPE).astype("float32")


def cotangent(shape):
    return np.random.RandomState(1).uniform(-1, 1, shape).astype("float32")


def set_parameters(mx, net):
    for key, param in net._collect_params_with_prefix().items():
        param.set_data(mx.nd.array(parameter_value(key, param.shape)))


def training_step(mx, net):
    """A training step's gradients of (output * cotangent).sum() for the input and every
    parameter, and the running statistics it leaves ('KEY:after'), as numpy arrays."""
    x = mx.nd.array(data())
    x.attach_grad()
    with mx.autograd.record():
        out = net(x)
        loss = (out * mx.nd.array(cotangent(out.shape))).sum()
    loss.backward()
    arrays = {"data": x.grad.asnumpy()}
    for key, param in net._collect_params_with_prefix().items():
        if param.grad_req == "null":
            arrays[key + ":after"] = param.data().asnumpy()
        else:
            arrays[key] = param.grad().asnumpy()
    return arrays


def _listed(array):
    return [float(f"{v:.8g}") for v in np.asarray(array).ravel()]


def main(path):
    import mxnet as mx
    net = make(mx)
    initial_last_gamma = net.layer1.bn3.gamma.data().asnumpy()
    set_parameters(mx, net)
    with tempfile.TemporaryDirectory() as folder:
        params_path = os.path.join(folder, "net.params")
        net.save_parameters(params_path)
        with open(params_path, "rb") as stream:
            params_file = base64.b64encode(stream.read()).decode("ascii")
    output = net(mx.nd.array(data())).asnumpy()
    reference = {
        "mxnet_version": mx.__version__,
        "params_file": params_file,
        "initial_last_gamma": _listed(initial_last_gamma),
        "output": _listed(output), "output_shape": list(output.shape),
        "training_step": {key: _listed(value)
                          for key, value in training_step(mx, net).items()},
    }
    with open(path, "w") as stream:
        json.dump(reference, stream, separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv[1])
