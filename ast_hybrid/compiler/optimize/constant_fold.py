"""Constant folding: arithmetic, comparisons and logic on number literals become literals."""
import ast
import math

from .. import toolkit
from .analysis import nodes

# what a literal may fold through: not @ (numbers have no matrix product), not `is` or `in`
_BINARY = {op: function for op, function in toolkit.BINARY.items() if op is not ast.MatMult}
_NUMBER = (bool, int, float)
_MAX_BITS = 256          # bigger integers stay as written (no huge literals in the source)


def _number(node):
    return (isinstance(node, ast.Constant) and type(node.value) in _NUMBER)


def _literal(value):
    if type(value) not in _NUMBER:
        return None
    if isinstance(value, int) and value.bit_length() > _MAX_BITS:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None          # inf and nan have no literal
    if isinstance(value, (int, float)) and value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def _value(node):
    """The number a folded node stands for (a literal or -literal), or raise ValueError."""
    if _number(node):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _number(node.operand)
            and not isinstance(node.operand.value, bool)):
        return -node.operand.value
    raise ValueError


class _Folder(ast.NodeTransformer):
    def _fold(self, node, compute):
        try:
            value = compute()
        except (ValueError, ArithmeticError, TypeError):
            return node
        replacement = _literal(value)
        return ast.copy_location(replacement, node) if replacement is not None else node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            def compute():
                base, exponent = _value(node.left), _value(node.right)
                if abs(exponent) > 64 or (isinstance(base, int) and abs(base) > 2 ** 32):
                    raise ValueError
                return base ** exponent
            return self._fold(node, compute)
        if isinstance(node.op, ast.LShift):
            def compute():
                if _value(node.right) > 64:
                    raise ValueError
                return _value(node.left) << _value(node.right)
            return self._fold(node, compute)
        function = _BINARY.get(type(node.op))
        if function is None:
            return node
        return self._fold(node, lambda: function(_value(node.left), _value(node.right)))

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        function = toolkit.UNARY.get(type(node.op))
        if isinstance(node.op, ast.USub) and _number(node.operand) and \
                not isinstance(node.operand.value, bool):
            return node                                  # -literal is already folded
        return self._fold(node, lambda: function(_value(node.operand)))

    def visit_Compare(self, node):
        self.generic_visit(node)

        def compute():
            left = _value(node.left)
            for op, right in zip(node.ops, node.comparators):
                function = toolkit.ORDERING.get(type(op))
                if function is None:
                    raise ValueError
                right = _value(right)
                if not function(left, right):
                    return False
                left = right
            return True
        return self._fold(node, compute)


def _foldable(tree):
    """Whether some operator in `tree` has a number literal as an operand: where none has,
    nothing folds (folding starts at such an operator), and the walk is all the cost."""
    for node in nodes(tree):
        cls = node.__class__
        if cls is ast.BinOp and (_number(node.left) or _number(node.right)) or \
                cls is ast.UnaryOp and _number(node.operand) or \
                cls is ast.Compare and any(map(_number, [node.left] + node.comparators)):
            return True
    return False


def transform(function_def, info):
    if not _foldable(function_def):
        return function_def
    return _Folder().visit(function_def)
