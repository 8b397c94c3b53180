"""Pass 1: the source of a function as an AST, with its origin (file, lines) and scopes."""
import ast
import copy
import functools
import inspect
import linecache
import textwrap
from dataclasses import dataclass

from .code_match import same_code
from .errors import UnsupportedConstruct


@dataclass
class ParsedFunction:
    node: ast.FunctionDef        # line numbers are the user's file's; shared, read only
    filename: str
    globals: dict
    closure: dict
    function: object             # None for a function defined in the compiled code
    default_values: list = None  # its defaults, as the specializer's values
    local_names: frozenset = None   # the names local to it (specialize.py), once known


def transform(function):
    """Parse `function` (a plain function or a bound method's __func__), decorators stripped."""
    function = inspect.unwrap(getattr(function, "__func__", function))
    code = function.__code__
    node = _definition(code)
    filename = code.co_filename
    if not _is_the_code(function, node):
        raise UnsupportedConstruct(
            "a function whose source file changed after it was imported", filename,
            node.lineno, "the text there is not the code Python runs; reload the module "
            "(importlib.reload) or restart the interpreter to compile the new text")
    closure = {}
    if function.__closure__:
        for name, cell in zip(code.co_freevars, function.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:
                pass
    return ParsedFunction(node, filename, function.__globals__, closure, function)


_matching_codes = {}


def _is_the_code(function, node):
    """same_code, decided once per code object (whose lines are read once, _source_lines)
    and, for a lambda found in its whole file, per text found."""
    code = function.__code__
    key = (code, function.__qualname__, len(function.__defaults__ or ()),
           frozenset(function.__kwdefaults__ or ()),
           ast.dump(node) if code.co_name == "<lambda>" else None)
    if key not in _matching_codes:
        if len(_matching_codes) > 1024:
            _matching_codes.clear()
        _matching_codes[key] = same_code(node, function)
    return _matching_codes[key]


def _parse_indented(text):
    """The module of a definition's source lines, or None. A string literal whose lines
    start left of the definition keeps dedent from removing the indentation: such a
    definition is parsed as the body of a class statement, as it was written."""
    try:
        return ast.parse(text)
    except SyntaxError:
        pass
    try:
        holder = ast.parse("class _:\n" + text)
    except SyntaxError:
        return None
    ast.increment_lineno(holder, -1)
    return ast.Module(holder.body[0].body, [])


@functools.lru_cache(maxsize=512)
def _source_lines(code):
    """(lines, first line) of `code`'s source, read once per code object (every block of a
    class shares its hybrid_forward's): finding them costs more than parsing them. The
    file's lines come from linecache, as inspect.getsourcelines reads them, without its
    search of every module for the one holding the code (a scan of sys.modules' files)."""
    linecache.checkcache(code.co_filename)     # a file edited since: its text now
    lines = linecache.getlines(code.co_filename)
    first = code.co_firstlineno
    if not lines or not 0 < first <= len(lines):
        try:
            return inspect.getsourcelines(code)
        except (OSError, TypeError) as error:
            raise UnsupportedConstruct("a function whose source is unavailable",
                                       code.co_filename, first, str(error)) from None
    return inspect.getblock(lines[first - 1:]), first


@functools.lru_cache(maxsize=512)
def _definition(code):
    """The definition of `code`, decorators stripped: one AST per code object, which every
    build of it shares and the passes only read (each copies what it rewrites)."""
    node = _parsed(code)
    node.decorator_list = []
    return node


def _parsed(code):
    """The definition of `code` as a new AST with the file's line numbers."""
    filename, name = code.co_filename, code.co_name
    lines, first_line = _source_lines(code)
    text = textwrap.dedent("".join(lines))
    tree = _parse_indented(text)
    found = _lambda_in_file(code, filename) if name == "<lambda>" else None
    if found is not None:
        node = _as_function(found)      # its lines are the file's already
    else:
        if name == "<lambda>":
            dedented = len(lines[0]) - len(lines[0].lstrip()) - (
                len(text) - len(text.lstrip(" \t")))
            node = _lambda_as_function(tree, text, filename, first_line,
                                       _body_span(code, first_line, dedented))
            tree = ast.Module([node], [])
        else:
            node = tree.body[0] if tree is not None else None
        if not isinstance(node, ast.FunctionDef):
            raise UnsupportedConstruct(type(node).__name__, filename, first_line,
                                       "only plain `def` functions can be compiled")
        ast.increment_lineno(tree, first_line - 1)
    return node


@functools.lru_cache(maxsize=32)
def _parse_file(text):
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def _lambda_in_file(code, filename):
    """The lambda whose code `code` is, found in its whole file (so a lambda on a
    continuation line, whose lines alone do not parse, is found too): the one whose body is
    where Python's positions for the code put it; None where the file does not tell."""
    module = _parse_file("".join(linecache.getlines(filename)))
    span = _body_span(code, 1, 0)
    if module is None or span is None:
        return None
    matches = [n for n in ast.walk(module) if isinstance(n, ast.Lambda)
               and ((n.body.lineno, n.body.col_offset),
                    (n.body.end_lineno, n.body.end_col_offset)) == span]
    # a copy: the passes rewrite the tree they are given, and the file's stays cached
    return copy.deepcopy(matches[0]) if len(matches) == 1 else None


def _as_function(found):
    where = {name: getattr(found, name) for name in found._attributes}
    return ast.FunctionDef("_lambda", found.args, [ast.Return(found.body, **where)], [], None,
                           **where)


def _body_span(code, first_line, dedented):
    """Where a lambda's body is in the dedented source: ((line, column), (end line, end
    column)) relative to `first_line`, from the positions Python records for its code."""
    spans = [(line, column, end_line, end_column)
             for line, end_line, column, end_column in code.co_positions()
             if None not in (line, end_line, column, end_column)
             and (line, column) != (end_line, end_column)]
    if not spans:
        return None
    start = min((line, column) for line, column, _, _ in spans)
    end = max((end_line, end_column) for _, _, end_line, end_column in spans)
    return ((start[0] - first_line + 1, start[1] - dedented),
            (end[0] - first_line + 1, end[1] - dedented))


def _lambda_as_function(tree, text, filename, first_line, body_span=None):
    """The lambda on the lines `inspect` gives, as `def <lambda>(...): return ...`: the
    only one there, or the one whose body is where Python's positions for the code say."""
    if tree is None:
        body_span = None        # columns shift in the parenthesized text
        try:
            tree = ast.parse("(" + text.strip().rstrip(",") + ")")
        except SyntaxError:
            tree = None
    lambdas = [n for n in ast.walk(tree)] if tree is not None else []
    lambdas = [n for n in lambdas if isinstance(n, ast.Lambda)]
    if len(lambdas) > 1 and body_span is not None:
        lambdas = [n for n in lambdas
                   if ((n.body.lineno, n.body.col_offset),
                       (n.body.end_lineno, n.body.end_col_offset)) == body_span]
    if len(lambdas) != 1:
        raise UnsupportedConstruct("a lambda that cannot be told apart from others on its line",
                                   filename, first_line)
    return _as_function(lambdas[0])
