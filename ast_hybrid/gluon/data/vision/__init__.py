"""gluon.data.vision: MNIST, FashionMNIST, CIFAR10/100 and image-folder datasets, and transforms."""
from . import transforms
from .datasets import CIFAR10, CIFAR100, MNIST, FashionMNIST, ImageFolderDataset

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "ImageFolderDataset", "transforms"]
