"""Dead-code removal: assignments to names no path reads again of values whose evaluation can
neither have an effect nor raise (a dead kernel call still runs: imperative mode would raise its
shape error there)."""
import ast

from .analysis import Liveness, cannot_raise


def _sweep(statements, liveness, info, removed):
    kept = []
    for statement in statements:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                isinstance(statement.targets[0], ast.Name) and \
                statement.targets[0].id not in liveness.after[id(statement)] and \
                cannot_raise(statement.value):
            removed.append(statement)
            continue
        if isinstance(statement, ast.Expr) and cannot_raise(statement.value):
            removed.append(statement)
            continue
        for name in ("body", "orelse"):
            inner = getattr(statement, name, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                swept = _sweep(inner, liveness, info, removed)
                setattr(statement, name, swept or ([ast.Pass()] if name == "body" else []))
        kept.append(statement)
    return kept


def transform(function_def, info):
    """Repeated until nothing more goes, since a removal can make its inputs dead."""
    while True:
        removed = []
        liveness = Liveness(function_def.body)
        function_def.body = _sweep(function_def.body, liveness, info, removed) or [ast.Pass()]
        if not removed:
            return function_def
