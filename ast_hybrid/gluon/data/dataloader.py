"""DataLoader: iterate a dataset in (optionally shuffled) mini-batches of NDArrays."""
import numpy as np

from ...ndarray import NDArray
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def default_batchify_fn(data):
    """Stack a list of samples into one NDArray (per field, for tuple samples)."""
    first = data[0]
    if isinstance(first, NDArray):
        return NDArray(np.stack([d._data for d in data]))
    if isinstance(first, tuple):
        return [default_batchify_fn(list(field)) for field in zip(*data)]
    array = np.asarray(data)
    if array.dtype == np.float64 and not isinstance(first, np.ndarray) \
            and not isinstance(first, np.generic):
        array = array.astype(np.float32)      # Python floats batch as float32, as in MXNet
    return NDArray(array)


class DataLoader:
    """Loads `dataset` in batches.

    batch_size with shuffle and last_batch ('keep', 'discard', 'rollover'), or a custom
    sampler / batch_sampler; batchify_fn turns a list of samples into a batch. Loading runs
    in this process (num_workers is accepted for compatibility).
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None, last_batch=None,
                 batch_sampler=None, batchify_fn=None, num_workers=0, pin_memory=False,
                 pin_device_id=0, prefetch=None, thread_pool=False, timeout=120):
        self._dataset = dataset
        if batch_sampler is None:
            if batch_size is None:
                raise ValueError("batch_size must be specified unless batch_sampler is "
                                 "specified")
            if sampler is None:
                sampler = RandomSampler(len(dataset)) if shuffle else \
                    SequentialSampler(len(dataset))
            elif shuffle:
                raise ValueError("shuffle must not be specified if sampler is specified")
            batch_sampler = BatchSampler(sampler, batch_size,
                                         last_batch if last_batch else "keep")
        elif batch_size is not None or shuffle or sampler is not None or \
                last_batch is not None:
            raise ValueError("batch_size, shuffle, sampler and last_batch must not be "
                             "specified if batch_sampler is specified.")
        self._batch_sampler = batch_sampler
        self._batchify_fn = batchify_fn or default_batchify_fn

    def __iter__(self):
        for batch in self._batch_sampler:
            yield self._batchify_fn([self._dataset[i] for i in batch])

    def __len__(self):
        return len(self._batch_sampler)
