"""check_hybridize: a block's outputs and gradients compared across imperative, trace and AST
mode, at two batch sizes."""
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import autograd
from .. import ndarray as nd
from ..compiler.entry import HybridizeFallbackWarning
from ..ndarray import NDArray
from ..initializer import Initializer
from ..ndarray.random import seed as seed_random
from .compare import assert_almost_equal

__all__ = ["check_hybridize", "HybridizeMismatch", "HybridizeReport",
           "HybridizeCheckSkipped", "check_gluon_hybridize_consistency"]

MODES = ("imperative", "trace", "ast")


class HybridizeMismatch(AssertionError):
    """Two modes of one block computed different outputs, gradients or parameter values."""


class HybridizeCheckSkipped(UserWarning):
    """A mode could not run the block (tracing a data-dependent branch) and was left out."""


@dataclass
class HybridizeReport:
    """What check_hybridize compared: the modes that ran (the first is the reference), the
    ones left out with why, the AST-mode fallbacks to tracing, the batch sizes, and each
    mode's largest difference from the reference as (what, absolute difference)."""
    compared: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    fallbacks: list = field(default_factory=list)
    batch_sizes: tuple = ()
    largest: dict = field(default_factory=dict)


def check_hybridize(block, *inputs, modes=MODES, grad=True, rtol=1e-5, atol=1e-6, seed=0):
    """Run `block` on `inputs` and on a second batch (the first axis halved, or a single
    sample doubled) in each of `modes`, and compare with the first mode: the outputs, and
    with grad=True, the outputs recorded under autograd.record(), the gradients of the
    floating-point inputs and of the parameters (from fixed random head gradients), and the
    parameters' values after that call (running statistics). A block already hybridized
    runs the programs it holds in the mode and options they were built with, so a wrong
    cached program is caught too.

    Raises HybridizeMismatch naming the first quantity that differs and by how much; a
    mode that raises where the reference ran is a mismatch too, except tracing, which is
    skipped with a HybridizeCheckSkipped warning, since tracing cannot run every block (a
    branch on array values). The block's parameters, gradients and hybridize settings are
    restored afterwards. Returns a HybridizeReport."""
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise ValueError(f"check_hybridize: unknown mode(s) {unknown}; the modes are {MODES}")
    saved_settings = _hybridize_settings(block)
    params, saved_values, saved_grads, saved_freshness = [], [], [], []
    try:
        _set_mode(block, "imperative")
        with autograd.pause():
            block(*inputs)            # finishes deferred initialization
        params = [p for _, p in sorted(block.collect_params().items())]
        saved_values = [p.data().asnumpy().copy() for p in params]
        saved_grads = [None if p.grad_req == "null" else p.grad().asnumpy().copy()
                       for p in params]
        # a gradient this check writes must not look like a fresh one to Trainer.step
        saved_freshness = [autograd.grad_is_fresh(p.data()) for p in params]
        batches = [inputs, _second_batch(inputs)]
        report = HybridizeReport(batch_sizes=tuple(_batch_size(b) for b in batches))
        reference = None
        for mode in modes:
            results = _run_mode(block, mode, batches, params, saved_values, grad, seed,
                                report, reference is None, saved_settings)
            if results is None:
                continue
            report.compared.append(mode)
            if reference is None:
                reference = results
            else:
                report.largest[mode] = _compare(mode, report.compared[0], results, reference,
                                                report.batch_sizes, rtol, atol)
        return report
    finally:
        for param, value, gradient, fresh in zip(params, saved_values, saved_grads,
                                                 saved_freshness):
            param.set_data(nd.array(value, dtype=value.dtype))
            if gradient is not None:
                param.grad()[:] = gradient
            param.data()._grad_fresh = fresh
        _restore_settings(saved_settings)


def _hybrid_blocks(block):
    yield block
    for child in block._children.values():
        yield from _hybrid_blocks(child)


def _hybridize_settings(block):
    return [(b, b.__dict__.get("_active"), b.__dict__.get("_options"),
             b._program_cache.programs if b._program_cache is not None else None)
            for b in _hybrid_blocks(block)]


