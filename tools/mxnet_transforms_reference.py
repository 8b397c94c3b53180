"""Record MXNet 1.9.1's outputs of gluon.data.vision.transforms and nd.image operators on small
images (tests/gluon/test_vision_data.py compares ast_hybrid's with them).

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_transforms_reference.py \
        tests/data/mxnet_transforms_reference.json
(see tools/mxnet_reference.py for installing it). The test imports `scenario` and passes
ast_hybrid in place of mxnet, so both libraries run the same inputs.
"""
import json
import random
import sys

import numpy as np


def _image(shape, dtype="uint8", seed=0):
    values = np.random.RandomState(seed).uniform(0, 255, shape)
    return values.astype(dtype) if dtype == "uint8" else (values / 255).astype(dtype)


# name: (transform made from the transforms module T, input shape, input dtype)
CASES = {
    "resize_down_uint8": (lambda T: T.Resize((5, 4)), (9, 11, 3), "uint8"),
    "resize_up_uint8": (lambda T: T.Resize((13, 10)), (6, 5, 3), "uint8"),
    "resize_mixed_uint8": (lambda T: T.Resize((7, 12)), (9, 4, 3), "uint8"),
    "resize_larger_uint8": (lambda T: T.Resize((29, 23)), (17, 31, 3), "uint8"),
    "resize_halve_uint8": (lambda T: T.Resize((4, 3)), (6, 8, 3), "uint8"),
    "resize_square_uint8": (lambda T: T.Resize(6), (9, 11, 3), "uint8"),
    "resize_keep_ratio_tall": (lambda T: T.Resize(6, keep_ratio=True), (11, 7, 3), "uint8"),
    "resize_keep_ratio_wide": (lambda T: T.Resize(5, keep_ratio=True), (7, 12, 3), "uint8"),
    "resize_gray_uint8": (lambda T: T.Resize((6, 5)), (9, 7, 1), "uint8"),
    "resize_batch_uint8": (lambda T: T.Resize((4, 6)), (2, 5, 7, 3), "uint8"),
    "resize_nearest_uint8": (lambda T: T.Resize((5, 9), interpolation=0), (7, 6, 3), "uint8"),
    "resize_down_float32": (lambda T: T.Resize((5, 4)), (9, 11, 3), "float32"),
    "resize_up_float32": (lambda T: T.Resize((13, 10)), (6, 5, 3), "float32"),
    "resize_halve_float32": (lambda T: T.Resize((4, 3)), (6, 8, 3), "float32"),
    "to_tensor_uint8": (lambda T: T.ToTensor(), (4, 5, 3), "uint8"),
    "to_tensor_batch": (lambda T: T.ToTensor(), (2, 4, 5, 3), "uint8"),
    "to_tensor_float32": (lambda T: T.ToTensor(), (4, 5, 1), "float32"),
    "normalize_rgb": (lambda T: T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
                      (3, 4, 5), "float32"),
    "normalize_scalar": (lambda T: T.Normalize(0.5, 0.25), (1, 4, 5), "float32"),
    "normalize_batch": (lambda T: T.Normalize((0.1, 0.2, 0.3), (0.5, 0.6, 0.7)),
                        (2, 3, 4, 5), "float32"),
    "center_crop": (lambda T: T.CenterCrop((5, 4)), (9, 11, 3), "uint8"),
    "center_crop_square": (lambda T: T.CenterCrop(6), (8, 10, 3), "uint8"),
    "center_crop_upsample": (lambda T: T.CenterCrop((12, 10)), (6, 8, 3), "uint8"),
    "random_resized_crop": (lambda T: T.RandomResizedCrop(8), (20, 24, 3), "uint8"),
    "random_resized_crop_ratio": (lambda T: T.RandomResizedCrop((6, 5), scale=(0.3, 0.6),
                                                                ratio=(0.5, 2.0)),
                                  (16, 12, 3), "uint8"),
    "cast": (lambda T: T.Cast("float16"), (3, 4, 3), "uint8"),
    "compose": (lambda T: T.Compose([T.Resize(10, keep_ratio=True), T.CenterCrop(8),
                                     T.ToTensor(), T.Normalize(0.5, 0.2)]),
                (12, 15, 3), "uint8"),
}

# operators without a random draw, under nd.image: (name, input shape, dtype); even sizes,
# as MXNet 1.9.1's flips leave the middle column (row) of an odd width (height) zero
OPERATORS = {
    "flip_left_right": ((5, 6, 3), "uint8"),
    "flip_top_bottom": ((4, 5, 3), "uint8"),
}


def scenario(mx, name, seed=3):
    """The input and the output of case `name` under `mx`, as nested lists."""
    from_python_random = name.startswith("random_")
    make, shape, dtype = CASES[name]
    image = _image(shape, dtype)
    transform = make(mx.gluon.data.vision.transforms)
    if from_python_random:
        random.seed(seed)       # MXNet's random crops draw from Python's random module
    out = transform(mx.nd.array(image, dtype=dtype))
    return {"input": image.tolist(), "dtype": dtype, "output": out.asnumpy().tolist(),
            "output_dtype": str(out.dtype.__name__ if isinstance(out.dtype, type)
                                else out.dtype)}


def operator_scenario(mx, name):
    shape, dtype = OPERATORS[name]
    image = _image(shape, dtype)
    out = getattr(mx.nd.image, name)(mx.nd.array(image, dtype=dtype))
    return {"input": image.tolist(), "output": out.asnumpy().tolist()}


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__,
                 "cases": {name: scenario(mx, name) for name in CASES},
                 "operators": {name: operator_scenario(mx, name) for name in OPERATORS}}
    with open(path, "w") as stream:
        json.dump(reference, stream)


if __name__ == "__main__":
    main(sys.argv[1])
