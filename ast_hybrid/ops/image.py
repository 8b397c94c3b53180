"""MXNet's image operators (`F.image.*`) on HWC or NHWC images: to_tensor, normalize, resize."""
import weakref

import numpy as np

from . import attrs as A
from .random_state import generator
from .registry import REGISTRY, Op, OpError, check_arrays, register
from .shapes import known, require

_NEAREST, _LINEAR = 0, 1
# OpenCV's fixed-point bilinear weights for 8-bit images: 11 fraction bits per axis
_COEF_BITS = 11
_COEF_SCALE = 1 << _COEF_BITS


def _checked(name, data, **attrs):
    """The parsed attributes, once the shape rule accepts `data`: a compiled program calls a
    kernel alone, with attributes it may not have parsed, and must refuse as the rule does
    (cheap beside an image's work)."""
    attrs = REGISTRY[name].parse_attrs(attrs)
    check_arrays(name, attrs, (data,))
    return attrs


def _image_shape(name, in_shapes, what="image"):
    data = known(name, in_shapes)[0]
    require(len(data) in (3, 4), name, f"the {what} must be 3-d or 4-d", in_shapes)
    return data


def _to_tensor_shape(attrs, in_shapes):
    data = _image_shape("_image_to_tensor", in_shapes)
    return [data], [data[:-3] + (data[-1],) + data[-3:-1]]


def _to_tensor(data):
    _checked("_image_to_tensor", data)
    # float32 division, as MXNet's kernel computes it
    return np.moveaxis(data.astype(np.float32) / np.float32(255), -1, -3)


def _to_tensor_grad(attrs, inputs, outputs, out_grads):
    data = inputs[0]
    if data.dtype.kind != "f":
        return [None]
    return [(np.moveaxis(out_grads[0], -3, -1) / 255).astype(data.dtype)]


def _normalize_shape(attrs, in_shapes):
    name = "_image_normalize"
    data = _image_shape(name, in_shapes, "tensor")
    channels = data[-3]
    require(channels in (1, 3), name, "the channel axis (CHW or NCHW) must have 1 or 3 "
            "elements", in_shapes)
    for key in ("mean", "std"):
        require(len(attrs[key]) in (1, channels), name, f"{key} must have 1 or {channels} "
                f"elements, got {attrs[key]}", in_shapes)
    return [data], [data]


def _channel_values(values, dtype):
    return np.asarray(values, dtype=np.float32).astype(dtype).reshape(-1, 1, 1)


def _normalize(data, *, mean=(0.0, 0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0, 1.0)):
    attrs = _checked("_image_normalize", data, mean=mean, std=std)
    mean, std = attrs["mean"], attrs["std"]
    return (data - _channel_values(mean, data.dtype)) / _channel_values(std, data.dtype)


def _normalize_grad(attrs, inputs, outputs, out_grads):
    return [out_grads[0] / _channel_values(attrs["std"], inputs[0].dtype)]


def resize_target(height, width, size, keep_ratio):
    """(height, width) of MXNet's image.resize: size is (width, height), or one number for
    both edges, or for the short edge with keep_ratio (the long one scaled, rounded down)."""
    if len(size) == 2:
        return size[1], size[0]
    if not keep_ratio:
        return size[0], size[0]
    if height > width:
        return height * size[0] // width, size[0]
    return size[0], width * size[0] // height


def _resize_shape(attrs, in_shapes):
    name = "_image_resize"
    data = _image_shape(name, in_shapes)
    size = attrs["size"]
    require(len(size) in (1, 2), name, f"size must have 1 or 2 elements, got {size}", in_shapes)
    require(min(size) > 0, name, f"size must be positive, got {size}", in_shapes)
    target = resize_target(data[-3], data[-2], size, attrs["keep_ratio"])
    require(min(target) > 0, name, f"the output size {target} must be positive", in_shapes)
    return [data], [data[:-3] + tuple(target) + data[-1:]]


