"""Where each statement of a generated program came from: an annotation on the statement node.

An origin is a chain of (file, line) pairs: the calls that inlined the code at hand, the
outermost first, and last the line itself. The specializer annotates every statement it
emits; a pass that makes statements out of another gives them its origin (`spread`), and a
statement without an annotation belongs to the one before it in its block, as a line of code
belongs to the comment above it. The source writer (backend.render) turns changes of origin
into comments and keeps the map from generated lines to chains.
"""

_ANNOTATION = "ast_hybrid_origin"


def chain(filename, lineno, call_sites=()):
    """The origin of a line `lineno` of `filename` inlined by `call_sites` (outermost first)."""
    return tuple(call_sites) + ((str(filename), int(lineno)),)


def set_origin(statement, origin):
    """`statement`, annotated with `origin` (a chain, or None for none)."""
    if origin is None:
        if hasattr(statement, _ANNOTATION):
            delattr(statement, _ANNOTATION)
    else:
        setattr(statement, _ANNOTATION, origin)
    return statement


def origin_of(statement):
    """The chain `statement` is annotated with, or None."""
    return getattr(statement, _ANNOTATION, None)


def line_of(statement):
    """The innermost (file, line) of `statement`'s origin, or None."""
    origin = origin_of(statement)
    return origin[-1] if origin else None


def spread(source, statements):
    """`statements` (made from `source`), each without an origin of its own given `source`'s."""
    return with_origin(origin_of(source), statements)


def with_origin(origin, statements):
    """`statements`, each without an origin of its own given `origin` (None: left as they are)."""
    if origin is not None:
        for statement in statements:
            if not hasattr(statement, _ANNOTATION):
                setattr(statement, _ANNOTATION, origin)
    return statements


def copy_origin(source, statement):
    """`statement`, annotated as `source` is (a statement written in place of `source`)."""
    return set_origin(statement, origin_of(source))


def last_line(statements):
    """The innermost (file, line) of the last statement of `statements` with an origin."""
    for statement in reversed(statements):
        line = line_of(statement)
        if line is not None:
            return line
    return None
