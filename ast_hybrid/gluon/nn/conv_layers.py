"""Convolution and pooling layers (`Conv1D/2D/3D`, `Conv1D/2D/3DTranspose`, `MaxPool*`,
`AvgPool*`, `Global*Pool*`).

Names, signatures, defaults and reprs follow MXNet 1.x Gluon. Each layer's hybrid_forward is
one call of a table operator (`Convolution`, `Deconvolution`, `Pooling`, `Pad`) whose
attributes are plain values read from `self`, so the AST front end specializes them away.
"""
from ..block import HybridBlock
from .basic_layers import activation_child


def _check_layout(layout, allowed):
    """MXNet's layers assert their layout when made (AssertionError, with MXNet's text)."""
    if layout not in allowed:
        raise AssertionError(f"Only supports {' and '.join(map(repr, allowed))} layout for now")


_CONV_LAYOUTS = {1: ("NCW",), 2: ("NCHW", "NHWC"), 3: ("NCDHW", "NDHWC")}
_POOL_LAYOUTS = {1: ("NCW", "NWC"), 2: ("NCHW", "NHWC"), 3: ("NCDHW", "NDHWC")}


def _tuple(value, ndim, what):
    """`3` -> (3, 3) for a 2-d layer; a tuple must have one entry per spatial axis."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an int or a tuple of {ndim} ints, not {value!r}")
    if hasattr(value, "__index__"):
        return (int(value),) * ndim
    value = tuple(int(v) for v in value)
    if len(value) != ndim:
        raise ValueError(f"{what} must have {ndim} entries for a {ndim}-d layer, got {value}")
    return value


class _Conv(HybridBlock):
    """N-d convolution over channel-first data: activation(conv(x, weight) + bias)."""

    def __init__(self, channels, kernel_size, strides, padding, dilation, groups, layout,
                 in_channels=0, activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", ndim=2, **kwargs):
        _check_layout(layout, _CONV_LAYOUTS[ndim])
        super().__init__(**kwargs)
        self._channels, self._in_channels, self._groups = int(channels), int(in_channels), \
            int(groups)
        self._kernel = _tuple(kernel_size, ndim, "kernel_size")
        self._strides = _tuple(strides, ndim, "strides")
        self._padding = _tuple(padding, ndim, "padding")
        self._dilation = _tuple(dilation, ndim, "dilation")
        self._layout = layout
        if self._groups < 1 or self._channels % self._groups:
            raise ValueError(f"{type(self).__name__}: groups={groups} must divide "
                             f"channels={channels}")
        if self._in_channels % self._groups:
            raise ValueError(f"{type(self).__name__}: groups={groups} must divide "
                             f"in_channels={in_channels}")
        self.weight = self.params.get(
            "weight", shape=self._weight_shape(), init=weight_initializer,
            allow_deferred_init=True)
        self.bias = (self.params.get("bias", shape=(self._channels,), init=bias_initializer,
                                     allow_deferred_init=True)
                     if use_bias else None)
        self.act = activation_child(self, activation)

    def _weight_shape(self):
        return (self._channels, self._in_channels // self._groups) + self._kernel

    def _alias(self):
        return "conv"

    def hybrid_forward(self, F, x, weight, bias=None):
        out = F.Convolution(x, weight, bias, no_bias=bias is None, kernel=self._kernel,
                            stride=self._strides, dilate=self._dilation, pad=self._padding,
                            num_filter=self._channels, num_group=self._groups,
                            layout=self._layout, name="fwd")
        if self.act is not None:
            out = self.act(out)
        return out

    def __repr__(self):
        ndim = len(self._kernel)
        shape = self.weight.shape
        in_channels = shape[1] if shape[1] else None
        text = (f"{type(self).__name__}({in_channels} -> {shape[0]}, "
                f"kernel_size={self._kernel}, stride={self._strides}")
        if self._padding != (0,) * ndim:
            text += f", padding={self._padding}"
        if self._dilation != (1,) * ndim:
            text += f", dilation={self._dilation}"
        if self._groups != 1:
            text += f", groups={self._groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.act is not None:
            text += f", {self.act!r}"
        return text + ")"


class Conv1D(_Conv):
    """1-d convolution over (batch, channels, width) data."""

    def __init__(self, channels, kernel_size, strides=1, padding=0, dilation=1, groups=1,
                 layout="NCW", activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", in_channels=0, **kwargs):
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, ndim=1, **kwargs)


class Conv2D(_Conv):
    """2-d convolution over (batch, channels, height, width) data."""

    def __init__(self, channels, kernel_size, strides=(1, 1), padding=(0, 0),
                 dilation=(1, 1), groups=1, layout="NCHW", activation=None, use_bias=True,
                 weight_initializer=None, bias_initializer="zeros", in_channels=0, **kwargs):
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, ndim=2, **kwargs)


class Conv3D(_Conv):
    """3-d convolution over (batch, channels, depth, height, width) data."""

    def __init__(self, channels, kernel_size, strides=(1, 1, 1), padding=(0, 0, 0),
                 dilation=(1, 1, 1), groups=1, layout="NCDHW", activation=None, use_bias=True,
                 weight_initializer=None, bias_initializer="zeros", in_channels=0, **kwargs):
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, ndim=3, **kwargs)


class _ConvTranspose(_Conv):
    """N-d transposed convolution (MXNet's `Deconvolution`): its weight is
    (in_channels, channels / groups, *kernel); `output_padding` adds to the output's size at
    the end of each spatial axis (the operator's `adj`)."""

    def __init__(self, channels, kernel_size, strides, padding, output_padding, dilation,
                 groups, layout, activation, use_bias, weight_initializer, bias_initializer,
                 in_channels, ndim, **kwargs):
        self._output_padding = _tuple(output_padding, ndim, "output_padding")
        self.outpad = self._output_padding
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, ndim=ndim, **kwargs)

    def _weight_shape(self):
        return (self._in_channels, self._channels // self._groups) + self._kernel

    def hybrid_forward(self, F, x, weight, bias=None):
        out = F.Deconvolution(x, weight, bias, no_bias=bias is None, kernel=self._kernel,
                              stride=self._strides, dilate=self._dilation, pad=self._padding,
                              adj=self._output_padding, num_filter=self._channels,
                              num_group=self._groups, layout=self._layout, name="fwd")
        if self.act is not None:
            out = self.act(out)
        return out


class Conv1DTranspose(_ConvTranspose):
    """1-d transposed convolution over (batch, channels, width) data."""

    def __init__(self, channels, kernel_size, strides=1, padding=0, output_padding=0,
                 dilation=1, groups=1, layout="NCW", activation=None, use_bias=True,
                 weight_initializer=None, bias_initializer="zeros", in_channels=0, **kwargs):
        _check_layout(layout, ("NCW",))
        super().__init__(channels, kernel_size, strides, padding, output_padding, dilation,
                         groups, layout, activation, use_bias, weight_initializer,
                         bias_initializer, in_channels, ndim=1, **kwargs)


class Conv2DTranspose(_ConvTranspose):
    """2-d transposed convolution over (batch, channels, height, width) data."""

    def __init__(self, channels, kernel_size, strides=(1, 1), padding=(0, 0),
                 output_padding=(0, 0), dilation=(1, 1), groups=1, layout="NCHW",
                 activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", in_channels=0, **kwargs):
        _check_layout(layout, ("NCHW", "NHWC"))
        super().__init__(channels, kernel_size, strides, padding, output_padding, dilation,
                         groups, layout, activation, use_bias, weight_initializer,
                         bias_initializer, in_channels, ndim=2, **kwargs)


class Conv3DTranspose(_ConvTranspose):
    """3-d transposed convolution over (batch, channels, depth, height, width) data."""

    def __init__(self, channels, kernel_size, strides=(1, 1, 1), padding=(0, 0, 0),
                 output_padding=(0, 0, 0), dilation=(1, 1, 1), groups=1, layout="NCDHW",
                 activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", in_channels=0, **kwargs):
        _check_layout(layout, ("NCDHW", "NDHWC"))
        super().__init__(channels, kernel_size, strides, padding, output_padding, dilation,
                         groups, layout, activation, use_bias, weight_initializer,
                         bias_initializer, in_channels, ndim=3, **kwargs)


class _Pooling(HybridBlock):
    """Max or average pooling; `strides=None` means `pool_size`; `ceil_mode` rounds the output
    size up (MXNet's 'full' pooling convention)."""

    def __init__(self, pool_size, strides, padding, ceil_mode, global_pool, pool_type, layout,
                 count_include_pad=None, ndim=2, **kwargs):
        _check_layout(layout, _POOL_LAYOUTS[ndim])
        super().__init__(**kwargs)
        self._kernel = _tuple(pool_size, ndim, "pool_size")
        self._strides = self._kernel if strides is None else _tuple(strides, ndim, "strides")
        self._padding = _tuple(padding, ndim, "padding")
        self._ceil_mode = bool(ceil_mode)
        self._global_pool = bool(global_pool)
        self._pool_type = pool_type
        self._layout = layout
        self._count_include_pad = count_include_pad

    def _alias(self):
        return "pool"

    def hybrid_forward(self, F, x):
        return F.Pooling(x, kernel=self._kernel, stride=self._strides, pad=self._padding,
                         global_pool=self._global_pool, pool_type=self._pool_type,
                         pooling_convention="full" if self._ceil_mode else "valid",
                         count_include_pad=self._count_include_pad, layout=self._layout,
                         name="fwd")

    def __repr__(self):
        return (f"{type(self).__name__}(size={self._kernel}, stride={self._strides}, "
                f"padding={self._padding}, ceil_mode={self._ceil_mode}, "
                f"global_pool={self._global_pool}, pool_type={self._pool_type}, "
                f"layout={self._layout})")


class MaxPool1D(_Pooling):
    def __init__(self, pool_size=2, strides=None, padding=0, layout="NCW", ceil_mode=False,
                 **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout,
                         ndim=1, **kwargs)


class MaxPool2D(_Pooling):
    def __init__(self, pool_size=(2, 2), strides=None, padding=0, layout="NCHW",
                 ceil_mode=False, **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout,
                         ndim=2, **kwargs)


class MaxPool3D(_Pooling):
    def __init__(self, pool_size=(2, 2, 2), strides=None, padding=0, ceil_mode=False,
                 layout="NCDHW", **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout,
                         ndim=3, **kwargs)


class AvgPool1D(_Pooling):
    def __init__(self, pool_size=2, strides=None, padding=0, layout="NCW", ceil_mode=False,
                 count_include_pad=True, **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout,
                         count_include_pad, ndim=1, **kwargs)


class AvgPool2D(_Pooling):
    def __init__(self, pool_size=(2, 2), strides=None, padding=0, ceil_mode=False,
                 layout="NCHW", count_include_pad=True, **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout,
                         count_include_pad, ndim=2, **kwargs)


class AvgPool3D(_Pooling):
    def __init__(self, pool_size=(2, 2, 2), strides=None, padding=0, ceil_mode=False,
                 layout="NCDHW", count_include_pad=True, **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout,
                         count_include_pad, ndim=3, **kwargs)


class GlobalMaxPool1D(_Pooling):
    """Global maximum pooling over every spatial axis; the output keeps them with size 1."""

    def __init__(self, layout="NCW", **kwargs):
        super().__init__((1,), None, 0, True, True, "max", layout, ndim=1, **kwargs)


class GlobalMaxPool2D(_Pooling):
    """Global maximum pooling over every spatial axis; the output keeps them with size 1."""

    def __init__(self, layout="NCHW", **kwargs):
        super().__init__((1, 1), None, 0, True, True, "max", layout, ndim=2, **kwargs)


class GlobalMaxPool3D(_Pooling):
    """Global maximum pooling over every spatial axis; the output keeps them with size 1."""

    def __init__(self, layout="NCDHW", **kwargs):
        super().__init__((1, 1, 1), None, 0, True, True, "max", layout, ndim=3, **kwargs)


class GlobalAvgPool1D(_Pooling):
    """Global average pooling over every spatial axis; the output keeps them with size 1."""

    def __init__(self, layout="NCW", **kwargs):
        super().__init__((1,), None, 0, True, True, "avg", layout, ndim=1, **kwargs)


class GlobalAvgPool2D(_Pooling):
    """Global average pooling over every spatial axis; the output keeps them with size 1."""

    def __init__(self, layout="NCHW", **kwargs):
        super().__init__((1, 1), None, 0, True, True, "avg", layout, ndim=2, **kwargs)


class GlobalAvgPool3D(_Pooling):
    """Global average pooling over every spatial axis; the output keeps them with size 1."""

    def __init__(self, layout="NCDHW", **kwargs):
        super().__init__((1, 1, 1), None, 0, True, True, "avg", layout, ndim=3, **kwargs)


class ReflectionPad2D(HybridBlock):
    """Pads (batch, channels, height, width) data by reflecting it about its edges; `padding`
    is an int (every side of height and width) or MXNet's 8-tuple of pad widths."""

    def __init__(self, padding=0, **kwargs):
        super().__init__(**kwargs)
        if hasattr(padding, "__index__") and not isinstance(padding, bool):
            padding = (0, 0, 0, 0, padding, padding, padding, padding)
        padding = tuple(padding)
        if len(padding) != 8:
            raise AssertionError(f"padding must be an int or 8 ints, got {padding}")
        self._padding = padding

    def hybrid_forward(self, F, x):
        return F.pad(x, mode="reflect", pad_width=self._padding)
