"""gluon.data.vision: the data set readers on small files in the real formats, and the
transforms against numpy and against MXNet 1.9.1's recorded outputs."""
import gzip
import json
import random
import struct
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import ast_hybrid as mx
from ast_hybrid import nd
from ast_hybrid.base import data_dir
from ast_hybrid.gluon import nn
from ast_hybrid.gluon.data import DataLoader
from ast_hybrid.gluon.data.vision import (CIFAR10, CIFAR100, MNIST, FashionMNIST,
                                          ImageFolderDataset, transforms as T)
from ast_hybrid.ops import OpError

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "tests" / "data" / "mxnet_transforms_reference.json").read_text())
sys.path.insert(0, str(ROOT / "tools"))
import mxnet_transforms_reference as recorded  # noqa: E402

sys.path.pop(0)


# ----- files in the real formats

def _write_idx(path, array, magic, compress):
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    content = header + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(content)


def _mnist_files(folder, prefix, count, seed=0, compress=True):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, count, dtype=np.uint8)
    suffix = ".gz" if compress else ""
    _write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, 0x803, compress)
    _write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, 0x801, compress)
    return images, labels


def _cifar_file(path, count, label_bytes, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 100, (count, label_bytes), dtype=np.uint8)
    images = rng.integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)
    path.write_bytes(np.concatenate([labels, images.reshape(count, -1)], axis=1).tobytes())
    return images.transpose(0, 2, 3, 1), labels


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
def test_mnist_reads_idx_files(tmp_path, cls, compress):
    train_images, train_labels = _mnist_files(tmp_path, "train", 5, 0, compress)
    test_images, test_labels = _mnist_files(tmp_path, "t10k", 3, 1, compress)
    train, test = cls(root=str(tmp_path)), cls(root=str(tmp_path), train=False)
    assert len(train) == 5 and len(test) == 3
    data, label = train[2]
    assert isinstance(data, nd.NDArray) and data.shape == (28, 28, 1) and data.dtype == np.uint8
    np.testing.assert_array_equal(data.asnumpy()[:, :, 0], train_images[2])
    assert isinstance(label, np.int32) and label == train_labels[2]
    np.testing.assert_array_equal(test._data.asnumpy()[..., 0], test_images)
    assert test._label.dtype == np.int32
    np.testing.assert_array_equal(test._label, test_labels)


def test_dataset_transform_and_transform_first(tmp_path):
    images, labels = _mnist_files(tmp_path, "train", 4)
    seen = MNIST(root=str(tmp_path), transform=lambda d, l: (d.astype("float32") / 255, l + 1))
    data, label = seen[1]
    np.testing.assert_allclose(data.asnumpy()[:, :, 0], images[1] / 255, rtol=1e-6)
    assert label == labels[1] + 1
    first = MNIST(root=str(tmp_path)).transform_first(T.ToTensor())
    data, label = first[3]
    assert data.shape == (1, 28, 28) and data.dtype == np.float32 and label == labels[3]
    batches = list(DataLoader(first, batch_size=3))
    assert [b[0].shape for b in batches] == [(3, 1, 28, 28), (1, 1, 28, 28)]
    np.testing.assert_array_equal(batches[0][1].asnumpy(), labels[:3])


