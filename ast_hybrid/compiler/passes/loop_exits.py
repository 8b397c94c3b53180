"""Loop exits as flags: `break`, `continue` and `return` inside loops become assignments to
flags that guard the statements after them, so that a loop unrolled at compile time (or
differentiated) exits where the data says, as Python's loop does.

    for t in items:                 broke = False
        a                           for item in items:
        if c:                           if not broke:
            return v        ->              t = item
        b                                   a
    rest                                    if c:
                                                result, returned, broke = v, True, True
                                            if not broke:
                                                b
                                    if returned:
                                        return result
                                    rest

The flags' names contain a dot, so they never meet a name of the user's; a flag known while
compiling folds away, leaving the loop as written. `inline.transform` then moves the
`return` after the loop to the tail of its paths.
"""
import ast
import copy

from ..toolkit import name as _name

RESULT = "loop.result"
RETURNED = "loop.returned"


class _Flags:
    """The names one loop's exits set: its own break and continue flags."""

    def __init__(self, depth):
        self.broke = f"loop{depth}.broke"
        self.skipped = f"loop{depth}.continued"


def transform(function_node):
    """A copy of `function_node` whose loops that exit early (break, continue, return) use
    flags instead; other loops are left as they are."""
    node = copy.deepcopy(function_node)
    node.body = _Rewriter().statements(node.body)
    return node


def _exits(statements):
    """Whether break, continue or return occur in statements of this loop's body (not in a
    nested loop's own break/continue, nor in a nested function)."""
    for statement in statements:
        if isinstance(statement, (ast.Break, ast.Continue, ast.Return)):
            return True
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(statement, (ast.For, ast.While)):
            if _returns(statement.body + statement.orelse):
                return True
            continue
        children = [c for c in ast.iter_child_nodes(statement) if isinstance(c, ast.stmt)]
        if _exits(children):
            return True
    return False


def _returns(statements):
    for statement in statements:
        for node in _walk_statements(statement):
            if isinstance(node, ast.Return):
                return True
    return False


def _walk_statements(statement):
    yield statement
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return
    for child in ast.iter_child_nodes(statement):
        if isinstance(child, ast.stmt):
            yield from _walk_statements(child)
        elif isinstance(child, ast.excepthandler):
            for inner in child.body:
                yield from _walk_statements(inner)


def _set(names, value):
    return ast.Assign([ast.Tuple([_name(n, True) for n in names], ast.Store())],
                      ast.Tuple([value] * len(names), ast.Load())) if len(names) > 1 \
        else ast.Assign([_name(names[0], True)], value)


def _not_any(names):
    test = _name(names[0]) if len(names) == 1 else ast.BoolOp(ast.Or(), [_name(n) for n in names])
    return ast.UnaryOp(ast.Not(), test)


