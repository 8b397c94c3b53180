"""mx.metric: each metric against numpy computed in the test."""
import numpy as np
import pytest

from ast_hybrid import metric, nd


def test_accuracy_over_batches_from_scores():
    acc = metric.Accuracy()
    acc.update(nd.array([0, 1, 2]), nd.array([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]]))
    acc.update([nd.array([1])], [nd.array([[0.1, 0.9, 0.0]])])
    assert acc.get() == ("accuracy", 3 / 4)
    acc.reset()
    assert np.isnan(acc.get()[1])


def test_regression_metrics_and_composite():
    label, pred = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    composite = metric.create(["mae", "mse", "rmse"])
    composite.update(nd.array(label), nd.array(pred))
    names, values = composite.get()
    assert names == ["mae", "mse", "rmse"]
    np.testing.assert_allclose(values, [np.abs(label - pred).mean(), ((label - pred) ** 2).mean(),
                                        np.sqrt(((label - pred) ** 2).mean())])


def test_cross_entropy_top_k_and_loss():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    ce = metric.CrossEntropy()
    ce.update(nd.array([0, 1]), nd.array(probs))
    assert ce.get()[1] == pytest.approx(-(np.log(0.7) + np.log(0.3)) / 2)
    top2 = metric.TopKAccuracy(top_k=2)
    top2.update(nd.array([1, 0]), nd.array(probs))
    assert top2.get() == ("top_k_accuracy_2", 0.5)
    loss = metric.Loss()
    loss.update(None, [nd.array([1.0, 3.0])])
    assert loss.get() == ("loss", 2.0)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown metric"):
        metric.create("nope")
    with pytest.raises(ValueError, match="do not match"):
        metric.Accuracy().update(nd.array([0, 1]), nd.array([1, 0, 1]))