def test_cifar10_reads_binary_batches_in_root_or_the_archive_folder(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    parts = [_cifar_file(folder / f"data_batch_{i}.bin", 2, 1, seed=i) for i in range(1, 6)]
    test_images, test_labels = _cifar_file(folder / "test_batch.bin", 3, 1, seed=9)
    train = CIFAR10(root=str(tmp_path))
    assert len(train) == 10 and train._data.shape == (10, 32, 32, 3)
    np.testing.assert_array_equal(train._data.asnumpy(), np.concatenate([p[0] for p in parts]))
    np.testing.assert_array_equal(train._label, np.concatenate([p[1][:, 0] for p in parts]))
    data, label = CIFAR10(root=str(folder), train=False)[2]
    assert data.shape == (32, 32, 3) and data.dtype == np.uint8
    np.testing.assert_array_equal(data.asnumpy(), test_images[2])
    assert isinstance(label, np.int32) and label == test_labels[2, 0]


@pytest.mark.parametrize("fine", [False, True])
def test_cifar100_coarse_and_fine_labels(tmp_path, fine):
    images, labels = _cifar_file(tmp_path / "train.bin", 4, 2)
    _cifar_file(tmp_path / "test.bin", 2, 2, seed=1)
    train = CIFAR100(root=str(tmp_path), fine_label=fine)
    np.testing.assert_array_equal(train._data.asnumpy(), images)
    np.testing.assert_array_equal(train._label, labels[:, int(fine)])
    assert len(CIFAR100(root=str(tmp_path), train=False, fine_label=fine)) == 2


@pytest.mark.parametrize("make, names, source", [
    (lambda root: MNIST(root=root), ["train-images-idx3-ubyte.gz",
                                     "train-labels-idx1-ubyte.gz"], "yann.lecun.com"),
    (lambda root: FashionMNIST(root=root, train=False), ["t10k-images-idx3-ubyte.gz"],
     "zalandoresearch"),
    (lambda root: CIFAR10(root=root), ["data_batch_1.bin", "data_batch_5.bin"],
     "cs.toronto.edu"),
    (lambda root: CIFAR100(root=root, train=False), ["test.bin", "nor in its cifar-100-binary"],
     "cifar-100-binary.tar.gz"),
])
def test_missing_files_name_the_files_the_folder_and_the_source(tmp_path, make, names, source):
    for root in (tmp_path, tmp_path / "absent"):
        with pytest.raises(FileNotFoundError) as info:
            make(str(root))
        message = str(info.value)
        assert all(name in message for name in names) and str(root) in message
        assert source in message and "does not download" in message
    assert not (tmp_path / "absent").exists()       # nothing is created


def test_default_roots_are_mxnets(monkeypatch, tmp_path):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    assert data_dir() == str(tmp_path)
    monkeypatch.delenv("MXNET_HOME")
    assert data_dir().endswith(".mxnet")
    import inspect
    default = inspect.signature(CIFAR100).parameters["root"].default
    assert default.endswith("datasets/cifar100")


def test_malformed_files_are_refused_clearly(tmp_path):
    _mnist_files(tmp_path, "train", 2)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(3), 0x803, True)
    with pytest.raises(ValueError, match="not an IDX file"):
        MNIST(root=str(tmp_path))
    (tmp_path / "test_batch.bin").write_bytes(b"\0" * 100)
    with pytest.raises(ValueError, match="whole number of 3073-byte records"):
        CIFAR10(root=str(tmp_path), train=False)


# ----- ImageFolderDataset

def _image_folder(tmp_path, pillow):
    rng = np.random.default_rng(0)
    images = {}
    for folder, names in (("cat", ["b.npy", "a.npy"]), ("bus", ["x.npy"])):
        (tmp_path / folder).mkdir()
        for name in names:
            image = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
            np.save(tmp_path / folder / name, image)
            images[f"{folder}/{name}"] = image
    if pillow:
        from PIL import Image
        image = rng.integers(0, 256, (6, 3, 3), dtype=np.uint8)
        Image.fromarray(image).save(tmp_path / "bus" / "y.png")
        images["bus/y.png"] = image
    return images


def test_image_folder_lists_classes_and_reads_npy_images(tmp_path):
    images = _image_folder(tmp_path, pillow=False)
    (tmp_path / "notes.txt").write_text("not a class")
    (tmp_path / "cat" / "readme.md").write_text("not an image")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = ImageFolderDataset(str(tmp_path))
    messages = [str(w.message) for w in caught]
    assert any("notes.txt, which is not a directory" in m for m in messages)
    assert any("readme.md of type .md" in m for m in messages)
    assert dataset.synsets == ["bus", "cat"]
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "cat" / "readme.md").unlink()
    assert [(Path(f).parent.name + "/" + Path(f).name, label) for f, label in dataset.items] == [
        ("bus/x.npy", 0), ("cat/a.npy", 1), ("cat/b.npy", 1)]
    data, label = dataset[1]
    assert isinstance(data, nd.NDArray) and data.dtype == np.uint8 and label == 1
    np.testing.assert_array_equal(data.asnumpy(), images["cat/a.npy"])
    gray, _ = ImageFolderDataset(str(tmp_path), flag=0)[1]
    expected = np.rint(images["cat/a.npy"] @ [0.299, 0.587, 0.114])
    np.testing.assert_array_equal(gray.asnumpy()[:, :, 0], expected)
    flipped = ImageFolderDataset(str(tmp_path), transform=lambda d, l: (d[:, ::-1], l * 10))
    data, label = flipped[2]
    assert label == 10
    np.testing.assert_array_equal(data.asnumpy(), images["cat/b.npy"][:, ::-1])


