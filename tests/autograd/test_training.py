"""gluon.loss against numpy references, optimizers and Trainer, gluon.data, and training
steps giving the same parameters imperatively and through trace mode's backward programs."""
import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, gluon, nd
from ast_hybrid.gluon import loss as gloss
from ast_hybrid.gluon import nn


RNG = np.random.default_rng(0)
PRED = RNG.standard_normal((4, 3)).astype(np.float32)
TARGET = RNG.uniform(0, 1, (4, 3)).astype(np.float32)
SPARSE = np.array([0, 2, 1, 1], dtype=np.float32)
SAMPLE_WEIGHT = RNG.uniform(0, 1, (4, 1)).astype(np.float32)


def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _softplus(x):
    return np.logaddexp(0, x)


LOSSES = {
    "L2": (lambda: gloss.L2Loss(), TARGET,
           lambda p, t: (0.5 * (t - p) ** 2).mean(axis=1)),
    "L2-weight": (lambda: gloss.L2Loss(weight=3.0), TARGET,
                  lambda p, t: (1.5 * (t - p) ** 2).mean(axis=1)),
    "L1": (lambda: gloss.L1Loss(), TARGET, lambda p, t: np.abs(t - p).mean(axis=1)),
    "SoftmaxCE-sparse": (lambda: gloss.SoftmaxCrossEntropyLoss(), SPARSE,
                         lambda p, t: -_log_softmax(p)[np.arange(4), t.astype(int)]),
    "SoftmaxCE-dense": (lambda: gloss.SoftmaxCrossEntropyLoss(sparse_label=False),
                        TARGET / TARGET.sum(axis=1, keepdims=True),
                        lambda p, t: -(_log_softmax(p) * t).sum(axis=1)),
    "SoftmaxCE-logits": (lambda: gloss.SoftmaxCELoss(from_logits=True), SPARSE,
                         lambda p, t: -p[np.arange(4), t.astype(int)]),
    "SoftmaxCE-axis0": (lambda: gloss.SoftmaxCrossEntropyLoss(axis=0, batch_axis=1),
                        np.array([1, 0, 3], dtype=np.float32),
                        lambda p, t: -_log_softmax(p, 0)[t.astype(int), np.arange(3)]),
    "SigmoidBCE": (lambda: gloss.SigmoidBinaryCrossEntropyLoss(), TARGET,
                   lambda p, t: (_softplus(p) - p * t).mean(axis=1)),
    "SigmoidBCE-from-sigmoid": (
        lambda: gloss.SigmoidBCELoss(from_sigmoid=True), TARGET,
        lambda p, t: (-(np.log(1 / (1 + np.exp(-p))) * t
                        + np.log(1 - 1 / (1 + np.exp(-p))) * (1 - t))).mean(axis=1)),
    "Huber": (lambda: gloss.HuberLoss(rho=0.7), TARGET,
              lambda p, t: np.where(np.abs(t - p) > 0.7, np.abs(t - p) - 0.35,
                                    0.5 / 0.7 * (t - p) ** 2).mean(axis=1)),
}


