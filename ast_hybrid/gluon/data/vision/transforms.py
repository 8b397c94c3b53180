"""Image transforms of MXNet 1.x's gluon.data.vision.transforms, as Blocks and HybridBlocks."""
import math
import random

from .... import ndarray as nd
from ...block import Block, HybridBlock
from ...nn import HybridSequential, Sequential

__all__ = ["Compose", "Cast", "ToTensor", "Normalize", "Resize", "CenterCrop",
           "RandomResizedCrop", "RandomFlipLeftRight", "RandomFlipTopBottom"]


def _pair(size):
    return (size, size) if isinstance(size, (int, float)) else tuple(size)


class Compose(Sequential):
    """Applies `transforms` in order; each run of consecutive HybridBlocks is put in one
    HybridSequential and hybridized, as MXNet does."""

    def __init__(self, transforms):
        super().__init__()
        run = []
        # MXNet appends its end marker to the caller's list; a copy leaves the list alone
        for transform in list(transforms) + [None]:
            if isinstance(transform, HybridBlock):
                run.append(transform)
                continue
            if len(run) == 1:
                self.add(run[0])
            elif len(run) > 1:
                block = HybridSequential()
                block.add(*run)
                block.hybridize()
                self.add(block)
            run = []
            if transform is not None:
                self.add(transform)


class Cast(HybridBlock):
    """Casts the input to `dtype`."""

    def __init__(self, dtype="float32"):
        super().__init__()
        self._dtype = dtype

    def hybrid_forward(self, F, x):
        return F.cast(x, dtype=self._dtype)


class ToTensor(HybridBlock):
    """(H x W x C) or (N x H x W x C) in [0, 255] to float32 (C x H x W) or (N x C x H x W)
    in [0, 1]."""

    def hybrid_forward(self, F, x):
        return F.image.to_tensor(x)


class Normalize(HybridBlock):
    """(x - mean) / std per channel of a (C x H x W) or (N x C x H x W) tensor; a number
    applies to every channel."""

    def __init__(self, mean=0.0, std=1.0):
        super().__init__()
        self._mean = mean
        self._std = std

    def hybrid_forward(self, F, x):
        return F.image.normalize(x, mean=self._mean, std=self._std)


class Resize(HybridBlock):
    """Resizes (H x W x C) or (N x H x W x C) images to `size`, (width, height), or one
    number for both edges (for the short edge with keep_ratio); interpolation 1 is
    bilinear, 0 nearest, as OpenCV computes them."""

    def __init__(self, size, keep_ratio=False, interpolation=1):
        super().__init__()
        self._keep = keep_ratio
        self._size = size
        self._interpolation = interpolation

    def hybrid_forward(self, F, x):
        return F.image.resize(x, size=self._size, keep_ratio=self._keep,
                              interp=self._interpolation)


class RandomFlipLeftRight(HybridBlock):
    """Flips an (H x W x C) image left to right with probability 0.5."""

    def hybrid_forward(self, F, x):
        return F.image.random_flip_left_right(x)


class RandomFlipTopBottom(HybridBlock):
    """Flips an (H x W x C) image top to bottom with probability 0.5."""

    def hybrid_forward(self, F, x):
        return F.image.random_flip_top_bottom(x)


def _fixed_crop(image, x0, y0, width, height, size, interp):
    """image[y0:y0+height, x0:x0+width], resized to size (width, height) if it differs."""
    out = image[y0:y0 + height, x0:x0 + width]
    if (width, height) != size:
        out = nd.image.resize(out, size=size, interp=interp)
    return out


def _scale_down(source, size):
    """The crop size (width, height) shrunk, keeping its ratio, to fit in `source`."""
    width, height = size
    source_width, source_height = source
    if source_height < height:
        width, height = float(width * source_height) / height, source_height
    if source_width < width:
        width, height = source_width, float(height * source_width) / width
    return int(width), int(height)


def _center_crop(image, size, interp):
    height, width = image.shape[:2]
    new_width, new_height = _scale_down((width, height), size)
    x0, y0 = int((width - new_width) / 2), int((height - new_height) / 2)
    return _fixed_crop(image, x0, y0, new_width, new_height, size, interp)


class CenterCrop(Block):
    """Crops the centre of an (H x W x C) image to `size` (width, height), resizing when
    the image is smaller."""

    def __init__(self, size, interpolation=1):
        super().__init__()
        self._args = (_pair(size), interpolation)

    def forward(self, x):
        return _center_crop(x, *self._args)


class RandomResizedCrop(Block):
    """Crops a random area (`scale` of the image's) of random aspect ratio (`ratio`) and
    resizes it to `size`; draws from Python's `random` as MXNet does, so `random.seed`
    repeats its crops. After ten draws that do not fit it crops the centre."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=1):
        super().__init__()
        self._args = (_pair(size), scale, ratio, interpolation)

    def forward(self, x):
        size, scale, ratio, interp = self._args
        height, width = x.shape[:2]
        area = height * width
        for _ in range(10):
            target_area = random.uniform(scale[0], scale[1]) * area
            new_ratio = math.exp(random.uniform(math.log(ratio[0]), math.log(ratio[1])))
            new_width = int(round(math.sqrt(target_area * new_ratio)))
            new_height = int(round(math.sqrt(target_area / new_ratio)))
            if new_width <= width and new_height <= height:
                x0 = random.randint(0, width - new_width)
                y0 = random.randint(0, height - new_height)
                return _fixed_crop(x, x0, y0, new_width, new_height, size, interp)
        return _center_crop(x, size, interp)
