"""Samplers: the order in which a DataLoader visits a dataset, and how it forms batches."""
import numpy as np


class Sampler:
    def __iter__(self):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, length, start=0):
        self._length, self._start = length, start

    def __iter__(self):
        return iter(range(self._start, self._start + self._length))

    def __len__(self):
        return self._length


class RandomSampler(Sampler):
    """A fresh random permutation each epoch, from numpy's global generator (np.random.seed
    makes it repeatable, as in MXNet)."""

    def __init__(self, length):
        self._length = length

    def __iter__(self):
        return iter(np.random.permutation(self._length).tolist())

    def __len__(self):
        return self._length


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of batch_size.

    last_batch: 'keep' yields a shorter last batch, 'discard' drops it, 'rollover' carries
    the leftover indices to the start of the next epoch.
    """

    def __init__(self, sampler, batch_size, last_batch="keep"):
        if last_batch not in ("keep", "discard", "rollover"):
            raise ValueError(f"last_batch must be one of 'keep', 'discard', or 'rollover', "
                             f"but got {last_batch}")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self._sampler, self._batch_size, self._last_batch = sampler, batch_size, last_batch
        self._prev = []

    def __iter__(self):
        batch, self._prev = self._prev, []
        for i in self._sampler:
            batch.append(i)
            if len(batch) == self._batch_size:
                yield batch
                batch = []
        if batch:
            if self._last_batch == "keep":
                yield batch
            elif self._last_batch == "rollover":
                self._prev = batch

    def __len__(self):
        if self._last_batch == "keep":
            return (len(self._sampler) + self._batch_size - 1) // self._batch_size
        if self._last_batch == "discard":
            return len(self._sampler) // self._batch_size
        return (len(self._prev) + len(self._sampler)) // self._batch_size


class SplitSampler(Sampler):
    """Part `part_index` of `num_parts` equal contiguous parts of range(length): the share of
    one worker of data-parallel training (num_parts=kv.num_workers, part_index=kv.rank).

    Every part has length // num_parts indices, the remainder left out, so that all workers
    take the same number of batches (their collectives must pair up). shuffle=True visits the
    part in a fresh random order each epoch, from numpy's global generator.
    """

    def __init__(self, length, num_parts=1, part_index=0, shuffle=False):
        if num_parts < 1 or not 0 <= part_index < num_parts:
            raise ValueError(f"part_index must be in [0, num_parts), got part_index="
                             f"{part_index}, num_parts={num_parts}")
        self._part_len = length // num_parts
        self._start = self._part_len * part_index
        self._shuffle = shuffle

    def __iter__(self):
        indices = np.arange(self._start, self._start + self._part_len)
        if self._shuffle:
            np.random.shuffle(indices)
        return iter(indices.tolist())

    def __len__(self):
        return self._part_len
