"""Evaluation metrics (`mx.metric`): accumulate over batches, report with get()."""
import numpy as np


def _numpy(value):
    return value.asnumpy() if hasattr(value, "asnumpy") else np.asarray(value)


def _pairs(labels, preds):
    labels = labels if isinstance(labels, (list, tuple)) else [labels]
    preds = preds if isinstance(preds, (list, tuple)) else [preds]
    if len(labels) != len(preds):
        raise ValueError(f"{len(labels)} label arrays but {len(preds)} prediction arrays")
    return [(_numpy(label), _numpy(pred)) for label, pred in zip(labels, preds)]


class EvalMetric:
    """Sums a statistic and a count over update() calls; get() returns (name, mean)."""

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        self.name = name
        self.reset()

    def reset(self):
        self.sum_metric = 0.0
        self.num_inst = 0

    def get(self):
        value = self.sum_metric / self.num_inst if self.num_inst else float("nan")
        return self.name, value

    def get_name_value(self):
        return [self.get()]

    def update(self, labels, preds):
        raise NotImplementedError

    def __str__(self):
        name, value = self.get()
        return f"EvalMetric: {{'{name}': {value}}}"


class Accuracy(EvalMetric):
    def __init__(self, axis=1, name="accuracy", **kwargs):
        self.axis = axis
        super().__init__(name, **kwargs)

    def update(self, labels, preds):
        for label, pred in _pairs(labels, preds):
            if pred.ndim > label.ndim:
                pred = pred.argmax(axis=self.axis)
            label, pred = label.astype(np.int64).ravel(), pred.astype(np.int64).ravel()
            if label.shape != pred.shape:
                raise ValueError(f"Accuracy: labels of shape {label.shape} and predictions of "
                                 f"shape {pred.shape} do not match")
            self.sum_metric += float((pred == label).sum())
            self.num_inst += label.size


class TopKAccuracy(EvalMetric):
    def __init__(self, top_k=1, name="top_k_accuracy", **kwargs):
        self.top_k = top_k
        super().__init__(f"{name}_{top_k}", **kwargs)

    def update(self, labels, preds):
        for label, pred in _pairs(labels, preds):
            best = np.argsort(pred, axis=1)[:, -self.top_k:]
            label = label.astype(np.int64).reshape(-1, 1)
            self.sum_metric += float((best == label).any(axis=1).sum())
            self.num_inst += label.shape[0]


class _Regression(EvalMetric):
    def update(self, labels, preds):
        for label, pred in _pairs(labels, preds):
            if label.ndim == 1 and pred.ndim == 2 and pred.shape[1] == 1:
                label = label.reshape(-1, 1)
            self.sum_metric += self._batch(label, pred)
            self.num_inst += 1


class MAE(_Regression):
    def __init__(self, name="mae", **kwargs):
        super().__init__(name, **kwargs)

    @staticmethod
    def _batch(label, pred):
        return float(np.abs(label - pred).mean())


class MSE(_Regression):
    def __init__(self, name="mse", **kwargs):
        super().__init__(name, **kwargs)

    @staticmethod
    def _batch(label, pred):
        return float(((label - pred) ** 2).mean())


class RMSE(_Regression):
    def __init__(self, name="rmse", **kwargs):
        super().__init__(name, **kwargs)

    @staticmethod
    def _batch(label, pred):
        return float(np.sqrt(((label - pred) ** 2).mean()))


class CrossEntropy(EvalMetric):
    def __init__(self, eps=1e-12, name="cross-entropy", **kwargs):
        self.eps = eps
        super().__init__(name, **kwargs)

    def update(self, labels, preds):
        for label, pred in _pairs(labels, preds):
            label = label.astype(np.int64).ravel()
            chosen = pred[np.arange(label.size), label]
            self.sum_metric += float(-np.log(chosen + self.eps).sum())
            self.num_inst += label.size


class Loss(EvalMetric):
    """The mean of loss values (labels are ignored)."""

    def __init__(self, name="loss", **kwargs):
        super().__init__(name, **kwargs)

    def update(self, _, preds):
        for pred in preds if isinstance(preds, (list, tuple)) else [preds]:
            values = _numpy(pred)
            self.sum_metric += float(values.sum())
            self.num_inst += values.size


class CompositeEvalMetric(EvalMetric):
    def __init__(self, metrics=None, name="composite", **kwargs):
        self.metrics = [create(m) for m in (metrics or [])]
        super().__init__(name, **kwargs)

    def add(self, metric):
        self.metrics.append(create(metric))

    def reset(self):
        for metric in getattr(self, "metrics", []):
            metric.reset()

    def update(self, labels, preds):
        for metric in self.metrics:
            metric.update(labels, preds)

    def get(self):
        names, values = zip(*(m.get() for m in self.metrics)) if self.metrics else ((), ())
        return list(names), list(values)


_BY_NAME = {"acc": Accuracy, "accuracy": Accuracy, "top_k_accuracy": TopKAccuracy,
            "mae": MAE, "mse": MSE, "rmse": RMSE, "ce": CrossEntropy,
            "cross-entropy": CrossEntropy, "loss": Loss}


def create(metric, *args, **kwargs):
    """A metric from an instance, a name ('acc'), or a list of either."""
    if isinstance(metric, EvalMetric):
        return metric
    if isinstance(metric, (list, tuple)):
        return CompositeEvalMetric([create(m) for m in metric])
    if isinstance(metric, str) and metric.lower() in _BY_NAME:
        return _BY_NAME[metric.lower()](*args, **kwargs)
    raise ValueError(f"unknown metric {metric!r}; known: {', '.join(sorted(_BY_NAME))}")
