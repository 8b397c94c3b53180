"""Analyses the optimization passes share: names read, purity, liveness over structured code."""
import ast

STRAIGHT = (ast.Assign, ast.Expr, ast.AugAssign, ast.Pass, ast.Assert, ast.Raise)


def nodes(node):
    """Every AST node under `node` (as ast.walk, in another order, at a fraction of its cost)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for name in current._fields:
            value = getattr(current, name, None)
            if isinstance(value, ast.AST):
                stack.append(value)
            elif value.__class__ is list:
                stack.extend(item for item in value if isinstance(item, ast.AST))


def names_read(node):
    return _names(node, stored=False)


def key(node):
    """A hashable structural key of an expression (as ast.dump, without its cost)."""
    if isinstance(node, ast.AST):
        return (node.__class__,) + tuple(key(getattr(node, f, None)) for f in node._fields)
    if isinstance(node, list):
        return tuple(key(item) for item in node)
    return (type(node), node)


def names_stored(node):
    return _names(node, stored=True)


def _names(node, stored):
    """The names under `node` that are stored (or deleted), or else those read: the passes
    ask this of every statement, so it walks without a generator and skips each name's
    context node."""
    found = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.__class__ is ast.Name:
            if (current.ctx.__class__ is not ast.Load) is stored:
                found.add(current.id)
            continue
        for field in current._fields:
            value = getattr(current, field, None)
            if isinstance(value, ast.AST):
                stack.append(value)
            elif value.__class__ is list:
                stack.extend([item for item in value if isinstance(item, ast.AST)])
    return found


def kernel_op(node, info):
    """The operator of a kernel call `K(...)`, or None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return info.kernel_ops.get(node.func.id)
    return None


def is_random_or_stateful(op):
    name = op.name.lower()
    return op.mode_dependent or bool(op.aux) or "random" in name or "sample" in name \
        or "shuffle" in name


_PURE_NODES = (ast.Name, ast.Constant, ast.Tuple, ast.List, ast.BinOp, ast.UnaryOp,
               ast.Compare, ast.BoolOp, ast.IfExp, ast.Subscript, ast.Slice, ast.Attribute,
               ast.keyword, ast.Load, ast.operator, ast.unaryop, ast.cmpop, ast.boolop,
               ast.expr_context)


def is_pure(expr, info):
    """No effect but its value: names, literals, arithmetic, indexing, attributes and calls of
    kernels that are neither random nor mode-dependent (calls of anything else may have
    effects). Evaluating a pure expression may still raise (a shape mismatch)."""
    for node in nodes(expr):
        if isinstance(node, ast.Call):
            op = kernel_op(node, info)
            if op is None or is_random_or_stateful(op) or any(
                    k.arg == "out" for k in node.keywords):
                return False
        elif isinstance(node, ast.Attribute):
            if not isinstance(node.ctx, ast.Load):
                return False
        elif not isinstance(node, _PURE_NODES):
            return False
    return True


def cannot_raise(expr):
    """Evaluating `expr` has no effect and cannot raise: names bound on every path to it,
    literals, and tuples or lists of those."""
    return all(isinstance(node, (ast.Name, ast.Constant, ast.Tuple, ast.List, ast.Load))
               for node in nodes(expr))


class Liveness:
    """Names live after each statement (by id), over if/for/while with break and continue;
    loops are iterated to a fixed point. Conservative: a name is live if some path may read it
    before it is assigned again."""

    def __init__(self, body):
        self.after = {}
        self._reads = {}
        # only names something assigns can be dead (the parameters, never assigned, are not
        # tracked: that keeps the sets small in programs with hundreds of them)
        self.assigned = set().union(*(names_stored(s) for s in body)) if body else set()
        self.block(body, set(), None)

    def reads(self, node):
        found = self._reads.get(id(node))
        if found is None:
            found = self._reads[id(node)] = names_read(node) & self.assigned
        return found

    def block(self, statements, live, loop):
        live = set(live)
        for statement in reversed(statements):
            self.after[id(statement)] = set(live)
            live = self.statement(statement, live, loop)
        return live

    def statement(self, s, live, loop):
        if isinstance(s, ast.Assign):
            simple = [t for t in s.targets if isinstance(t, ast.Name)]
            kept = live - {t.id for t in simple}
            for target in s.targets:
                if not isinstance(target, ast.Name):
                    kept -= {n for n in names_stored(target)}
                    kept |= self.reads(target)
            return kept | self.reads(s.value)
        if isinstance(s, ast.Return):
            return self.reads(s) if s.value is not None else set()
        if isinstance(s, ast.Raise):
            return self.reads(s)
        if isinstance(s, ast.Break):
            return set(loop[0]) if loop else set(live)
        if isinstance(s, ast.Continue):
            return set(loop[1]) if loop else set(live)
        if isinstance(s, ast.If):
            return (self.block(s.body, live, loop) | self.block(s.orelse, live, loop)
                    | self.reads(s.test))
        if isinstance(s, (ast.For, ast.While)):
            head = self.reads(s.iter) if isinstance(s, ast.For) else self.reads(s.test)
            after_loop = self.block(s.orelse, live, loop) | set(live)
            entry = set(after_loop) | head
            while True:
                body_in = self.block(s.body, entry, (live, entry))
                if isinstance(s, ast.For):
                    body_in = (body_in - names_stored(s.target)) | self.reads(s.target)
                new = entry | body_in
                if new == entry:
                    return entry
                entry = new
        # anything else: reads all it mentions, kills nothing
        return live | self.reads(s)


def blocks(function_def):
    """Every statement list of the function (its body and those nested in compound statements)."""
    pending = [function_def.body]
    while pending:
        body = pending.pop()
        yield body
        for statement in body:
            for name in ("body", "orelse"):
                inner = getattr(statement, name, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    pending.append(inner)
