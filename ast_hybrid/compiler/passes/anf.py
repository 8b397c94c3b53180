"""A-normal form: every differentiable operation of a program in its own assignment.

`y = relu(dot(x, w) + b)` becomes `t = dot(x, w); t_1 = t + b; y = relu(t_1)`, and tuple
targets are unpacked one element at a time, so the reverse-mode pass sees one primitive per
statement. Conditions, loop iterables and printed values are left as they are: no gradient
flows through them.
"""
import ast
import copy

from ..origins import spread

_DIFFERENTIABLE = (ast.Call, ast.BinOp, ast.UnaryOp, ast.Subscript, ast.Tuple, ast.List)


class _Normalizer:
    def __init__(self, namer):
        self.namer = namer

    def atom(self, node, out):
        """`node` as a name or constant, hoisting it into a temporary if it computes."""
        if isinstance(node, (ast.Name, ast.Constant)):
            return node
        if isinstance(node, _DIFFERENTIABLE):
            value = self.flatten(node, out)
            name = self.namer.fresh("t")
            out.append(ast.Assign([ast.Name(name, ast.Store())], value))
            return ast.Name(name, ast.Load())
        return node

    def flatten(self, node, out):
        """`node` with each differentiable operand made atomic (the node itself stays)."""
        node = copy.copy(node)
        if isinstance(node, ast.Call):
            node.args = [self.atom(a, out) for a in node.args]
            node.keywords = [ast.keyword(k.arg, k.value) for k in node.keywords]
            if isinstance(node.func, ast.Attribute):
                func = copy.copy(node.func)
                func.value = self.atom(func.value, out)
                node.func = func
        elif isinstance(node, ast.BinOp):
            node.left, node.right = self.atom(node.left, out), self.atom(node.right, out)
        elif isinstance(node, ast.UnaryOp):
            node.operand = self.atom(node.operand, out)
        elif isinstance(node, ast.Subscript):
            node.value = self.atom(node.value, out)
        elif isinstance(node, (ast.Tuple, ast.List)):
            node.elts = [self.atom(e, out) for e in node.elts]
        return node

    def statements(self, body):
        out = []
        for statement in body:
            made = len(out)
            self.statement(statement, out)
            spread(statement, out[made:])
        return out

    def statement(self, statement, out):
        """Append the statements `statement` becomes to `out`."""
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            value = self.flatten(statement.value, out)
            if isinstance(target, (ast.Tuple, ast.List)):
                holder = self.namer.fresh("unpacked")
                out.append(ast.Assign([ast.Name(holder, ast.Store())], value))
                for i, element in enumerate(target.elts):
                    out.append(ast.Assign([element], ast.Subscript(
                        ast.Name(holder, ast.Load()), ast.Constant(i), ast.Load())))
            else:
                out.append(ast.Assign([target], value))
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            # `items.append(f(x))`: the grown item gets a name, so its gradient has one
            out.append(ast.Expr(self.flatten(statement.value, out)))
        elif isinstance(statement, ast.Return) and statement.value is not None:
            out.append(ast.Return(self.flatten(statement.value, out)))
        elif isinstance(statement, ast.If):
            out.append(ast.If(statement.test, self.statements(statement.body),
                              self.statements(statement.orelse)))
        elif isinstance(statement, ast.While):
            out.append(ast.While(statement.test, self.statements(statement.body),
                                 self.statements(statement.orelse)))
        elif isinstance(statement, ast.For):
            body = list(statement.body)
            target = statement.target
            if not isinstance(target, ast.Name):
                holder = self.namer.fresh("item")
                body.insert(0, ast.Assign([target], ast.Name(holder, ast.Load())))
                target = ast.Name(holder, ast.Store())
            out.append(ast.For(target, statement.iter, self.statements(body),
                               self.statements(statement.orelse)))
        else:
            out.append(statement)


def transform(function, namer):
    """A copy of the program function in A-normal form."""
    result = copy.copy(function)
    result.body = _Normalizer(namer).statements(function.body)
    return result
