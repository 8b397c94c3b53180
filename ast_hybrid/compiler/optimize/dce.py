"""Dead-code removal: assignments of pure expressions to names no path reads again."""
import ast

from .analysis import Liveness, is_marker, is_pure, prune_markers


def _sweep(statements, liveness, info, removed):
    kept = []
    for statement in statements:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                isinstance(statement.targets[0], ast.Name) and \
                statement.targets[0].id not in liveness.after[id(statement)] and \
                is_pure(statement.value, info):
            removed.append(statement)
            continue
        if isinstance(statement, ast.Expr) and not is_marker(statement) and \
                is_pure(statement.value, info):
            removed.append(statement)
            continue
        for name in ("body", "orelse"):
            inner = getattr(statement, name, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                swept = _sweep(inner, liveness, info, removed)
                setattr(statement, name, swept or ([ast.Pass()] if name == "body" else []))
        kept.append(statement)
    return prune_markers(kept)


def transform(function_def, info):
    """Repeated until nothing more goes, since a removal can make its inputs dead."""
    while True:
        removed = []
        liveness = Liveness(function_def.body)
        function_def.body = _sweep(function_def.body, liveness, info, removed) or [ast.Pass()]
        if not removed:
            return function_def
