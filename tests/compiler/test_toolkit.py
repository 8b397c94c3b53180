"""The shared AST toolkit: builders, assigned names, operator tables and templates."""
import ast
import operator

import pytest

from ast_hybrid.compiler import toolkit


def _text(statements):
    return ast.unparse(ast.fix_missing_locations(ast.Module(statements, [])))


def test_builders_make_the_nodes_they_name():
    assert _text([toolkit.assign("y", toolkit.call("f", toolkit.name("x")))]) == "y = f(x)"
    target = ast.Tuple([toolkit.name("a", True), toolkit.name("b", True)], ast.Store())
    assert _text([toolkit.assign(target, toolkit.name("pair"))]) == "a, b = pair"


def test_assigned_names_are_each_once_in_walk_order():
    statements = ast.parse("a = 1\nfor b in c:\n    a = b\n    d, e = b, a").body
    assert toolkit.assigned_names(statements) == ["a", "b", "d", "e"]


def test_replace_puts_names_expressions_and_statements_in_place():
    body = toolkit.replace("""
if gradient is not None:
    contributions
target = kernel(value)
""", gradient="g_1", kernel=toolkit.name("relu"), value=ast.Constant(2), target="y",
        contributions=[toolkit.assign("x", toolkit.name("g_1"))])
    assert _text(body) == "if g_1 is not None:\n    x = g_1\ny = relu(2)"


def test_replace_keeps_no_line_of_the_template():
    statement, = toolkit.replace("\n\n\ntarget = 1", target="y")
    assert not hasattr(statement, "lineno") and not hasattr(statement.targets[0], "lineno")


def test_replace_refuses_statements_where_an_expression_is():
    with pytest.raises(TypeError, match="stands for statements"):
        toolkit.replace("y = body", body=[ast.Pass()])


def test_operator_tables_are_pythons_operators():
    assert toolkit.BINARY[ast.MatMult] is operator.matmul
    assert toolkit.COMPARE[ast.NotIn](1, [2]) and set(toolkit.ORDERING) < set(toolkit.COMPARE)
    assert toolkit.UNARY[ast.Invert](0) == -1


def test_missing_locations_are_fixed_as_the_ast_module_fixes_them():
    source = ("def f(x, flag):\n    y = relu(x)\n    if flag:\n        y = [tanh(v) for v in y]\n"
              "    return y\n")
    ours, theirs = ast.parse(source), ast.parse(source)
    for tree in (ours, theirs):
        body = tree.body[0].body
        # statements a pass made: no positions, some children with theirs
        body.insert(1, ast.Assign([ast.Name("z", ast.Store())],
                                  ast.Call(ast.Name("exp", ast.Load()), [body[0].value], [])))
        body[2].body.append(ast.Expr(ast.Call(ast.Name("emit", ast.Load()), [], [])))
    toolkit.fix_missing_locations(ours)
    ast.fix_missing_locations(theirs)
    positions = ("lineno", "col_offset", "end_lineno", "end_col_offset")
    assert [[getattr(n, a, None) for a in positions] for n in ast.walk(ours)] == \
        [[getattr(n, a, None) for a in positions] for n in ast.walk(theirs)]
    assert ast.dump(ours, include_attributes=True) == ast.dump(theirs, include_attributes=True)
