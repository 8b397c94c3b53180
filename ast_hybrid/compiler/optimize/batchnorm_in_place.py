"""BatchNorm in place: `y = BatchNorm(t, ...)` of a dead temporary `t` normalizes into t's memory.

In predict mode (and with use_global_stats) BatchNorm is `t * scale + shift` per channel; a
convolution's or dense layer's fresh output that nothing reads afterwards can take both steps in
place (`batch_norm_in_place(t, ..., out=t)`), with the very scale, shift, order and dtype of the
kernel, so the result is the same bit for bit. In training mode, for output_mean_var or for data
that is not a writeable float array the helper calls the kernel, which allocates as before.
`out=t` says to the later passes that the result is t's memory (static_alloc follows it).
"""
import ast

from ...ops.normalization import batch_norm_in_place
from ..toolkit import name as _name
from .analysis import Liveness, blocks, kernel_op, nodes
from .inplace import _fresh_producer, _simple_assign


def _qualifies(statement, statements, index, info, liveness):
    """The name of the temporary a BatchNorm statement may normalize in place, or None."""
    target = _simple_assign(statement)
    call = statement.value if target is not None else None
    op = kernel_op(call, info)
    if op is None or op.name != "BatchNorm" or not call.args or \
            any(isinstance(a, ast.Starred) for a in call.args) or \
            any(k.arg in (None, "out", "output_mean_var") for k in call.keywords):
        return None
    data = call.args[0]
    if not isinstance(data, ast.Name) or data.id in info.arguments or \
            data.id in liveness.after[id(statement)]:
        return None
    reads = sum(1 for n in nodes(call) if n.__class__ is ast.Name and n.id == data.id)
    if reads != 1 or not _fresh_producer(statements, index, data.id, info):
        return None
    return data.id


def transform(function_def, info):
    liveness = Liveness(function_def.body)
    helper = None
    for statements in list(blocks(function_def)):
        for index, statement in enumerate(list(statements)):
            data = _qualifies(statement, statements, index, info, liveness)
            if data is None:
                continue
            if helper is None:
                helper = info.namer.fresh("batch_norm_in_place")
                info.namespace[helper] = batch_norm_in_place
                info.kernel_ops[helper] = info.kernel_ops[statement.value.func.id]
            statement.value.func = _name(helper)
            statement.value.keywords.append(ast.keyword("out", _name(data)))
    return function_def
