"""Each variant's SGD training step of one benchmark model, checked against the numpy step."""
import numpy as np

from .. import autograd, gluon, nd
from .jax_peers import jax_training
from .models import MODELS, TRAIN_MODELS, make, make_labels
from .mxnet_peer import model_args
from .torch_peers import torch_training
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


def _compare(got, want):
    """(whether every array of `got` equals its counterpart in `want`, the largest
    difference)."""
    return (all(close_to(g, w) for g, w in zip(got, want)),
            max(float(np.max(np.abs(g - w))) if g.shape == w.shape else float("inf")
                for g, w in zip(got, want)))


def _mxnet_step(mxnet, spec, source, xn, labels, want_loss, want_weights):
    """(MXNet's step in its worker, whether its first step's loss and updated weights equal
    the numpy step's, the largest difference)."""
    step, first = mxnet.build(spec.kind, model_args(spec.kind, source),
                              [p.data().asnumpy() for p in source.collect_params().values()],
                              xn, labels=labels.astype(np.float32), lr=TRAIN_LR)
    return (step, *_compare([first["loss"]] + first["weights"], [want_loss] + want_weights))


def _peer_steps(kind, source, xn, labels, peers):
    """The enabled in-process `peers`' (step, checked_step) pairs, and the errors of those
    that failed to build, peer -> message."""
    built, errors = {}, {}
    if "torch" in peers:
        try:
            built.update(torch_training(kind, source, xn, labels, TRAIN_LR))
        except Exception as error:  # noqa: BLE001 - peers are optional
            errors["torch"] = peer_error(error)
    if "jax" in peers:
        try:
            built["jax"] = jax_training(kind, source, xn, labels, TRAIN_LR)
        except Exception as error:  # noqa: BLE001
            errors["jax"] = peer_error(error)
    return built, errors


def setup_training(name, peers=(), mxnet=None):
    """(variant -> step function, the row's checks) for one row of TRAIN_MODELS, each
    variant's first step checked against the hand-written numpy step's: the modes' and the
    in-process `peers`' (the enabled ones) losses, gradients and updated weights; MXNet's,
    timed in its worker `mxnet` unless None, loss and updated weights. A peer that fails to
    build or to step is reported in the row's peer_errors, its column left empty."""
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
    fns, matches, max_diff, ast_error = {}, {}, {}, None
    for variant, mode in MODES:
        step, (loss, grads, weights), err = _train_variant(spec, source, mode, x, y, batch)
        if mode == "ast":
            ast_error = err
        matches[variant], max_diff[variant] = _compare([loss] + grads + weights, want)
        fns[variant] = step
    matches["numpy"], max_diff["numpy"] = True, 0.0
    fns["numpy"] = lambda: reference.step(xn, labels)
    built, errors = _peer_steps(spec.kind, source, xn, labels, peers)
    for peer, (step, checked_step) in built.items():
        try:
            loss, grads, weights = checked_step()
        except Exception as error:  # noqa: BLE001 - a peer's failure is reported, not fatal
            errors[peer] = peer_error(error)
            continue
        matches[peer], max_diff[peer] = _compare([loss] + grads + weights, want)
        fns[peer] = step
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
        "checked": "first step's loss, gradients and updated weights vs the numpy step "
                   "(MXNet: loss and updated weights)",
        "ast_compile_error": ast_error,
        "peer_errors": errors,
    }
    return fns, info