class _Rewriter:
    def __init__(self):
        self.loops = []         # the flags of the loops being rewritten, innermost last
        self.depth = 0

    def statements(self, statements):
        """Rewrite statements; in a loop body, the statements after one that may exit run
        only if it did not."""
        out = []
        for index, statement in enumerate(statements):
            rewritten, may_exit = self.statement(statement)
            out.extend(rewritten)
            if rewritten and isinstance(rewritten[-1], _Exit):
                out[-1] = rewritten[-1].assignment
                return out          # the rest of this block never runs
            rest = statements[index + 1:]
            if may_exit and rest:
                guard = self.guard_names()
                out.append(ast.If(_not_any(guard), self.statements(rest), []))
                return out
        return out

    def guard_names(self):
        """The flags that, once set, skip the rest of the current block."""
        if not self.loops:
            return [RETURNED]
        flags = self.loops[-1]
        return [flags.broke, flags.skipped]

    def statement(self, statement):
        """([statements], whether they may exit the current loop or function early)."""
        if isinstance(statement, (ast.For, ast.While)):
            return self.loop(statement)
        if not self.loops:
            if isinstance(statement, ast.If):
                copied = copy.copy(statement)
                copied.body = self.statements(statement.body)
                copied.orelse = self.statements(statement.orelse)
                return [copied], False
            return [statement], False
        flags = self.loops[-1]
        if isinstance(statement, ast.Break):
            return [_Exit(_located(_set([flags.broke], ast.Constant(True)), statement))], True
        if isinstance(statement, ast.Continue):
            return [_Exit(_located(_set([flags.skipped], ast.Constant(True)), statement))], True
        if isinstance(statement, ast.Return):
            value = statement.value if statement.value is not None else ast.Constant(None)
            every = [loop.broke for loop in self.loops]
            assignment = ast.Assign(
                [ast.Tuple([_name(RESULT, True), _name(RETURNED, True)]
                           + [_name(n, True) for n in every], ast.Store())],
                ast.Tuple([value, ast.Constant(True)] + [ast.Constant(True)] * len(every),
                          ast.Load()))
            return [_Exit(_located(assignment, statement))], True
        if isinstance(statement, ast.If):
            copied = copy.copy(statement)
            copied.body = self.statements(statement.body)
            copied.orelse = self.statements(statement.orelse)
            return [copied], _exits([statement])
        return [statement], False

    def loop(self, loop):
        if not _exits(loop.body):
            copied = copy.copy(loop)
            copied.body = self.statements_outside_loops(loop.body)
            copied.orelse = self.statements(loop.orelse)
            # an else clause's exits are the enclosing loop's
            return [copied], bool(self.loops) and _exits(loop.orelse)
        self.depth += 1
        flags = _Flags(self.depth)
        returns = _returns(loop.body)
        self.loops.append(flags)
        try:
            body = [_located(_set([flags.skipped], ast.Constant(False)), loop)]
            body += self.statements(loop.body)
        finally:
            self.loops.pop()
        out = [_located(_set([flags.broke], ast.Constant(False)), loop)]
        if returns and not self.loops:
            # the result stays unbound until a return sets it (a placeholder value would
            # be one more value the output might be, for the gradient's analysis)
            out.insert(0, _located(_set([RETURNED], ast.Constant(False)), loop))
        if isinstance(loop, ast.For):
            item = f"loop{self.depth}.item"
            bind = _located(ast.Assign([loop.target], _name(item)), loop)
            guarded = ast.If(ast.UnaryOp(ast.Not(), _name(flags.broke)), [bind] + body, [])
            out.append(_located(ast.For(_name(item, True), loop.iter, [_located(guarded, loop)],
                                        [], None), loop))
        else:
            # the test is evaluated again only while the loop has not been left, as Python's
            going = f"loop{self.depth}.going"
            again = ast.BoolOp(ast.And(), [ast.UnaryOp(ast.Not(), _name(flags.broke)),
                                           copy.deepcopy(loop.test)])
            out.append(_located(_set([going], loop.test), loop))
            out.append(_located(ast.While(_name(going), body + [
                _located(_set([going], again), loop)], []), loop))
        if loop.orelse:
            out.append(_located(ast.If(ast.UnaryOp(ast.Not(), _name(flags.broke)),
                                       self.statements(loop.orelse), []), loop))
        else_exits = bool(self.loops) and _exits(loop.orelse)
        if returns:
            if self.loops:
                return out, True         # the enclosing loop's flags were set too
            out.append(_located(ast.If(_name(RETURNED), [
                _located(ast.Return(_name(RESULT)), loop)], []), loop))
        return out, else_exits

    def statements_outside_loops(self, statements):
        """A loop body without exits of its own: nested loops inside it are still rewritten."""
        saved, self.loops = self.loops, []
        try:
            return self.statements(statements)
        finally:
            self.loops = saved


class _Exit:
    """An exit's flag assignment, marking the end of the block that contains it."""

    def __init__(self, assignment):
        self.assignment = assignment


def _located(node, origin):
    ast.copy_location(node, origin)
    return ast.fix_missing_locations(node)
