"""Calling a hybridized block: the cached program for these arguments, or a new one, run."""
import warnings

import numpy as np

from .. import autograd
from . import ast_front_end, trace_entry
from .entry import HybridizeFallbackWarning, _array_leaves, build_lock, cache_key, cached_entry
from .passes.errors import UnsupportedConstruct


class HybridizeCheckError(AssertionError):
    """hybridize(check=True) found the compiled program disagreeing with imperative mode."""


def call_compiled(block, args):
    """Run the program `block` (a BlockView) has cached for `args`, built first if need be."""
    cache = block._program_cache
    entry = cached_entry(cache, args)
    if entry is not None:
        return entry(args)
    key = cache_key(args)
    with build_lock:
        programs = cache.programs
        entry = programs.get(key) if programs is not None else None
        first_output = None
        if entry is None:
            entry, first_output = _build(block, args)
            cache.add(key, entry, programs)
    output = first_output if first_output is not None else entry(args)
    if block._hybridize_options().check and first_output is None:
        _check_against_imperative(block, args, output)
    return output


def _build(block, args):
    """(entry, output of this call if it had to run imperatively to finish initialization)."""
    options = block._hybridize_options()
    first_output = None
    builder = block._build_program
    # trace mode infers deferred shapes from the one trace it compiles (hybrid_forward runs
    # once, as in MXNet); other paths finish initialization first
    infer_while_tracing = options.mode == "trace" and builder is None
    if _has_deferred_parameters(block) and not infer_while_tracing:
        if options.mode == "trace":
            block.infer_and_initialize(args)
        else:
            first_output = block._call_imperative(*args)
    if builder is not None:
        return builder(args), first_output
    if options.mode == "ast":
        try:
            return ast_front_end.build_ast_entry(block, args), first_output
        except UnsupportedConstruct as error:
            if not options.fallback:
                raise
            warnings.warn(f"{error}; {type(block).__name__} runs in trace mode instead",
                          HybridizeFallbackWarning, stacklevel=4)
    infer = infer_while_tracing and _has_deferred_parameters(block)
    return trace_entry.build_trace_entry(block, args, infer_shapes=infer), first_output


def _has_deferred_parameters(block):
    return any(p._data is None for p in block._tree_parameters().values())


def _check_against_imperative(block, args, compiled_output):
    with autograd.pause(train_mode=autograd.is_training()):
        expected = block._call_imperative(*args)
    mode = block._hybridize_options().mode
    got_leaves, want_leaves = list(_array_leaves(compiled_output)), list(_array_leaves(expected))
    if len(got_leaves) != len(want_leaves):
        raise HybridizeCheckError(
            f"{type(block).__name__}: the {mode} program returned "
            f"{len(got_leaves)} arrays, imperative mode {len(want_leaves)}")
    for index, (got, want) in enumerate(zip(got_leaves, want_leaves)):
        got, want = got.asnumpy(), want.asnumpy()
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-5, atol=1e-6):
            difference = (np.max(np.abs(got - want)) if got.shape == want.shape
                          else f"shapes {got.shape} vs {want.shape}")
            raise HybridizeCheckError(
                f"{type(block).__name__}: the {mode} program disagrees with "
                f"imperative mode on output {index} (max difference {difference})")
