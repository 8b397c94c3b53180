"""Release dead temporaries: in a program of image layers, `del` each local name right after the
statement that last reads it, as imperative mode drops a layer's input once the layer is done.

Without it the program holds every intermediate image until it returns: its peak memory is the
sum of them all, and each call takes fresh pages from the system for them (DenseNet-121 at batch
1: some 17,000 page faults a call), where a freed array's memory would serve the next one.
Programs without convolutions or pooling keep their text (their arrays are small).

Only the function's top-level straight-line statements release, and only names that statements
bind (parameters stay the caller's; names bound in comprehensions are not the function's): after
such a statement has run, every name it reads or binds is bound, so the `del` cannot fail.
It runs last: the analyses of the other passes take a `del` for an escape.
"""
import ast

from ..origins import spread
from .analysis import Liveness, kernel_op, names_stored, nodes

_IMAGE_LAYERS = {"Convolution", "Deconvolution", "Pooling"}
_STRAIGHT = (ast.Assign, ast.AugAssign, ast.Expr)


def _bound_by_statements(function_def):
    """Names that assignments, augmented assignments and for loops bind."""
    bound = set()
    for node in nodes(function_def):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bound |= names_stored(target)
        elif isinstance(node, (ast.AugAssign, ast.For)):
            bound |= names_stored(node.target)
    return bound


def transform(function_def, info):
    if not any(op.name in _IMAGE_LAYERS for op in map(lambda call: kernel_op(call, info),
                                                       nodes(function_def)) if op is not None):
        return function_def
    liveness = Liveness(function_def.body)
    releasable = _bound_by_statements(function_def) - set(info.arguments)
    body = []
    for statement in function_def.body:
        body.append(statement)
        if not isinstance(statement, _STRAIGHT):
            continue
        touched = liveness.reads(statement) | names_stored(statement)
        dying = sorted((touched & releasable) - liveness.after[id(statement)])
        if dying:
            body.extend(spread(statement, [ast.Delete([ast.Name(name, ast.Del())
                                                       for name in dying])]))
    function_def.body = body
    return function_def