def _linear_taps(source, target, clamp_weight):
    """OpenCV's bilinear taps along one axis: first source index, second, and the float32
    weight of the second, pixel centres aligned. Beyond the edge pixels OpenCV clamps the
    columns' weights but only the rows' indices, which its fixed-point rounding can tell."""
    scale = source / target
    position = ((np.arange(target) + 0.5) * scale - 0.5).astype(np.float32)
    first = np.floor(position).astype(np.intp)
    weight = position - first.astype(np.float32)
    if clamp_weight:
        weight[(first < 0) | (first >= source - 1)] = 0
    return np.clip(first, 0, source - 1), np.clip(first + 1, 0, source - 1), weight


def _resize_linear_uint8(image, rows, columns):
    """OpenCV's 8-bit bilinear resize in its fixed-point arithmetic: 11-bit weights, a
    horizontal pass in integers, a vertical pass rounding as its vectorised loop does."""
    def fixed(weight):
        second = np.rint(weight * _COEF_SCALE).astype(np.int32)
        first = np.rint((np.float32(1) - weight) * _COEF_SCALE).astype(np.int32)
        return first, second
    (x0, x1, wx), (y0, y1, wy) = columns, rows
    ax0, ax1 = fixed(wx)
    by0, by1 = fixed(wy)
    pixels = image.astype(np.int32)
    horizontal = pixels[:, x0] * ax0[:, None] + pixels[:, x1] * ax1[:, None]
    top = ((horizontal[y0] >> 4) * by0[:, None, None]) >> 16
    bottom = ((horizontal[y1] >> 4) * by1[:, None, None]) >> 16
    return np.clip((top + bottom + 2) >> 2, 0, 255).astype(np.uint8)


def _resize_linear_float(image, rows, columns):
    (x0, x1, wx), (y0, y1, wy) = columns, rows
    wx, wy = wx.astype(image.dtype)[:, None], wy.astype(image.dtype)[:, None, None]
    one = image.dtype.type(1)
    horizontal = image[:, x0] * (one - wx) + image[:, x1] * wx
    return horizontal[y0] * (one - wy) + horizontal[y1] * wy


def _resize_halve(image):
    """OpenCV's resize of an exact 2:1 reduction on both axes: the mean of each 2x2 block
    (rounded to nearest for 8-bit images), which its bilinear mode uses there."""
    height, width = image.shape[0] // 2, image.shape[1] // 2
    blocks = image[:2 * height, :2 * width].reshape(height, 2, width, 2, -1)
    if image.dtype == np.uint8:
        return ((blocks.astype(np.int32).sum(axis=(1, 3)) + 2) >> 2).astype(np.uint8)
    return blocks.sum(axis=(1, 3)) * image.dtype.type(0.25)


def _resize_image(image, height, width, interp):
    source_height, source_width = image.shape[:2]
    if (height, width) == (source_height, source_width):
        return image.copy()
    if interp == _NEAREST:
        rows = np.minimum((np.arange(height) * (source_height / height)).astype(np.intp),
                          source_height - 1)
        columns = np.minimum((np.arange(width) * (source_width / width)).astype(np.intp),
                             source_width - 1)
        return image[rows][:, columns]
    if source_height == 2 * height and source_width == 2 * width:
        return _resize_halve(image)
    rows = _linear_taps(source_height, height, clamp_weight=False)
    columns = _linear_taps(source_width, width, clamp_weight=True)
    if image.dtype == np.uint8:
        return _resize_linear_uint8(image, rows, columns)
    return _resize_linear_float(image, rows, columns)


def _axis_matrix(source, target, interp, clamp_weight):
    """The resize along one axis as a (target, source) matrix (for the gradient)."""
    matrix = np.zeros((target, source))
    steps = np.arange(target)
    if interp == _NEAREST:
        matrix[steps, np.minimum((steps * (source / target)).astype(np.intp), source - 1)] = 1
        return matrix
    # an exact halving's 2x2 mean has these bilinear weights (one half each) too
    first, second, weight = _linear_taps(source, target, clamp_weight)
    np.add.at(matrix, (steps, first), 1 - weight.astype(np.float64))
    np.add.at(matrix, (steps, second), weight.astype(np.float64))
    return matrix


