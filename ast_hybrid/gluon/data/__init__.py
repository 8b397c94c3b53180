"""gluon.data: datasets, samplers and the DataLoader that batches them into NDArrays."""
from . import vision
from .dataloader import DataLoader, default_batchify_fn
from .dataset import ArrayDataset, Dataset, SimpleDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SplitSampler

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset", "Sampler", "SequentialSampler",
           "RandomSampler", "SplitSampler", "BatchSampler", "DataLoader", "default_batchify_fn",
           "vision"]
