"""Optimization passes on a generated program's FunctionDef, each output-preserving, in order.

Each pass is a module with `transform(function_def, info) -> function_def` (it may change the
definition in place). `info` says which names are kernels (and of which operator), which are
the program's inputs and parameters, and gives the namespace and namer for new constants.
"""
import ast
from dataclasses import dataclass, field

from ..origins import copy_origin
from ..toolkit import fix_missing_locations
from . import (batchnorm_in_place, concat_in_place, constant_fold, cse, dce, inplace, release,
               specialize_kernels, static_alloc)


@dataclass
class OptimizeInfo:
    kernel_ops: dict                  # identifier -> operator (grows as kernels specialize)
    namespace: dict                   # constants of the program (grows too)
    namer: object
    arguments: tuple = ()             # the program's arguments: inputs, then parameters
    parameters: dict = field(default_factory=dict)   # argument identifier -> Parameter
    options: object = None
    # identifiers of functions the passes introduced (ufuncs called with out=, in-place
    # helpers): no effect but their value and writing their `out=` argument (concat_into: the
    # buffer it is handed, which only the chain's own links hold)
    pure_calls: set = field(default_factory=set)
    # arrays keep the memory order imperative mode gives them (a recording: its gradients
    # then sum in the same order), so no kernel specializes to one that changes it
    imperative_layouts: bool = False


PASSES = (constant_fold, specialize_kernels, cse, dce, batchnorm_in_place, inplace,
          concat_in_place, static_alloc, release)


def clone(node):
    """A deep copy of an AST (several times faster than copy.deepcopy)."""
    if isinstance(node, ast.AST):
        new = node.__class__.__new__(node.__class__)
        for name in node._fields:
            if hasattr(node, name):
                setattr(new, name, clone(getattr(node, name)))
        for name in node._attributes:
            if hasattr(node, name):
                setattr(new, name, getattr(node, name))
        return copy_origin(node, new) if isinstance(node, ast.stmt) else new
    if isinstance(node, list):
        return [clone(item) for item in node]
    return node


def optimize(definition, info, passes=PASSES):
    """A new FunctionDef: `definition` (left unchanged) after each pass in turn."""
    result = clone(definition)
    for optimization in passes:
        result = optimization.transform(result, info)
    fix_missing_locations(result)
    return result