def test_image_folder_reads_png_with_pillow(tmp_path):
    pytest.importorskip("PIL")
    images = _image_folder(tmp_path, pillow=True)
    dataset = ImageFolderDataset(str(tmp_path))
    data, label = dataset[1]
    assert dataset.items[1][0].endswith("y.png") and label == 0
    assert data.shape == (6, 3, 3) and data.dtype == np.uint8
    np.testing.assert_array_equal(data.asnumpy(), images["bus/y.png"])
    gray, _ = ImageFolderDataset(str(tmp_path), flag=0)[1]
    assert gray.shape == (6, 3, 1)
    expected = images["bus/y.png"] @ [0.299, 0.587, 0.114]
    assert np.abs(gray.asnumpy()[:, :, 0] - expected).max() <= 1    # Pillow's rounding


def test_image_folder_without_pillow_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "a.jpg").write_bytes(b"\xff\xd8")
    monkeypatch.setitem(sys.modules, "PIL", None)
    dataset = ImageFolderDataset(str(tmp_path))
    with pytest.raises(ImportError, match="needs Pillow.*'vision' extra"):
        dataset[0]
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        ImageFolderDataset(str(tmp_path / "absent"))


# ----- transforms against MXNet 1.9.1

@pytest.mark.parametrize("name", sorted(recorded.CASES))
def test_transforms_match_mxnet(name):
    want = REFERENCE["cases"][name]
    got = recorded.scenario(mx, name)
    assert got["input"] == want["input"]
    assert got["output_dtype"] == want["output_dtype"]
    # exact: the resize follows OpenCV's fixed-point arithmetic for uint8 images
    np.testing.assert_allclose(np.array(got["output"]), np.array(want["output"]),
                               rtol=1e-6, atol=0 if want["output_dtype"] == "uint8" else 1e-7)


@pytest.mark.parametrize("name", sorted(recorded.OPERATORS))
def test_image_operators_match_mxnet(name):
    want = REFERENCE["operators"][name]
    assert recorded.operator_scenario(mx, name) == want


# ----- transforms against numpy

def _image(shape, seed=0, dtype=np.uint8):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(dtype)


def _bilinear(image, height, width):
    """Half-pixel bilinear interpolation in float64, edges clamped: the formula OpenCV
    computes (in fixed point for uint8)."""
    def taps(source, target):
        position = np.clip((np.arange(target) + 0.5) * source / target - 0.5, 0, source - 1)
        low = np.floor(position).astype(int)
        return low, np.minimum(low + 1, source - 1), position - low
    (y0, y1, wy), (x0, x1, wx) = taps(image.shape[0], height), taps(image.shape[1], width)
    image = image.astype(np.float64)
    rows = image[y0] * (1 - wy)[:, None, None] + image[y1] * wy[:, None, None]
    return rows[:, x0] * (1 - wx)[None, :, None] + rows[:, x1] * wx[None, :, None]


