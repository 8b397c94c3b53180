"""DataLoader: iterate a dataset in (optionally shuffled) mini-batches of NDArrays."""
import multiprocessing
import multiprocessing.pool
import pickle
import signal

import numpy as np

from ...ndarray import NDArray
from .sampler import BatchSampler, RandomSampler, SequentialSampler

# a fork copies the dataset and batchify_fn into the workers as they are, so lambdas and
# local functions work as in MXNet (whose workers fork); elsewhere they must pickle
_START = "fork" if "fork" in multiprocessing.get_all_start_methods() else None


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


# MXNet's name for the batchify function of worker processes; batches come back by pickle
default_mp_batchify_fn = default_batchify_fn


def _note(error, note):
    if hasattr(error, "add_note"):
        error.add_note(note)
    elif len(error.args) == 1 and isinstance(error.args[0], str):
        error.args = (f"{error.args[0]}\n{note}",)     # Python 3.10 shows no notes


def _load(dataset, batchify_fn, samples, where):
    """batchify_fn of the samples; an error gets a note saying which sample (or the
    batching) failed, and where."""
    index = None
    try:
        items = []
        for index in samples:
            items.append(dataset[index])
        index = None
        return batchify_fn(items)
    except Exception as error:
        what = f"sample {index}" if index is not None else f"the batch of samples {samples}"
        _note(error, f"raised while loading {what} in a DataLoader {where}")
        raise


_worker_state = {}


def _worker_initializer(dataset, batchify_fn):
    """Keep the dataset and batchify_fn in the worker process: sent once, not per batch."""
    _worker_state.update(dataset=dataset, batchify_fn=batchify_fn)
    # the main process decides what an interrupt does; a worker left running finishes
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _worker_fn(samples):
    """One batch in a worker process (the pool sends its traceback back with an error)."""
    try:
        return _load(_worker_state["dataset"], _worker_state["batchify_fn"], samples,
                     "worker process")
    except Exception as error:
        try:
            pickle.dumps(error)
        except Exception:
            # an error that cannot travel back is replaced by one that names it
            raise RuntimeError(f"{type(error).__name__}: {error}\n"
                               + "\n".join(getattr(error, "__notes__", ()))) from None
        raise


def _thread_worker_fn(dataset, batchify_fn, samples):
    return _load(dataset, batchify_fn, samples, "worker thread")


class _MultiWorkerIter:
    """Batches from a worker pool, in the batch sampler's order: up to `prefetch` batches
    are being loaded ahead of the one returned."""

    def __init__(self, pool, submit, batch_sampler, prefetch, timeout, thread_pool):
        self._pool, self._submit = pool, submit
        self._iter = iter(batch_sampler)
        self._buffer = {}
        self._sent = self._received = 0
        self._timeout, self._thread_pool = timeout, thread_pool
        for _ in range(prefetch):
            self._push_next()

    def _push_next(self):
        samples = next(self._iter, None)
        if samples is None:
            return
        self._buffer[self._sent] = self._submit(samples)
        self._sent += 1

    def __next__(self):
        self._push_next()
        if self._received == self._sent:
            raise StopIteration
        pending = self._buffer.pop(self._received)
        try:
            batch = pending.get(self._timeout)
        except multiprocessing.TimeoutError:
            hint = "" if self._thread_pool else (
                " or a worker process that died (killed for memory, or too little shared "
                "memory); consider fewer workers")
            raise multiprocessing.TimeoutError(
                f"DataLoader: a worker took more than timeout={self._timeout} s to load batch "
                f"{self._received}: a slow dataset or transform (raise timeout){hint}") from None
        self._received += 1
        return batch

    def __iter__(self):
        return self


class DataLoader:
    """Loads `dataset` in batches, as MXNet 1.9.1's DataLoader.

    batch_size with shuffle and last_batch ('keep', 'discard', 'rollover'), or a custom
    sampler / batch_sampler; batchify_fn turns a list of samples into a batch. With
    num_workers > 0, worker processes (threads with thread_pool=True) load the batches,
    `prefetch` of them ahead (2 * num_workers by default), and they come in the sampler's
    order, the same batches as num_workers=0 gives for a dataset without random
    transforms; a batch not loaded within `timeout` seconds raises
    multiprocessing.TimeoutError, and an error in a worker is raised here, naming the
    sample. pin_memory and pin_device_id are accepted (there is only the CPU).
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None, last_batch=None,
                 batch_sampler=None, batchify_fn=None, num_workers=0, pin_memory=False,
                 pin_device_id=0, prefetch=None, thread_pool=False, timeout=120,
                 auto_reload=False):
        self._dataset = dataset
        self._pin_memory, self._pin_device_id = pin_memory, pin_device_id
        self._thread_pool = thread_pool
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, given {timeout}")
        self._timeout = timeout
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
        self._num_workers = max(num_workers, 0)
        self._prefetch = max(0, int(prefetch) if prefetch is not None
                             else 2 * self._num_workers)
        self._batchify_fn = batchify_fn or (default_mp_batchify_fn if self._num_workers
                                            else default_batchify_fn)
        self._worker_pool = None
        if self._num_workers:
            if thread_pool:
                self._worker_pool = multiprocessing.pool.ThreadPool(self._num_workers)
            else:
                self._worker_pool = multiprocessing.get_context(_START).Pool(
                    self._num_workers, initializer=_worker_initializer,
                    initargs=(dataset, self._batchify_fn))
        self.auto_reload = auto_reload
        self._iter = None
        if auto_reload:
            self.refresh()

    def _submit(self, samples):
        if self._thread_pool:
            return self._worker_pool.apply_async(
                _thread_worker_fn, (self._dataset, self._batchify_fn, samples))
        return self._worker_pool.apply_async(_worker_fn, (samples,))

    def _same_process_iter(self):
        for batch in self._batch_sampler:
            yield self._batchify_fn([self._dataset[i] for i in batch])

    def _prefetch_iter(self):
        if not self._num_workers:
            return self._same_process_iter()
        return _MultiWorkerIter(self._worker_pool, self._submit, self._batch_sampler,
                                self._prefetch, self._timeout, self._thread_pool)

    def refresh(self):
        """Start a new pass over the data (its first batches prefetched)."""
        self._iter = self._prefetch_iter()

    def clean(self):
        """Drop the prefetched pass; the next one starts when iterated."""
        self._iter = None

    def __iter__(self):
        if self._iter is None:
            self.refresh()
        current, self._iter = self._iter, None     # a pass is iterated once
        yield from current
        if self._iter is None and self.auto_reload:
            self.refresh()

    def __len__(self):
        return len(self._batch_sampler)

    def __del__(self):
        pool = getattr(self, "_worker_pool", None)
        if pool is not None:
            # a pool is not shut down when collected: end its workers here
            pool.terminate()
