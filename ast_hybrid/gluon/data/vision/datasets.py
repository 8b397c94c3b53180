"""MNIST, FashionMNIST, CIFAR10, CIFAR100 and ImageFolderDataset, read from files on disk."""
import gzip
import os
import struct
import warnings

import numpy as np

from ....base import data_dir
from ....ndarray import NDArray
from ..dataset import Dataset
from . import image_files

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "ImageFolderDataset"]

_MXNET_REPO = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/gluon/dataset/"
_IDX_LABELS, _IDX_IMAGES = 0x801, 0x803


def _missing(dataset, root, names, source, subfolder=None):
    """The error for data files not found: this package never downloads them."""
    where = root if os.path.isdir(root) else f"{root} (which does not exist)"
    if subfolder is not None:
        where += f" nor in its {subfolder} folder"
    return FileNotFoundError(
        f"{dataset}: cannot find {', '.join(names)} in {where}. ast_hybrid does not download "
        f"data sets: get the files from {source} and put them in that folder, or pass "
        f"root= the folder that holds them.")


class _FileDataset(Dataset):
    """Images in one uint8 NDArray (N, H, W, C) and int32 labels, as MXNet's downloaded
    data sets hold them: item i is (NDArray HWC uint8, numpy int32), or transform's result."""

    def __init__(self, root, transform):
        self._root = os.path.expanduser(root)
        self._transform = transform
        self._data = None
        self._label = None
        self._get_data()

    def __getitem__(self, idx):
        if self._transform is not None:
            return self._transform(self._data[idx], self._label[idx])
        return self._data[idx], self._label[idx]

    def __len__(self):
        return len(self._label)

    def _get_data(self):
        raise NotImplementedError