def _resize_grad(attrs, inputs, outputs, out_grads):
    data, g = inputs[0], out_grads[0]
    if data.dtype.kind != "f":
        return [None]
    rows = _axis_matrix(data.shape[-3], g.shape[-3], attrs["interp"], clamp_weight=False)
    columns = _axis_matrix(data.shape[-2], g.shape[-2], attrs["interp"], clamp_weight=True)
    return [np.einsum("oi,pj,...opc->...ijc", rows, columns, g).astype(data.dtype)]


def _resize(data, *, size, keep_ratio=False, interp=_LINEAR):
    attrs = _checked("_image_resize", data, size=size, keep_ratio=keep_ratio, interp=interp)
    size, keep_ratio, interp = attrs["size"], attrs["keep_ratio"], attrs["interp"]
    if interp not in (_NEAREST, _LINEAR):
        raise OpError(f"_image_resize: interp={interp} is not implemented here; 0 (nearest) "
                      f"and 1 (bilinear) are")
    if data.dtype not in (np.uint8, np.float32, np.float64):
        raise OpError(f"_image_resize: images of dtype {data.dtype} cannot be resized "
                      f"(uint8, float32 and float64 can, as OpenCV's resize in MXNet)")
    height, width = resize_target(data.shape[-3], data.shape[-2], size, keep_ratio)
    if data.ndim == 3:
        return _resize_image(data, height, width, interp)
    return np.stack([_resize_image(image, height, width, interp) for image in data])


def _flip(name, axis):
    def kernel(data):
        _checked(name, data)
        return np.flip(data, axis)
    return kernel


# whether each live output of a random flip was flipped, for its gradient
_flipped = {}


def _random_flip(name, axis):
    def kernel(data):
        _checked(name, data)
        flipped = bool(generator().random() < 0.5)
        # a copy either way, so that the array recorded is the one returned
        output = np.flip(data, axis).copy() if flipped else data.copy()
        _flipped[id(output)] = (weakref.ref(output), flipped)
        weakref.finalize(output, _flipped.pop, id(output), None)
        return output
    return kernel


def _random_flip_grad(name, axis):
    def grad(attrs, inputs, outputs, out_grads):
        entry = _flipped.get(id(outputs[0]))
        if entry is None or entry[0]() is not outputs[0]:
            raise OpError(f"{name}: the gradient needs to know whether this output was "
                          f"flipped, which was not kept with it (the output was copied)")
        return [np.flip(out_grads[0], axis) if entry[1] else out_grads[0]]
    return grad


def _flip_grad(axis):
    def grad(attrs, inputs, outputs, out_grads):
        return [np.flip(out_grads[0], axis)]
    return grad


def _image_rule(name):
    def rule(attrs, in_shapes):
        data = _image_shape(name, in_shapes)
        return [data], [data]
    return rule


register(Op("_image_to_tensor", _to_tensor, _to_tensor_shape, grad=_to_tensor_grad,
            doc="HWC (or NHWC) image in [0, 255] to a CHW (NCHW) float32 tensor in [0, 1]."))
register(Op("_image_normalize", _normalize, _normalize_shape, grad=_normalize_grad,
            attrs={"mean": A.FloatTuple((0.0, 0.0, 0.0, 0.0)),
                   "std": A.FloatTuple((1.0, 1.0, 1.0, 1.0))},
            doc="(x - mean) / std per channel of a CHW (NCHW) tensor."))
register(Op("_image_resize", _resize, _resize_shape, grad=_resize_grad,
            attrs={"size": A.Shape(()), "keep_ratio": A.Bool(False), "interp": A.Int(_LINEAR)},
            doc="Resize an HWC (NHWC) image as OpenCV's cv::resize in MXNet (interp 0 or 1)."))
# the width axis is the second to last of HWC and NHWC images, the height the third
for _name, _axis in (("left_right", -2), ("top_bottom", -3)):
    _flip_name, _random_name = f"_image_flip_{_name}", f"_image_random_flip_{_name}"
    register(Op(_flip_name, _flip(_flip_name, _axis), _image_rule(_flip_name),
                grad=_flip_grad(_axis), doc=f"Flip an HWC (NHWC) image {_name}."))
    register(Op(_random_name, _random_flip(_random_name, _axis), _image_rule(_random_name),
                grad=_random_flip_grad(_random_name, _axis),
                doc=f"Flip an HWC (NHWC) image {_name} with probability 0.5."))