def test_to_tensor_and_normalize_against_numpy():
    image = _image((5, 7, 3))
    tensor = T.ToTensor()(nd.array(image, dtype="uint8"))
    np.testing.assert_array_equal(tensor.asnumpy(), image.transpose(2, 0, 1).astype(np.float32)
                                  / np.float32(255))
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.3, 0.4)
    out = T.Normalize(mean, std)(tensor).asnumpy()
    expected = (tensor.asnumpy() - np.float32(mean)[:, None, None]) / np.float32(std)[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    batch = T.ToTensor()(nd.array(np.stack([image, image[::-1]]), dtype="uint8"))
    assert batch.shape == (2, 3, 5, 7)
    with pytest.raises(OpError, match="mean must have 1 or 3 elements"):
        T.Normalize((0.1, 0.2))(tensor)


@pytest.mark.parametrize("shape, size", [((9, 11, 3), (5, 4)), ((6, 5, 1), (13, 10)),
                                         ((8, 8, 3), (3, 12))])
def test_resize_against_numpy_bilinear(shape, size):
    image = _image(shape)
    out = T.Resize(size)(nd.array(image, dtype="uint8")).asnumpy()
    expected = _bilinear(image, size[1], size[0])
    assert out.shape == expected.shape and out.dtype == np.uint8
    assert np.abs(out - expected).max() <= 1        # OpenCV's 11-bit weights and rounding
    floats = T.Resize(size)(nd.array(image / 255.0, dtype="float32")).asnumpy()
    np.testing.assert_allclose(floats, expected / 255, rtol=1e-5, atol=1e-6)


def test_resize_sizes_nearest_and_refusals():
    image = nd.array(_image((7, 12, 3)), dtype="uint8")
    assert T.Resize(5, keep_ratio=True)(image).shape == (5, 8, 3)     # 12 * 5 // 7
    assert T.Resize(6)(image).shape == (6, 6, 3)
    near = T.Resize((4, 7), interpolation=0)(image).asnumpy()
    rows, columns = (np.arange(7) * 7 / 7).astype(int), (np.arange(4) * 12 / 4).astype(int)
    np.testing.assert_array_equal(near, image.asnumpy()[rows][:, columns])
    with pytest.raises(OpError, match="interp=2 is not implemented"):
        T.Resize(4, interpolation=2)(image)
    with pytest.raises(OpError, match="must be 3-d or 4-d"):
        T.Resize(4)(nd.zeros((3, 4)))


def test_crops_against_numpy():
    image = _image((9, 11, 3))
    out = T.CenterCrop((5, 4))(nd.array(image, dtype="uint8")).asnumpy()
    np.testing.assert_array_equal(out, image[2:6, 3:8])
    random.seed(0)
    crop = T.RandomResizedCrop(6, scale=(0.2, 0.5))(nd.array(image, dtype="uint8"))
    assert crop.shape == (6, 6, 3) and crop.dtype == np.uint8
    # the same draws give the same crop; the whole image (scale 1, ratio 1) is a plain resize
    random.seed(0)
    again = T.RandomResizedCrop(6, scale=(0.2, 0.5))(nd.array(image, dtype="uint8"))
    np.testing.assert_array_equal(crop.asnumpy(), again.asnumpy())
    square = _image((8, 8, 3))
    whole = T.RandomResizedCrop(4, scale=(1, 1), ratio=(1, 1))(nd.array(square, dtype="uint8"))
    np.testing.assert_array_equal(whole.asnumpy(), T.Resize(4)(nd.array(square,
                                                                         dtype="uint8")).asnumpy())


def test_random_flips_give_both_outcomes_from_the_seed():
    image = _image((4, 6, 3))
    for transform, flipped in ((T.RandomFlipLeftRight(), image[:, ::-1]),
                               (T.RandomFlipTopBottom(), image[::-1])):
        mx.random.seed(1)
        outs = [transform(nd.array(image, dtype="uint8")).asnumpy() for _ in range(16)]
        assert all(np.array_equal(o, image) or np.array_equal(o, flipped) for o in outs)
        assert any(np.array_equal(o, image) for o in outs)
        assert any(np.array_equal(o, flipped) for o in outs)
        mx.random.seed(1)
        again = [transform(nd.array(image, dtype="uint8")).asnumpy() for _ in range(16)]
        assert all(np.array_equal(a, b) for a, b in zip(outs, again))


def test_cast_and_compose():
    image = nd.array(_image((12, 15, 3)), dtype="uint8")
    assert T.Cast()(image).dtype == np.float32 and T.Cast("float16")(image).dtype == np.float16
    steps = [T.Resize(10, keep_ratio=True), T.CenterCrop(8), T.ToTensor(), T.Normalize(0.5, 0.2)]
    composed = T.Compose(steps)
    assert len(steps) == 4                            # the caller's list is left as it was
    kinds = [type(block).__name__ for block in composed._children.values()]
    assert kinds == ["Resize", "CenterCrop", "HybridSequential"]
    out = image
    for step in steps:
        out = step(out)
    np.testing.assert_array_equal(composed(image).asnumpy(), out.asnumpy())


@pytest.mark.parametrize("mode", ["ast", "trace"])
def test_hybrid_transforms_hybridize(mode):
    image = nd.array(_image((9, 11, 3)), dtype="uint8")

    def make():
        net = nn.HybridSequential()
        net.add(T.Resize((5, 4)), T.ToTensor(), T.Normalize((0.1, 0.2, 0.3), 0.5),
                T.Cast("float64"))
        return net
    expected = make()(image).asnumpy()
    net = make()
    net.hybridize(mode=mode, **({"fallback": False} if mode == "ast" else {}))
    for _ in range(2):
        out = net(image)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out.asnumpy(), expected)
    flip = T.RandomFlipLeftRight()
    flip.hybridize(mode=mode)
    assert len({flip(image).asnumpy().tobytes() for _ in range(24)}) == 2   # drawn every call