def _read_idx(path, magic):
    """An IDX file's array (gzip-compressed or not), its header checked against `magic`."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as stream:
        content = stream.read()
    ndim = magic & 0xFF
    if len(content) < 4 + 4 * ndim or struct.unpack(">I", content[:4])[0] != magic:
        raise ValueError(f"{path} is not an IDX file of {ndim}-d unsigned bytes (its header "
                         f"should start with 0x{magic:08x})")
    shape = struct.unpack(f">{ndim}I", content[4:4 + 4 * ndim])
    data = np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: the header gives shape {shape}, {int(np.prod(shape))} "
                         f"values, but the file holds {data.size}")
    return data.reshape(shape)


class MNIST(_FileDataset):
    """MNIST handwritten digits (http://yann.lecun.com/exdb/mnist): images (28, 28, 1).

    Reads train-images-idx3-ubyte, train-labels-idx1-ubyte (or t10k-* with train=False),
    each gzip-compressed (.gz, as published) or not, from `root`. transform(data, label)
    is applied to each item.
    """
    _name, _namespace = "MNIST", "mnist"
    _source = "http://yann.lecun.com/exdb/mnist/"

    def __init__(self, root=os.path.join(data_dir(), "datasets", "mnist"), train=True,
                 transform=None):
        self._train = train
        super().__init__(root, transform)

    def _find(self, name):
        for candidate in (name + ".gz", name):
            path = os.path.join(self._root, candidate)
            if os.path.isfile(path):
                return path
        return None

    def _get_data(self):
        prefix = "train" if self._train else "t10k"
        names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        paths = [self._find(name) for name in names]
        if None in paths:
            raise _missing(self._name, self._root, [n + ".gz" for n in names],
                           f"{self._source} (or {_MXNET_REPO}{self._namespace}/)")
        data = _read_idx(paths[0], _IDX_IMAGES)
        label = _read_idx(paths[1], _IDX_LABELS).astype(np.int32)
        if len(data) != len(label):
            raise ValueError(f"{self._name}: {paths[0]} holds {len(data)} images but "
                             f"{paths[1]} {len(label)} labels")
        self._data = NDArray(np.ascontiguousarray(data[..., None]))
        self._label = label


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (https://github.com/zalandoresearch/fashion-mnist), MNIST's
    file names and layout: images (28, 28, 1)."""
    _name, _namespace = "FashionMNIST", "fashion-mnist"
    _source = "https://github.com/zalandoresearch/fashion-mnist"

    def __init__(self, root=os.path.join(data_dir(), "datasets", "fashion-mnist"), train=True,
                 transform=None):
        super().__init__(root, train, transform)


class CIFAR10(_FileDataset):
    """CIFAR-10 (https://www.cs.toronto.edu/~kriz/cifar.html): images (32, 32, 3).

    Reads the binary version's data_batch_1.bin ... data_batch_5.bin (test_batch.bin with
    train=False) from `root`, or from its cifar-10-batches-bin folder as the archive
    unpacks. Each record is a label byte and 3072 bytes of image, channel by channel.
    """
    _name, _namespace, _folder = "CIFAR10", "cifar10", "cifar-10-batches-bin"
    _archive = "cifar-10-binary.tar.gz"
    _label_bytes = 1

    def __init__(self, root=os.path.join(data_dir(), "datasets", "cifar10"), train=True,
                 transform=None):
        self._train = train
        super().__init__(root, transform)

    def _files(self):
        if self._train:
            return [f"data_batch_{i}.bin" for i in range(1, 6)]
        return ["test_batch.bin"]

    def _label_column(self):
        return 0

    def _read_batch(self, path):
        record = self._label_bytes + 3 * 32 * 32
        with open(path, "rb") as stream:
            content = np.frombuffer(stream.read(), dtype=np.uint8)
        if content.size % record:
            raise ValueError(f"{path}: {content.size} bytes is not a whole number of "
                             f"{record}-byte records")
        content = content.reshape(-1, record)
        images = content[:, self._label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return images, content[:, self._label_column()].astype(np.int32)

    def _get_data(self):
        names = self._files()
        for folder in (self._root, os.path.join(self._root, self._folder)):
            if all(os.path.isfile(os.path.join(folder, name)) for name in names):
                break
        else:
            raise _missing(self._name, self._root, names,
                           f"https://www.cs.toronto.edu/~kriz/cifar.html (the binary version, "
                           f"{self._archive}, unpacked; or {_MXNET_REPO}{self._namespace}/)",
                           self._folder)
        data, label = zip(*(self._read_batch(os.path.join(folder, name)) for name in names))
        self._data = NDArray(np.ascontiguousarray(np.concatenate(data)))
        self._label = np.concatenate(label)


class CIFAR100(CIFAR10):
    """CIFAR-100: images (32, 32, 3) with a coarse (20 super-classes) and a fine (100
    classes, fine_label=True) label; reads train.bin or test.bin."""
    _name, _namespace, _folder = "CIFAR100", "cifar100", "cifar-100-binary"
    _archive = "cifar-100-binary.tar.gz"
    _label_bytes = 2

    def __init__(self, root=os.path.join(data_dir(), "datasets", "cifar100"), fine_label=False,
                 train=True, transform=None):
        self._fine_label = fine_label
        super().__init__(root, train, transform)

    def _files(self):
        return ["train.bin" if self._train else "test.bin"]

    def _label_column(self):
        return int(bool(self._fine_label))


class ImageFolderDataset(Dataset):
    """Images in one folder per class (root/car/0001.jpg, root/bus/023.png, ...).

    Labels number the class folders in sorted order (`synsets[label]` is the folder's
    name); `items` lists (filename, label). flag=1 gives RGB images (H, W, 3), flag=0
    grayscale (H, W, 1), as uint8 NDArrays. JPEG and PNG files need Pillow (the `vision`
    extra); .npy files (uint8, HWC or HW) need nothing more.
    """

    def __init__(self, root, flag=1, transform=None):
        self._root = os.path.expanduser(root)
        self._flag = flag
        self._transform = transform
        self._exts = list(image_files.EXTENSIONS)
        self._list_images(self._root)

    def _list_images(self, root):
        self.synsets = []
        self.items = []
        if not os.path.isdir(root):
            raise FileNotFoundError(f"ImageFolderDataset: {root} is not a folder; it should "
                                    f"hold one folder of images per class")
        for folder in sorted(os.listdir(root)):
            path = os.path.join(root, folder)
            if not os.path.isdir(path):
                warnings.warn(f"Ignoring {path}, which is not a directory.", stacklevel=3)
                continue
            label = len(self.synsets)
            self.synsets.append(folder)
            for filename in sorted(os.listdir(path)):
                filename = os.path.join(path, filename)
                ext = os.path.splitext(filename)[1]
                if ext.lower() not in self._exts:
                    warnings.warn(f"Ignoring {filename} of type {ext}. Only support "
                                  f"{', '.join(self._exts)}", stacklevel=3)
                    continue
                self.items.append((filename, label))

    def __getitem__(self, idx):
        filename, label = self.items[idx]
        img = NDArray(image_files.imread(filename, self._flag))
        if self._transform is not None:
            return self._transform(img, label)
        return img, label

    def __len__(self):
        return len(self.items)
