"""Trace mode's cache entries: trace the block once, compile its graph into a program."""
from .entry import CompiledEntry, argument_leaves
from .graph_program import compile_graph
from .trace import infer_parameter_shapes, is_array, trace


def watch_whole_tree(block, cache):
    cache.watch(block, "*")
    for child in block._child_blocks():
        watch_whole_tree(child, cache)


def build_trace_entry(block, args, infer_shapes=False):
    """Trace `block` once and compile the graph; with infer_shapes, the same trace also
    finishes the deferred initialization of its parameters."""
    traced = trace(block, args, with_shapes=infer_shapes)
    if infer_shapes:
        infer_parameter_shapes(block, args, traced)
    for param in traced.params.values():
        param._check_initialized()       # the error imperative mode gives, not one mid-call
    names = traced.data_names + list(traced.params)
    program = compile_graph(traced.outputs, names, type(block).__name__)
    watch_whole_tree(block, block._program_cache)
    nested = any(isinstance(a, (list, tuple)) for a in args)
    leaves = argument_leaves(args) if nested else args
    positions = [i for i, a in enumerate(leaves) if is_array(a)]
    return CompiledEntry(program, list(traced.params.values()), positions, traced.structure,
                         "trace", nested=nested)
