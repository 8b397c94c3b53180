"""Rebindings in straight-line code: each later assignment of a variable binds a fresh name.

`x = relu(x); x = dense(x)` at the top level of a program becomes `x_1 = relu(x);
x_2 = dense(x_1)`, so that the reverse-mode pass finds each of them assigned once and keeps
no stack of the values they overwrite. A variable is renamed only where every assignment of
it is a top-level `name = ...` (plain or unpacking targets) and no nested scope or
comprehension mentions it: a branch or loop assigning it, or a closure reading it later, would
need the one name.
"""
import ast
import copy

_SCOPES = (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _target_names(target):
    """The names an assignment target binds (a subscript or attribute target binds none: it
    writes into a value)."""
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _target_names(
            element.value if isinstance(element, ast.Starred) else element)]
    return []


def _renamable(body):
    """The variables of `body` whose every binding is a top-level assignment's name target,
    mentioned in no nested scope or comprehension."""
    plain = {id(name): name.id for statement in body if isinstance(statement, ast.Assign)
             for target in statement.targets for name in _target_names(target)}
    excluded = set()
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, _SCOPES):
                excluded.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
                excluded.update(a.arg for a in ast.walk(node) if isinstance(a, ast.arg))
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) and \
                    id(node) not in plain:
                excluded.add(node.id)       # bound by a loop, `+=`, `with`, or deleted
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                excluded.update(node.names)
            elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and \
                    node.name:
                excluded.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                excluded.add(node.rest)
    return set(plain.values()) - excluded


def _renamed(node, reads, writes=None):
    """`node` with the names it reads renamed by `reads` and those it binds by `writes`: a
    new node along each changed path, the rest shared (the tree given may be another
    program's too)."""
    if isinstance(node, ast.Name):
        table = reads if isinstance(node.ctx, ast.Load) else writes or {}
        if node.id not in table:
            return node
        return ast.copy_location(ast.Name(table[node.id], node.ctx), node)
    changes = {}
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            items = [_renamed(v, reads, writes) if isinstance(v, ast.AST) else v for v in value]
            if any(a is not b for a, b in zip(items, value)):
                changes[field] = items
        elif isinstance(value, ast.AST):
            item = _renamed(value, reads, writes)
            if item is not value:
                changes[field] = item
    if not changes:
        return node
    result = copy.copy(node)       # keeps its location and its origin annotation
    for field, value in changes.items():
        setattr(result, field, value)
    return result


def transform(function_def, namer):
    """A copy of `function_def` with its rebindings renamed (see the module docstring)."""
    renamable = _renamable(function_def.body)
    if not renamable:
        return function_def
    bound = {a.arg for a in function_def.args.args}
    current, body = {}, []
    for statement in function_def.body:
        writes = {}
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                for name in _target_names(target):
                    if name.id not in renamable:
                        continue
                    if name.id in bound:
                        writes[name.id] = namer.fresh(name.id)
                    bound.add(name.id)
        body.append(_renamed(statement, current, writes))
        current.update(writes)
    result = copy.copy(function_def)
    result.body = body
    return result
