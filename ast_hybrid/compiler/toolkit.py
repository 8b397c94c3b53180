"""The AST toolkit the passes share: node builders, name sets, operator tables and templates."""
import ast
import copy
import operator

# Python's operators as functions, for evaluating at compile time what the user's code computes
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
          ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.BitAnd: operator.and_,
          ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift,
          ast.RShift: operator.rshift}
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_,
         ast.Invert: operator.invert}
ORDERING = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
COMPARE = {**ORDERING, ast.Is: operator.is_, ast.IsNot: operator.is_not,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


def name(identifier, store=False):
    return ast.Name(identifier, ast.Store() if store else ast.Load())


def assign(target, value):
    """`target = value`; a string target is a name."""
    return ast.Assign([name(target, True) if isinstance(target, str) else target], value)


def call(function, *args):
    """`function(*args)`; a string function is a name."""
    return ast.Call(function if isinstance(function, ast.expr) else name(function),
                    list(args), [])


def assigned_names(statements):
    """The names `statements` assign to, each once, in ast.walk's order."""
    names = []
    for node in ast.walk(ast.Module(list(statements), [])):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) \
                and node.id not in names:
            names.append(node.id)
    return names


def replace(template, **replacements):
    """The statements of the source `template`, each of its names that is a keyword here
    replaced: by a name (a string), a copy of an expression node, or statements (a list,
    inserted as they are, where the name stands alone as a statement)."""
    module = ast.parse(template)
    for node in ast.walk(module):       # the template's own lines are no origin of the user's
        for attribute in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if hasattr(node, attribute):
                delattr(node, attribute)
    return _Replacer(replacements).visit_statements(module.body)


class _Replacer(ast.NodeTransformer):
    def __init__(self, replacements):
        self.replacements = replacements

    def visit_statements(self, statements):
        result = []
        for statement in statements:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Name) and \
                    isinstance(self.replacements.get(statement.value.id), list):
                result.extend(self.replacements[statement.value.id])
            else:
                result.append(self.visit(statement))
        return result

    def generic_visit(self, node):
        for field, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                setattr(node, field, self.visit_statements(value))
            elif isinstance(value, list):
                setattr(node, field, [self.visit(item) if isinstance(item, ast.AST) else item
                                      for item in value])
            elif isinstance(value, ast.AST):
                setattr(node, field, self.visit(value))
        return node

    def visit_Name(self, node):
        replacement = self.replacements.get(node.id)
        if replacement is None:
            return node
        if isinstance(replacement, str):
            return ast.Name(replacement, node.ctx)
        if isinstance(replacement, ast.expr):
            replacement = copy.deepcopy(replacement)
            if hasattr(replacement, "ctx"):
                replacement.ctx = node.ctx
            return replacement
        raise TypeError(f"replace: {node.id} stands for statements where an expression is")


def fix_missing_locations(node):
    """ast.fix_missing_locations (each node without a position takes its parent's), walking
    with a stack rather than a generator per node: a large program's first call pays for it."""
    stack = [(node, 1, 0, 1, 0)]
    while stack:
        current, lineno, col_offset, end_lineno, end_col_offset = stack.pop()
        attributes = current._attributes
        if "lineno" in attributes:
            if not hasattr(current, "lineno"):
                current.lineno = lineno
            else:
                lineno = current.lineno
        if "end_lineno" in attributes:
            if getattr(current, "end_lineno", None) is None:
                current.end_lineno = end_lineno
            else:
                end_lineno = current.end_lineno
        if "col_offset" in attributes:
            if not hasattr(current, "col_offset"):
                current.col_offset = col_offset
            else:
                col_offset = current.col_offset
        if "end_col_offset" in attributes:
            if getattr(current, "end_col_offset", None) is None:
                current.end_col_offset = end_col_offset
            else:
                end_col_offset = current.end_col_offset
        position = (lineno, col_offset, end_lineno, end_col_offset)
        for name in current._fields:
            value = getattr(current, name, None)
            if isinstance(value, ast.AST):
                stack.append((value,) + position)
            elif value.__class__ is list:
                stack.extend((item,) + position for item in value if isinstance(item, ast.AST))
    return node
