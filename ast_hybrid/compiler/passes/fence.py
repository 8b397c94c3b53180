"""Pass 2: reject constructs the compiler does not handle, naming the first one and its line."""
import ast

from .errors import UnsupportedConstruct

_REJECTED = {
    ast.AsyncFunctionDef: "async functions", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield from", ast.Global: "a global statement",
    ast.Nonlocal: "a nonlocal statement", ast.ClassDef: "a class definition",
    ast.AsyncWith: "async with",
    ast.AsyncFor: "async for",
    ast.Delete: "del", ast.NamedExpr: "an assignment expression (:=)",
    ast.Match: "a match statement",
}
if hasattr(ast, "TryStar"):
    _REJECTED[ast.TryStar] = "try/except*"


def transform(parsed):
    """`parsed` unchanged, or UnsupportedConstruct for its first construct not handled."""
    for node in ast.walk(parsed.node):
        if node is parsed.node:
            continue
        construct = _REJECTED.get(type(node))
        if construct is not None:
            raise UnsupportedConstruct(construct, parsed.filename, getattr(node, "lineno", 0))
    arguments = parsed.node.args
    if arguments.posonlyargs or arguments.kwonlyargs:
        raise UnsupportedConstruct("positional-only or keyword-only parameters",
                                   parsed.filename, parsed.node.lineno)
    return parsed