def _restore_settings(settings):
    # set as they were, not through hybridize(): a block never hybridized has no options,
    # and its programs from before the check stay usable
    for b, active, options, programs in settings:
        if "_options" in b.__dict__:
            object.__setattr__(b, "_active", active)
            object.__setattr__(b, "_options", options)
            b._program_cache.programs = programs


def _set_mode(block, mode, saved_settings=()):
    """Put the block tree in `mode`; a block that held programs built with these same
    options gets them back, so the check runs what the block would run."""
    if mode == "imperative":
        block.hybridize(active=False)
        return
    block.hybridize(mode=mode)
    for b, _, options, programs in saved_settings:
        if programs and options == b.__dict__.get("_options"):
            b._program_cache.programs = programs


def _batch_size(batch):
    arrays = _arrays(batch)
    return arrays[0].shape[0] if arrays and arrays[0].ndim else None


def _arrays(values):
    found = []
    for value in values:
        if isinstance(value, (list, tuple)):
            found.extend(_arrays(value))
        elif isinstance(value, NDArray):
            found.append(value)
    return found


def _second_batch(inputs):
    """The inputs at another batch size: every array whose first axis is the first array's
    batch size is cut to half of it, or doubled where it is 1."""
    size = _batch_size(inputs)
    if size is None:
        return inputs

    def resized(value):
        if isinstance(value, (list, tuple)):
            return type(value)(resized(v) for v in value)
        if not isinstance(value, NDArray) or value.ndim == 0 or value.shape[0] != size:
            return value
        data = value.asnumpy()
        data = data[:size // 2] if size > 1 else np.concatenate([data, data])
        return nd.array(data, dtype=data.dtype)
    return [resized(v) for v in inputs]


def _run_mode(block, mode, batches, params, values, grad, seed, report, is_reference,
              saved_settings):
    """{(batch index, what): numpy array} for one mode, or None if it was skipped."""
    results, failure = {}, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HybridizeFallbackWarning)
        _set_mode(block, mode, saved_settings)
        try:
            for index, batch in enumerate(batches):
                results.update({(index, what): value for what, value in _run_batch(
                    block, batch, params, values, grad, seed + index)})
        except Exception as error:
            if is_reference:
                raise
            failure = error
    # the block's own warnings go on to the caller; fallbacks go into the report
    for w in caught:
        if issubclass(w.category, HybridizeFallbackWarning):
            report.fallbacks.append(f"{mode}: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if failure is None:
        return results
    if mode != "trace":
        raise HybridizeMismatch(f"{mode} mode raised {type(failure).__name__}: {failure}, "
                                "where the reference mode ran") from failure
    reason = f"{type(failure).__name__}: {failure}"
    report.skipped[mode] = reason
    warnings.warn(f"check_hybridize: trace mode skipped: {reason}", HybridizeCheckSkipped,
                  stacklevel=4)
    return None


def _run_batch(block, batch, params, values, grad, seed):
    """(what, numpy array) pairs for one call, and a recorded call with backward."""
    for param, value in zip(params, values):
        param.set_data(nd.array(value, dtype=value.dtype))
    seed_random(seed)
    for i, out in enumerate(_arrays([block(*batch)])):
        yield f"output {i}", out.asnumpy()
    if not grad:
        return
    batch = _copied(batch)
    leaves = [x for x in _arrays(batch) if np.issubdtype(x.dtype, np.floating)]
    for x in leaves:
        x.attach_grad()
    for param, value in zip(params, values):
        param.set_data(nd.array(value, dtype=value.dtype))
    seed_random(seed)
    with autograd.record():
        outputs = _arrays([block(*batch)])
    heads = np.random.RandomState(seed)
    head_grads = [nd.array(heads.uniform(-1, 1, o.shape), dtype=o.dtype) for o in outputs]
    autograd.backward(outputs, head_grads)
    for i, out in enumerate(outputs):
        yield f"output {i} while recording", out.asnumpy()
    for i, x in enumerate(leaves):
        yield f"gradient of input {i}", x.grad.asnumpy()
    for param in params:
        if param.grad_req != "null":
            yield f"gradient of {param.name}", param.grad().asnumpy()
    for param in params:
        yield f"{param.name} after the recorded call", param.data().asnumpy()


def _copied(values):
    return [type(v)(_copied(v)) if isinstance(v, (list, tuple)) else
            v.copy() if isinstance(v, NDArray) else v for v in values]


def _compare(mode, reference_mode, results, reference, batch_sizes, rtol, atol):
    """The largest absolute difference as (what, difference); raises on the first that is
    out of tolerance, in the order the reference computed them."""
    largest = (None, 0.0)
    for key, want in reference.items():
        index, what = key
        where = f"{mode} mode differs from {reference_mode} mode at batch size " \
                f"{batch_sizes[index]}: {what}"
        if key not in results:
            raise HybridizeMismatch(f"{where}: {mode} mode did not compute it")
        got = results[key]
        if got.shape != want.shape:
            raise HybridizeMismatch(f"{where}: shape {got.shape}, not {want.shape}")
        if not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
            difference = np.where(np.equal(got, want), 0, np.abs(got - want.astype(got.dtype)))
            worst = np.unravel_index(np.nanargmax(np.nan_to_num(difference, nan=np.inf)),
                                     got.shape)
            raise HybridizeMismatch(
                f"{where}: max abs difference {float(difference[worst]):.6g} at index "
                f"{tuple(int(i) for i in worst)} ({float(got[worst]):.8g} vs "
                f"{float(want[worst]):.8g}; "
                f"rtol={rtol}, atol={atol})")
        if got.size:
            difference = float(np.nanmax(np.abs(got.astype(np.float64) - want)))
            if difference > largest[1]:
                largest = (f"batch size {batch_sizes[index]}: {what}", difference)
    extra = [what for (_, what) in results if (0, what) not in reference]
    if extra:
        raise HybridizeMismatch(f"{mode} mode computed {extra[0]}, which {reference_mode} "
                                "mode did not")
    return largest


class _SavedWeights(Initializer):
    """Initializes each weight with the value saved under its full name."""

    def __init__(self, values):
        self._values = values

    def _init_weight(self, name, array):
        array[...] = self._values[name]


def check_gluon_hybridize_consistency(net_builder, data_l, numpy_func=None, test_grad=True,
                                      rtol=1e-4, atol=1e-4):
    """MXNet's check: `net_builder(prefix='net_')` built afresh, imperatively and then
    hybridized (each with and without autograd), on copies of `data_l`, gives the first
    build's output and input gradients (from `out.backward(out)`); and numpy_func, if
    given, computes that output from the data as numpy arrays. The network must not draw
    random numbers."""
    saved_output = saved_grads = weights = None
    for hybridized in (False, True):
        for use_autograd in ((False, True) if test_grad else (False,)):
            net = net_builder(prefix="net_")
            net.initialize(_SavedWeights(weights) if weights is not None else None)
            data = [x.copy() for x in data_l]
            if hybridized:
                net.hybridize()
                # a first call that finishes deferred shapes runs imperatively: this one,
                # predicting (no state changes), leaves the compiled program for the next
                with autograd.pause():
                    net(*data)
            if use_autograd:
                for x in data:
                    x.attach_grad()
                with autograd.record():
                    out = net(*data)
                out.backward(out)
            else:
                out = net(*data)
            if weights is None:
                weights = {k: v.data().asnumpy() for k, v in net.collect_params().items()}
            if saved_output is None:
                saved_output = out.asnumpy()
            else:
                assert_almost_equal(out.asnumpy(), saved_output, rtol=rtol, atol=atol)
            if use_autograd:
                if saved_grads is None:
                    saved_grads = [x.grad.asnumpy() for x in data]
                else:
                    for x, saved in zip(data, saved_grads):
                        assert_almost_equal(x.grad.asnumpy(), saved, rtol=rtol, atol=atol)
    if numpy_func is not None:
        assert_almost_equal(saved_output, numpy_func(*[x.asnumpy() for x in data_l]),
                            rtol=rtol, atol=atol)
