"""Datasets: indexable collections of samples."""

from ...ndarray import NDArray


class Dataset:
    """Abstract dataset: implement __getitem__ and __len__."""

    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def transform(self, fn, lazy=True):
        """A dataset of fn(*sample) (fn(sample) for single-value samples)."""
        transformed = _LazyTransformDataset(self, fn)
        if lazy:
            return transformed
        return SimpleDataset([transformed[i] for i in range(len(transformed))])

    def transform_first(self, fn, lazy=True):
        """Apply fn to the first element of each sample only (typically the data)."""
        return self.transform(_TransformFirst(fn), lazy)

    def filter(self, fn):
        return SimpleDataset([self[i] for i in range(len(self)) if fn(self[i])])

    def take(self, count):
        count = len(self) if count is None else min(count, len(self))
        return SimpleDataset([self[i] for i in range(count)])


class SimpleDataset(Dataset):
    """A dataset wrapping a list (or anything indexable with a length)."""

    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class _LazyTransformDataset(Dataset):
    def __init__(self, data, fn):
        self._data, self._fn = data, fn

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        item = self._data[idx]
        if isinstance(item, tuple):
            return self._fn(*item)
        return self._fn(item)


class _TransformFirst:
    def __init__(self, fn):
        self._fn = fn

    def __call__(self, x, *args):
        if args:
            return (self._fn(x),) + args
        return self._fn(x)


class ArrayDataset(Dataset):
    """Samples drawn from several arrays of equal length: item i is (a[i], b[i], ...), or
    a[i] alone when there is one array. As in MXNet, an item of a one-dimensional NDArray is
    a numpy scalar and an item of a higher-dimensional one an NDArray (a view; the arrays are
    kept as numpy arrays)."""

    def __init__(self, *args):
        if not args:
            raise ValueError("ArrayDataset needs at least one array")
        self._length = len(args[0])
        self._data = []
        self._as_ndarray = []
        for i, data in enumerate(args):
            if len(data) != self._length:
                raise ValueError(f"All arrays must have the same length; array[0] has length "
                                 f"{self._length} while array[{i}] has {len(data)}.")
            self._as_ndarray.append(isinstance(data, NDArray) and data.ndim > 1)
            if isinstance(data, NDArray):
                data = data.asnumpy()
            self._data.append(data)

    def _item(self, field, idx):
        item = self._data[field][idx]
        return NDArray(item) if self._as_ndarray[field] else item

    def __getitem__(self, idx):
        if len(self._data) == 1:
            return self._item(0, idx)
        return tuple(self._item(field, idx) for field in range(len(self._data)))

    def __len__(self):
        return self._length



