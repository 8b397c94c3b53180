"""Origins as statement annotations: how passes carry them and how the writer shows them."""
import ast
import os

from ast_hybrid.compiler import backend
from ast_hybrid.compiler.optimize import clone
from ast_hybrid.compiler.origins import (chain, copy_origin, last_line, line_of, origin_of,
                                         set_origin, spread)

USER = os.path.join(os.getcwd(), "net.py")
LIBRARY = os.path.join(os.path.dirname(backend.__file__), "..", "gluon", "nn", "layers.py")


def _statement(text, origin=None):
    statement = ast.parse(text).body[0]
    return set_origin(statement, origin) if origin is not None else statement


def _function(body):
    return ast.Module([ast.FunctionDef("f", ast.arguments([], [], None, [], [], None, []),
                                       body, [], None)], [])


def test_an_origin_is_the_chain_of_call_sites_then_the_line():
    origin = chain("b.py", 7, [("a.py", 3)])
    statement = _statement("x = 1", origin)
    assert origin_of(statement) == (("a.py", 3), ("b.py", 7))
    assert line_of(statement) == ("b.py", 7)
    assert origin_of(set_origin(statement, None)) is None
    assert line_of(_statement("y = 2")) is None


def test_statements_made_from_another_take_its_origin_unless_they_have_one():
    source = _statement("x = f(g(y))", chain("net.py", 4))
    own = _statement("t = 0", chain("net.py", 9))
    made = [_statement("t = g(y)"), own, _statement("x = f(t)")]
    spread(source, made)
    assert [line_of(s) for s in made] == [("net.py", 4), ("net.py", 9), ("net.py", 4)]
    replacement = copy_origin(source, _statement("x = y"))
    assert line_of(replacement) == ("net.py", 4)
    assert last_line(made + [_statement("return x")]) == ("net.py", 4)
    assert last_line([_statement("return x")]) is None


def test_a_copied_program_keeps_its_origins():
    program = _function([_statement("x = 1", chain("net.py", 2)),
                         _statement("if x:\n    y = 2", chain("net.py", 3))])
    program.body[0].body[1].body[0] = set_origin(program.body[0].body[1].body[0],
                                                 chain("net.py", 4))
    copied = clone(program)
    assert copied.body[0].body[0] is not program.body[0].body[0]
    assert line_of(copied.body[0].body[0]) == ("net.py", 2)
    assert line_of(copied.body[0].body[1].body[0]) == ("net.py", 4)


def test_the_writer_comments_where_the_origin_changes_and_maps_each_line():
    first, second = chain(USER, 10), chain(USER, 11)
    body = [_statement("a = 1", first), _statement("b = a", first), _statement("c = b"),
            _statement("if c:\n    d = c\nelse:\n    d = 0", second),
            _statement("return d", first)]
    body[3].body[0] = set_origin(body[3].body[0], first)
    source, chains = backend.render(_function(body))
    assert source == ("def f():\n"
                      "    # net.py:10\n"
                      "    a = 1\n"
                      "    b = a\n"
                      "    c = b\n"
                      "    # net.py:11\n"
                      "    if c:\n"
                      "        # net.py:10\n"
                      "        d = c\n"
                      "    else:\n"
                      "        d = 0\n"
                      "    # net.py:10\n"
                      "    return d\n")
    lines = source.splitlines()
    mapped = {lines[number - 1].strip(): origin for number, origin in chains.items()}
    assert mapped == {"a = 1": first, "b = a": first, "c = b": first, "if c:": second,
                      "d = c": first, "else:": second, "d = 0": second, "return d": first}
    assert backend._PLACEHOLDER not in source


def test_inlined_library_code_is_shown_after_the_users_call_site_in_short_paths():
    inlined = chain(LIBRARY, 72, [(USER, 14), (LIBRARY, 30)])
    source, chains = backend.render(_function([_statement("y = relu(x)", inlined)]))
    comment = source.splitlines()[1].strip()
    library = os.path.relpath(os.path.abspath(LIBRARY), backend._PACKAGE_PARENT)
    assert comment == f"# net.py:14 > {library}:72"
    assert os.getcwd() not in source
    assert chains[3] == inlined


def test_the_writer_leaves_the_programs_statements_as_they_were():
    statement = _statement("if x:\n    y = 1", chain(USER, 5))
    program = _function([statement])
    backend.render(program)
    assert program.body[0].body == [statement]
    assert len(statement.body) == 1


def test_files_are_named_by_the_working_directory_or_the_import_path(tmp_path, monkeypatch):
    project, site = tmp_path / "project", tmp_path / "site"
    project.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.setattr("sys.path", [str(site)])
    assert backend.short_path(str(project / "models" / "net.py")) == \
        os.path.join("models", "net.py")
    assert backend.short_path("net.py") == "net.py"
    assert backend.short_path(str(site / "gluoncv" / "model_zoo" / "resnet.py")) == \
        os.path.join("gluoncv", "model_zoo", "resnet.py")
    assert backend.short_path(str(tmp_path / "elsewhere" / "train.py")) == "train.py"
    monkeypatch.chdir(tmp_path)
    assert backend.short_path(str(project / "net.py")) == os.path.join("project", "net.py")
