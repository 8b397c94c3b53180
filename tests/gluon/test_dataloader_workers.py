"""DataLoader with worker processes and threads: the same batches in the same order as
without, errors raised here naming the sample, bounded waits."""
import multiprocessing
import time

import numpy as np
import pytest

from ast_hybrid import nd
from ast_hybrid.gluon.data import ArrayDataset, BatchSampler, DataLoader, Dataset, \
    SequentialSampler
from ast_hybrid.gluon.data.vision import MNIST, transforms as T


def _batches(loader):
    def value(item):
        if isinstance(item, list):
            return [value(i) for i in item]
        return (item.dtype, item.asnumpy().tolist())
    return [value(batch) for batch in loader]


def _dataset():
    images = np.random.default_rng(0).integers(0, 256, (23, 4, 5, 3), dtype=np.uint8)
    return ArrayDataset(nd.array(images, dtype="uint8"), np.arange(23, dtype=np.int32))


@pytest.mark.parametrize("thread_pool", [False, True])
@pytest.mark.parametrize("options", [
    {"batch_size": 4},
    {"batch_size": 5, "last_batch": "discard", "prefetch": 0},
    {"batch_size": 6, "shuffle": True},
    {"batch_sampler": "rollover"},
])
def test_workers_give_the_same_batches_in_the_same_order(options, thread_pool):
    # transform_first with a lambda and a hybrid transform: workers fork, as MXNet's do
    dataset = _dataset().transform_first(lambda x: T.ToTensor()(x) * 2)
    shuffled = options.get("shuffle", False)
    expected_epochs, got_epochs = [], []
    for workers, epochs in ((0, expected_epochs), (2, got_epochs)):
        np.random.seed(3)           # the sampler's order comes from numpy's generator
        if "batch_sampler" in options:      # a fresh one: rollover keeps state between passes
            options = {"batch_sampler": BatchSampler(SequentialSampler(23), 7, "rollover")}
        loader = DataLoader(dataset, num_workers=workers, thread_pool=thread_pool, **options)
        for _ in range(2):
            epochs.append(_batches(loader))
        assert len(loader) == len(epochs[0]) or "batch_sampler" in options
    assert got_epochs == expected_epochs
    assert got_epochs[0][0][0][0] == np.float32 and got_epochs[0][0][1][0] == np.int32
    if shuffled:
        assert got_epochs[0] != got_epochs[1]


class _Failing(Dataset):
    def __init__(self, bad, error=KeyError):
        self._bad, self._error = bad, error

    def __len__(self):
        return 10

    def __getitem__(self, idx):
        if idx == self._bad:
            raise self._error(f"cannot read item {idx}")
        return np.float32(idx)


@pytest.mark.parametrize("workers, thread_pool, where", [
    (0, False, None), (2, False, "worker process"), (2, True, "worker thread")])
def test_an_error_names_the_sample_and_keeps_its_type(workers, thread_pool, where):
    loader = DataLoader(_Failing(7), batch_size=3, num_workers=workers, thread_pool=thread_pool)
    with pytest.raises(KeyError, match="cannot read item 7") as info:
        _batches(loader)
    if where is not None:
        assert info.value.__notes__ == [f"raised while loading sample 7 in a DataLoader {where}"]
    # the loader and its workers stay usable
    assert len(_batches(DataLoader(_Failing(99), batch_size=4, num_workers=workers))) == 3


def test_a_batchify_error_names_the_batch():
    def batchify(samples):
        raise ValueError("cannot stack")
    loader = DataLoader(_Failing(99), batch_size=4, batchify_fn=batchify, num_workers=2)
    with pytest.raises(ValueError, match="cannot stack") as info:
        next(iter(loader))
    assert "the batch of samples [0, 1, 2, 3]" in info.value.__notes__[0]


class _Unpicklable(Exception):
    def __init__(self, message, handle):
        super().__init__(message)
        self.handle = handle


class _RaisesUnpicklable(_Failing):
    def __getitem__(self, idx):
        raise _Unpicklable(f"item {idx}", lambda: None)


def test_an_error_that_cannot_be_sent_back_is_named():
    loader = DataLoader(_RaisesUnpicklable(0), batch_size=2, num_workers=2)
    with pytest.raises(RuntimeError, match="_Unpicklable: item 0\nraised while loading "
                                           "sample 0 in a DataLoader worker process"):
        next(iter(loader))


class _Slow(_Failing):
    def __getitem__(self, idx):
        time.sleep(3)
        return np.float32(idx)


@pytest.mark.parametrize("thread_pool", [False, True])
def test_a_slow_worker_times_out(thread_pool):
    loader = DataLoader(_Slow(99), batch_size=1, num_workers=1, timeout=0.2, prefetch=0,
                        thread_pool=thread_pool)
    start = time.perf_counter()
    with pytest.raises(multiprocessing.TimeoutError, match="more than timeout=0.2 s to load "
                                                           "batch 0"):
        next(iter(loader))
    assert time.perf_counter() - start < 2.5
    with pytest.raises(ValueError, match="timeout must be positive"):
        DataLoader(_Slow(99), batch_size=1, timeout=0)


def test_auto_reload_prefetches_the_next_pass():
    dataset = ArrayDataset(np.arange(6, dtype=np.float32))
    loader = DataLoader(dataset, batch_size=4, num_workers=2, auto_reload=True)
    assert loader._iter is not None
    assert [b.asnumpy().tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]
    assert loader._iter is not None
    assert [b.shape for b in loader] == [(4,), (2,)]
    loader.clean()
    assert loader._iter is None and len(list(loader)) == 2


def test_an_image_pipeline_in_workers(tmp_path):
    import gzip
    import struct
    images = np.random.default_rng(0).integers(0, 256, (9, 28, 28), dtype=np.uint8)
    for name, array, magic in (("train-images-idx3-ubyte.gz", images, 0x803),
                               ("train-labels-idx1-ubyte.gz", np.arange(9), 0x801)):
        header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
        with gzip.open(tmp_path / name, "wb") as stream:
            stream.write(header + array.astype(np.uint8).tobytes())
    pipeline = T.Compose([T.Resize(14), T.ToTensor(), T.Normalize(0.13, 0.31)])
    dataset = MNIST(root=str(tmp_path)).transform_first(pipeline)
    expected = _batches(DataLoader(dataset, batch_size=4))
    assert expected[0][0][1] and np.array(expected[0][0][1]).shape == (4, 1, 14, 14)
    assert _batches(DataLoader(dataset, batch_size=4, num_workers=2)) == expected
