"""Reading one image file as a uint8 HWC numpy array: JPEG and PNG through Pillow, .npy by numpy."""
import numpy as np

EXTENSIONS = (".jpg", ".jpeg", ".png", ".npy")
# ITU-R 601 luma, the weights of OpenCV's and Pillow's RGB to grayscale conversions
_LUMA = np.array([0.299, 0.587, 0.114])


def _pillow_image(path):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"reading {path} needs Pillow: pip install pillow (or the package's "
                          f"'vision' extra); .npy images need nothing more") from None
    return Image.open(path)


def _channels(image, flag):
    """An HWC or HW uint8 array with 3 channels (flag=1) or 1 (flag=0)."""
    if image.ndim == 2:
        image = image[:, :, None]
    if flag and image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    if not flag and image.shape[2] == 3:
        return np.rint(image @ _LUMA).astype(np.uint8)[:, :, None]
    return image


def imread(path, flag=1):
    """The image at `path` as a uint8 (H, W, 3) RGB array (flag=1) or (H, W, 1) grayscale."""
    if path.lower().endswith(".npy"):
        image = np.load(path, allow_pickle=False)
        if image.dtype != np.uint8 or image.ndim not in (2, 3) or (
                image.ndim == 3 and image.shape[2] not in (1, 3)):
            raise ValueError(f"{path}: a .npy image must be uint8 of shape (H, W), (H, W, 1) "
                             f"or (H, W, 3); it holds {image.dtype} {image.shape}")
        return np.ascontiguousarray(_channels(image, flag))
    with _pillow_image(path) as image:
        return np.asarray(image.convert("RGB" if flag else "L")).reshape(
            image.height, image.width, -1).copy()
