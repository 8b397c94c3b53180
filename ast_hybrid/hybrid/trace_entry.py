"""Trace mode's cache entries: trace the block once, compile its graph into a program."""
from .dispatch import CompiledEntry, Invalidator
from .graph_program import compile_graph
from .trace import is_array, trace


def watch_whole_tree(block, invalidator):
    invalidator.watch(block, "*")
    for child in block._children.values():
        watch_whole_tree(child, invalidator)


def build_trace_entry(block, args):
    traced = trace(block, args)
    names = traced.data_names + list(traced.params)
    program = compile_graph(traced.outputs, names, type(block).__name__)
    invalidator = Invalidator(block)
    watch_whole_tree(block, invalidator)
    positions = [i for i, a in enumerate(args) if is_array(a)]
    return CompiledEntry(program, list(traced.params.values()), positions, traced.structure,
                         "trace")
