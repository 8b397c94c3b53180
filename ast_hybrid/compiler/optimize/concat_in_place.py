"""Concatenation chains in one buffer: `h1 = concat(h0, o1)`, `h2 = concat(h1, o2)`, ... (DenseNet's
blocks) write each piece once into a buffer the chain shares, instead of copying the growing
prefix at every link.

Each link becomes `h1, buffer = concat_into(h0, o1, buffer, remaining)` (ops.shape_ops), whose
result is a prefix of the buffer; a later link writes only past it, so the values of the earlier
links never change. A link continues the chain only if its predecessor's result is seen by
nothing that could tell it from a fresh array: read only as an argument of kernels that compute
new arrays from their inputs and keep no reference to them, never written, returned, aliased or
stored; the last link's result may go anywhere. Chains run in the function's top-level body,
after inplace (which then has written into none of these results).
"""
import ast

from ...ops.shape_ops import concat_into
from ..toolkit import name as _name
from .analysis import kernel_op, nodes
from .inplace import FRESH, _simple_assign

# operators whose kernels compute new arrays from their inputs and keep no reference to them
_READERS = FRESH | {"BatchNorm"}


def _link(statement, info):
    """(target, first operand's name) of `target = concat(name, piece, num_args=2[, dim=1])`."""
    target = _simple_assign(statement)
    call = statement.value if target is not None else None
    op = kernel_op(call, info)
    if op is None or op.name != "concat" or len(call.args) != 2 or \
            not isinstance(call.args[0], ast.Name) or \
            any(isinstance(a, ast.Starred) for a in call.args):
        return None
    try:
        attrs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except (ValueError, TypeError, SyntaxError):
        return None
    if attrs.get("num_args") != 2 or attrs.get("dim", 1) != 1 or set(attrs) - {"num_args", "dim"}:
        return None
    return target, call.args[0].id


def _read_only_by_kernels(function_def, info):
    """Names every load of which is a positional argument of a _READERS kernel, with the
    number of those loads; and the names stored more than once."""
    loads, by_kernels, stores = {}, {}, {}
    for node in nodes(function_def):
        if node.__class__ is ast.Name:
            table = loads if node.ctx.__class__ is ast.Load else stores
            table[node.id] = table.get(node.id, 0) + 1
        op = kernel_op(node, info)
        if op is not None and op.name in _READERS:
            for argument in node.args:
                if argument.__class__ is ast.Name:
                    by_kernels[argument.id] = by_kernels.get(argument.id, 0) + 1
    return loads, by_kernels, stores


def _chains(function_def, info):
    loads, by_kernels, stores = _read_only_by_kernels(function_def, info)

    def hidden(name):
        """Whether a link's result is read only by kernels, besides the next link."""
        return name not in info.arguments and stores.get(name) == 1 and \
            loads.get(name, 0) == by_kernels.get(name, 0) + 1

    chains, current = [], []
    for statement in function_def.body:
        link = _link(statement, info)
        if link is None:
            continue
        target, first = link
        if current and first == _simple_assign(current[-1]) and hidden(first):
            current.append(statement)
        else:
            current = [statement]
            chains.append(current)
    return [chain for chain in chains if len(chain) > 1]


def transform(function_def, info):
    chains = _chains(function_def, info)
    if not chains:
        return function_def
    helper = info.namer.fresh("concat_into")
    info.namespace[helper] = concat_into
    info.pure_calls.add(helper)
    for chain in chains:
        buffer = info.namer.fresh(f"{_simple_assign(chain[-1])}_buffer")
        for index, statement in enumerate(chain):
            call = statement.value
            carried = ast.Constant(None) if index == 0 else _name(buffer)
            statement.targets = [ast.Tuple([_name(_simple_assign(statement), True),
                                            _name(buffer, True)], ast.Store())]
            statement.value = ast.Call(_name(helper), call.args + [
                carried, ast.Constant(len(chain) - 1 - index)], [])
    return function_def
