"""Common-subexpression elimination: a pure expression computed again on unchanged names reuses
the first result, within each straight-line run of statements."""
import ast

from .. import runtime
from ..origins import copy_origin
from .analysis import nodes, is_pure, key as structural_key, names_read


def _mutates_in_place(function_def, info):
    """Whether the program changes arrays in place (x[i] = v, x += v, out=): then two names
    for one array could differ in what they see, so nothing is merged."""
    for node in nodes(function_def):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and any(
                info.namespace.get(node.func.id) is m for m in runtime.MUTATORS):
            return True
        if isinstance(node, ast.AugAssign):
            return True
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, ast.keyword) and node.arg == "out":
            return True
    return False


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.mapping:
            return ast.copy_location(ast.Name(self.mapping[node.id], ast.Load()), node)
        return node


def _worth_merging(expr):
    return not isinstance(expr, (ast.Name, ast.Constant))


def _run(statements, info):
    available = {}          # key of expression -> name holding its value
    dependents = {}         # name -> keys of available expressions that read or hold it
    renamed = {}            # name -> the earlier name with the same value (copy propagation)
    aliases = {}            # earlier name -> names renamed to it

    def invalidate(name):
        for key in dependents.pop(name, ()):
            available.pop(key, None)
        renamed.pop(name, None)
        for alias in aliases.pop(name, ()):
            renamed.pop(alias, None)

    def clear():
        for table in (available, dependents, renamed, aliases):
            table.clear()

    out = []
    for statement in statements:
        compound = any(isinstance(getattr(statement, name, None), list)
                       for name in ("body", "orelse"))
        if renamed and not compound:    # a loop may reassign either name: not inside one
            statement = _Renamer(dict(renamed)).visit(statement)
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                isinstance(statement.targets[0], ast.Name) and is_pure(statement.value, info):
            target = statement.targets[0].id
            key = structural_key(statement.value) if _worth_merging(statement.value) else None
            earlier = available.get(key) if key is not None else None
            invalidate(target)
            if earlier is not None and earlier != target:
                renamed[target] = earlier
                aliases.setdefault(earlier, set()).add(target)
                statement = copy_origin(statement, ast.copy_location(
                    ast.Assign([ast.Name(target, ast.Store())], ast.Name(earlier, ast.Load())),
                    statement))
            elif key is not None:
                reads = names_read(statement.value)
                if target not in reads:
                    available[key] = target
                    for name in reads | {target}:
                        dependents.setdefault(name, set()).add(key)
            out.append(statement)
            continue
        # anything else ends the run: compound statements get runs of their own inside
        for name in ("body", "orelse"):
            inner = getattr(statement, name, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                setattr(statement, name, _run(inner, info))
        clear()
        out.append(statement)
    return out


def transform(function_def, info):
    if _mutates_in_place(function_def, info):
        return function_def
    function_def.body = _run(function_def.body, info)
    return function_def
