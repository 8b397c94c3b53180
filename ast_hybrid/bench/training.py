"""Each variant's SGD training step of one benchmark model, checked against the numpy step."""
import numpy as np

from .. import autograd, gluon, nd
from .models import MODELS, TRAIN_MODELS, make, make_labels
from .mxnet_peer import model_args
from .variants import as_numpy, build_ast_strictly, clone, close_to, peer_error

TRAIN_LR = 0.01
MODES = (("imperative", None), ("trace", "trace"), ("ast", "ast"))


def _build_step(spec, source_net, x, y, batch, **hybridize_kwargs):
    """(step, first_step) of a copy of `source_net`, the loss hybridized alike; first_step
    returns its (loss, gradients, updated weights) as numpy."""
    net = clone(spec, source_net, **hybridize_kwargs)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    if hybridize_kwargs:
        loss_fn.hybridize(**hybridize_kwargs)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": TRAIN_LR})
    params = list(net.collect_params().values())

    def forward_backward():
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        return loss

    def step():
        loss = forward_backward()
        trainer.step(batch)
        return loss

    def first_step():
        loss = forward_backward()
        grads = [p.grad().asnumpy().copy() for p in params]
        trainer.step(batch)
        return as_numpy(loss), grads, [p.data().asnumpy().copy() for p in params]
    return step, first_step


def _train_variant(spec, source_net, mode, x, y, batch):
    """(step function, its first step's (loss, gradients, updated weights), AST compile error
    or None) for a mode (None: imperative)."""
    if mode != "ast":
        step, first_step = _build_step(spec, source_net, x, y, batch,
                                       **({} if mode is None else {"mode": mode}))
        return step, first_step(), None
    (step, _), first, error = build_ast_strictly(
        lambda fallback: _build_step(spec, source_net, x, y, batch, mode="ast",
                                     fallback=fallback),
        lambda built: built[1]())
    return step, first, error


def _mxnet_step(mxnet, spec, source, xn, labels, want_loss, want_weights):
    """(MXNet's step in its worker, whether its first step's loss and updated weights equal
    the numpy step's, the largest difference)."""
    step, first = mxnet.build(spec.kind, model_args(spec.kind, source),
                              [p.data().asnumpy() for p in source.collect_params().values()],
                              xn, labels=labels.astype(np.float32), lr=TRAIN_LR)
    got, want = [first["loss"]] + first["weights"], [want_loss] + want_weights
    return (step, all(close_to(g, w) for g, w in zip(got, want)),
            max(float(np.max(np.abs(g - w))) if g.shape == w.shape else float("inf")
                for g, w in zip(got, want)))


def setup_training(name, mxnet=None):
    """(variant -> step function, the row's checks) for one row of TRAIN_MODELS, each
    variant's first step checked against the hand-written numpy step's (gradients and
    updated weights; MXNet's, timed in its worker `mxnet` unless None: loss and updated
    weights)."""
    model, numpy_step, _ = TRAIN_MODELS[name]
    spec = MODELS[model]
    source, x, xn = make(model)
    labels = make_labels(name)
    y = nd.array(labels.astype(np.float32))
    batch = xn.shape[0]
    reference = numpy_step(source, TRAIN_LR)
    ref_loss = reference.step(xn, labels)
    want = [ref_loss] + [g.copy() for g in reference.grads()] \
        + [w.copy() for w in reference.weights()]
    fns, matches, max_diff, error = {}, {}, {}, None
    for variant, mode in MODES:
        step, (loss, grads, weights), err = _train_variant(spec, source, mode, x, y, batch)
        if mode == "ast":
            error = err
        got = [loss] + grads + weights
        matches[variant] = all(close_to(g, w) for g, w in zip(got, want))
        max_diff[variant] = max(float(np.max(np.abs(g - w))) if g.shape == w.shape
                                else float("inf") for g, w in zip(got, want))
        fns[variant] = step
    matches["numpy"], max_diff["numpy"] = True, 0.0
    fns["numpy"] = lambda: reference.step(xn, labels)
    errors = {}
    if mxnet is not None:
        try:
            fns["mxnet"], matches["mxnet"], max_diff["mxnet"] = _mxnet_step(
                mxnet, spec, source, xn, labels, ref_loss,
                [w.copy() for w in want[1 + len(reference.grads()):]])
        except Exception as error:  # noqa: BLE001 - a peer's failure is reported, not fatal
            errors["mxnet"] = peer_error(error)
    info = {
        "description": f"{spec.description}: forward + SoftmaxCrossEntropyLoss + backward + "
                       f"SGD step (lr {TRAIN_LR})",
        "model": model,
        "input_shape": list(spec.input_shape),
        "reference_matches": matches,
        "max_abs_diff": max_diff,
        "checked": "first step's loss, gradients and updated weights vs the numpy step",
        "ast_compile_error": error,
        "peer_errors": errors,
    }
    return fns, info