@pytest.mark.parametrize("mode", [None, "trace", "ast"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_matches_numpy(name, mode):
    make, label, reference = LOSSES[name]
    loss = make()
    pred = PRED if name != "SigmoidBCE-from-sigmoid" else 1 / (1 + np.exp(-PRED))
    if mode:
        loss.hybridize(mode=mode, fallback=False)
    got = loss(nd.array(pred), nd.array(label)).asnumpy()
    np.testing.assert_allclose(got, reference(PRED, label), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", [None, "trace", "ast"])
def test_sample_weight_scales_each_sample(mode):
    loss = gloss.L1Loss()
    if mode:
        loss.hybridize(mode=mode, fallback=False)
    got = loss(nd.array(PRED), nd.array(TARGET), nd.array(SAMPLE_WEIGHT)).asnumpy()
    expected = (np.abs(TARGET - PRED) * SAMPLE_WEIGHT).mean(axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_label_is_reshaped_like_prediction():
    loss = gloss.L2Loss()
    got = loss(nd.array(PRED[:, :1]), nd.array(TARGET[:, 0])).asnumpy()
    np.testing.assert_allclose(got, 0.5 * (TARGET[:, 0] - PRED[:, 0]) ** 2, rtol=1e-6)


def test_softmax_cross_entropy_gradient():
    pred = nd.array(PRED)
    pred.attach_grad()
    with autograd.record():
        loss = gloss.SoftmaxCrossEntropyLoss()(pred, nd.array(SPARSE))
    loss.backward()
    softmax = np.exp(_log_softmax(PRED))
    expected = softmax - np.eye(3)[SPARSE.astype(int)]
    np.testing.assert_allclose(pred.grad.asnumpy(), expected, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- optimizers

def _reference_updates(name, params, weights, grads, batch_size):
    """numpy transcriptions of MXNet's update rules, for one weight over several steps."""
    lr = params.get("learning_rate", 0.01 if name in ("sgd", "nag") else 0.001)
    wd = params.get("wd", 0.0)
    clip = params.get("clip_gradient")
    rescale = params.get("rescale_grad", 1.0) / batch_size
    w = weights.astype(np.float64).copy()
    state = [np.zeros_like(w) for _ in range(3)]
    for t, grad in enumerate(grads, start=1):
        g = grad * rescale
        if name in ("sgd", "nag"):
            if clip is not None:
                g = np.clip(g, -clip, clip)
            g = g + wd * w
            momentum = params.get("momentum", 0.0)
            if name == "sgd":
                state[0] = momentum * state[0] - lr * g
                w = w + state[0]
            else:
                state[0] = momentum * state[0] + g
                w = w - lr * (g + momentum * state[0])
        elif name == "adam":
            b1, b2 = params.get("beta1", 0.9), params.get("beta2", 0.999)
            eps = params.get("epsilon", 1e-8)
            g = g + wd * w
            if clip is not None:
                g = np.clip(g, -clip, clip)
            state[0] = b1 * state[0] + (1 - b1) * g
            state[1] = b2 * state[1] + (1 - b2) * g * g
            lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            w = w - lr_t * state[0] / (np.sqrt(state[1]) + eps)
        elif name == "rmsprop":
            g1, eps = params.get("gamma1", 0.9), params.get("epsilon", 1e-8)
            g = g + wd * w
            if clip is not None:
                g = np.clip(g, -clip, clip)
            state[0] = g1 * state[0] + (1 - g1) * g * g
            w = w - lr * g / np.sqrt(state[0] + eps)
    return w


OPTIMIZERS = [
    ("sgd", {"learning_rate": 0.1}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01, "clip_gradient": 0.3}),
    ("nag", {"learning_rate": 0.1, "momentum": 0.8, "wd": 0.02}),
    ("nag", {"learning_rate": 0.1}),
    ("adam", {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99, "wd": 0.01}),
    ("adam", {"clip_gradient": 0.1, "rescale_grad": 2.0}),
    ("rmsprop", {"learning_rate": 0.01, "gamma1": 0.8, "epsilon": 1e-6}),
    ("rmsprop", {"wd": 0.1, "clip_gradient": 0.2}),
]


@pytest.mark.parametrize("name, params", OPTIMIZERS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_trainer_step_matches_reference(name, params):
    rng = np.random.default_rng(3)
    weight = rng.standard_normal((3, 2)).astype(np.float32)
    param = gluon.Parameter("w", shape=(3, 2))
    param.initialize()
    param.set_data(weight)
    trainer = gluon.Trainer([param], name, dict(params))
    grads = []
    for _ in range(4):
        target = nd.array(rng.standard_normal((3, 2)).astype(np.float32))
        with autograd.record():
            loss = ((param.data() - target) ** 2).sum()
        loss.backward()
        grads.append(param.grad().asnumpy().astype(np.float64))
        version = param.version
        trainer.step(5)
        assert param.version > version
    expected = _reference_updates(name, params, weight, grads, 5)
    np.testing.assert_allclose(param.data().asnumpy(), expected, rtol=1e-5, atol=1e-6)


def test_trainer_learning_rate_and_null_parameters():
    net = nn.Dense(2, in_units=3)
    net.initialize()
    net.bias.grad_req = "null"
    bias = net.bias.data().asnumpy()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    assert trainer.learning_rate == 0.5
    trainer.set_learning_rate(0.25)
    assert trainer.learning_rate == 0.25
    weight = net.weight.data().asnumpy()
    x = nd.ones((4, 3))
    with autograd.record():
        loss = net(x).sum()
    loss.backward()
    grad = net.weight.grad().asnumpy()
    trainer.step(4)
    np.testing.assert_allclose(net.weight.data().asnumpy(), weight - 0.25 * grad / 4, rtol=1e-6)
    np.testing.assert_array_equal(net.bias.data().asnumpy(), bias)


def test_stale_gradients_raise_unless_ignored():
    a = gluon.Parameter("a", shape=(2,))
    b = gluon.Parameter("b", shape=(2,))
    a.initialize()
    b.initialize()
    trainer = gluon.Trainer([a, b], "sgd", {"learning_rate": 1.0})
    with autograd.record():
        loss = (a.data() * 2).sum()
    loss.backward()
    with pytest.raises(UserWarning, match="`b`.*ignore_stale_grad"):
        trainer.step(1)
    with autograd.record():
        loss = (a.data() * 2).sum()
    loss.backward()
    before_a, before_b = a.data().asnumpy(), b.data().asnumpy()
    trainer.step(1, ignore_stale_grad=True)
    np.testing.assert_allclose(a.data().asnumpy(), before_a - 2)
    np.testing.assert_array_equal(b.data().asnumpy(), before_b)


def test_trainer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="list or dict of Parameters"):
        gluon.Trainer("weights", "sgd")
    with pytest.raises(ValueError, match="unknown optimizer"):
        gluon.Trainer([gluon.Parameter("w", shape=(1,))], "no-such")


def test_trainer_states_round_trip(tmp_path):
    param = gluon.Parameter("w", shape=(2,))
    param.initialize()
    trainer = gluon.Trainer([param], "adam")
    for _ in range(2):
        with autograd.record():
            loss = (param.data() ** 2).sum()
        loss.backward()
        trainer.step(1)
    path = str(tmp_path / "trainer.states")
    trainer.save_states(path)
    other = gluon.Trainer([param], "adam")
    other.load_states(path)
    for a, b in zip(trainer._states[0], other._states[0]):
        np.testing.assert_array_equal(a, b)
    assert other.optimizer._index_update_count == {0: 2}


# ----------------------------------------------------------------------------- data

def test_array_dataset_and_dataloader_batches():
    data = np.arange(20, dtype=np.float32).reshape(10, 2)
    labels = np.arange(10)
    dataset = gluon.data.ArrayDataset(data, nd.array(labels))
    assert len(dataset) == 10
    x, y = dataset[3]
    np.testing.assert_array_equal(x, [6, 7])
    batches = list(gluon.data.DataLoader(dataset, batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert isinstance(batches[0][0], nd.NDArray) and isinstance(batches[0][1], nd.NDArray)
    np.testing.assert_array_equal(batches[2][1].asnumpy(), [8, 9])
    assert len(gluon.data.DataLoader(dataset, batch_size=4)) == 3
    discard = gluon.data.DataLoader(dataset, batch_size=4, last_batch="discard")
    assert len(discard) == 2 and len(list(discard)) == 2
    with pytest.raises(ValueError, match="same length"):
        gluon.data.ArrayDataset(data, labels[:5])
    with pytest.raises(ValueError, match="last_batch"):
        gluon.data.DataLoader(dataset, batch_size=4, last_batch="bogus")


def test_dataloader_shuffle_and_rollover():
    dataset = gluon.data.ArrayDataset(np.arange(10, dtype=np.float32))
    np.random.seed(0)
    seen = np.concatenate([b.asnumpy() for b in
                           gluon.data.DataLoader(dataset, batch_size=3, shuffle=True)])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    loader = gluon.data.DataLoader(dataset, batch_size=4, last_batch="rollover")
    first = [b.asnumpy().tolist() for b in loader]
    second = [b.asnumpy().tolist() for b in loader]
    assert first == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert second[0] == [8, 9, 0, 1]


def test_dataset_transform_first():
    dataset = gluon.data.ArrayDataset(np.ones((3, 2), dtype=np.float32), np.arange(3))
    doubled = dataset.transform_first(lambda x: x * 2)
    x, y = doubled[1]
    np.testing.assert_array_equal(x, [2, 2])
    assert y == 1


# ----------------------------------------------------------------------------- training

def _net():
    net = nn.HybridSequential()
    net.add(nn.Dense(16, activation="relu", in_units=6), nn.BatchNorm(in_channels=16),
            nn.Dropout(0.2), nn.Dense(8, activation="tanh"), nn.Dense(3))
    return net


@pytest.mark.parametrize("optimizer, params", [
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3}),
    ("adam", {"learning_rate": 0.01}),
])
def test_five_steps_same_parameters_imperative_and_trace(optimizer, params):
    rng = np.random.default_rng(7)
    x = nd.array(rng.standard_normal((8, 6)).astype(np.float32))
    y = nd.array(rng.integers(0, 3, 8).astype(np.float32))
    results = []
    for use_trace in (False, True):
        ast_hybrid.random.seed(11)
        with ast_hybrid.name.NameManager():    # the same parameter names in both runs
            net = _net()
        net.initialize(ast_hybrid.init.Xavier())
        net(x)
        if use_trace:
            net.hybridize(mode="trace", fallback=False)
        run = net
        trainer = gluon.Trainer(net.collect_params(), optimizer, dict(params))
        loss_fn = gloss.SoftmaxCrossEntropyLoss()
        losses = []
        for _ in range(5):
            with autograd.record():
                loss = loss_fn(run(x), y)
            loss.backward()
            trainer.step(x.shape[0])
            losses.append(float(loss.mean().asscalar()))
        results.append((losses, {k: p.data().asnumpy() for k, p in
                                 net.collect_params().items()}))
    (losses_a, params_a), (losses_b, params_b) = results
    np.testing.assert_allclose(losses_a, losses_b, rtol=1e-5)
    for key in params_a:
        np.testing.assert_allclose(params_a[key], params_b[key], rtol=1e-5, atol=1e-6,
                                   err_msg=key)


def test_array_dataset_items_as_mxnet_gives_them():
    from ast_hybrid import gluon, nd
    features, labels = nd.arange(6).reshape((3, 2)), nd.array([1.0, 2.0, 3.0])
    x, y = gluon.data.ArrayDataset(features, labels)[1]
    assert isinstance(x, nd.NDArray) and x.asnumpy().tolist() == [2.0, 3.0]
    assert not isinstance(y, nd.NDArray) and float(y) == 2.0
    batches = list(gluon.data.DataLoader(gluon.data.ArrayDataset(features, labels), 2))
    assert [b[0].shape for b in batches] == [(2, 2), (1, 2)]
