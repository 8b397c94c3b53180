"""The vision models of MXNet 1.x's model zoo, by family, and `get_model(name)`."""
from .alexnet import *        # noqa: F401,F403  (each family's __all__ is this module's API)
from .densenet import *       # noqa: F401,F403
from .inception import *      # noqa: F401,F403
from .mobilenet import *      # noqa: F401,F403
from .resnet import *         # noqa: F401,F403
from .squeezenet import *     # noqa: F401,F403
from .vgg import *            # noqa: F401,F403

# get_model's names (those of the pretrained files) -> the functions making the models
_models = {
    **{f"resnet{depth}_v{version}": globals()[f"resnet{depth}_v{version}"]
       for version in (1, 2) for depth in (18, 34, 50, 101, 152)},
    **{f"vgg{depth}{suffix}": globals()[f"vgg{depth}{suffix}"]
       for suffix in ("", "_bn") for depth in (11, 13, 16, 19)},
    "alexnet": alexnet,                                                    # noqa: F405
    **{f"densenet{depth}": globals()[f"densenet{depth}"] for depth in (121, 161, 169, 201)},
    "squeezenet1.0": squeezenet1_0,                                        # noqa: F405
    "squeezenet1.1": squeezenet1_1,                                        # noqa: F405
    "inceptionv3": inception_v3,                                           # noqa: F405
    **{f"mobilenet{suffix}": globals()[f"mobilenet{suffix.replace('.', '_')}"]
       for suffix in ("1.0", "0.75", "0.5", "0.25")},
    **{f"mobilenetv2_{suffix}": globals()[f"mobilenet_v2_{suffix.replace('.', '_')}"]
       for suffix in ("1.0", "0.75", "0.5", "0.25")},
}

def get_model(name, **kwargs):
    """The model `name` (case-insensitive: 'resnet18_v1', 'mobilenetv2_0.25',
    'squeezenet1.1', ...), made with `kwargs` (pretrained, ctx, root, classes, ...)."""
    name = name.lower()
    if name not in _models:
        raise ValueError("Model {} is not supported. Available options are\n\t{}".format(
            name, "\n\t".join(sorted(_models))))
    return _models[name](**kwargs)
