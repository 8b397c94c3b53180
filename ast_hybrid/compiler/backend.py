"""The shared back end: program AST -> readable source (astor) -> compile/exec -> callable.

The statements of a program carry their origins (see origins.py); the source writer turns
each change of origin into a `# file:line` comment and keeps a map from generated lines to the
user's lines (and the calls that inlined them), so errors can point at the user's code.
"""
import ast
import copy
import functools
import itertools
import linecache
import os
import sys
import threading
import types
import weakref
from dataclasses import dataclass, field

import astor
from astor.source_repr import split_lines

from .. import program_files
from .operator_errors import imperative_error
from .origins import origin_of

TRACEBACKS_SHOW_NOTES = sys.version_info >= (3, 11)
# astor writes no comments: a name statement of this prefix and the origin's number stands
# on the line where the comment goes, and the writer replaces it
_PLACEHOLDER = "__ast_hybrid_origin_"
_counter = itertools.count()
_counter_lock = threading.Lock()
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@functools.lru_cache(maxsize=1024)
def is_library_file(filename):
    """Whether a source file is this package's own (a layer of gluon.nn), not the user's."""
    return os.path.abspath(filename).startswith(
        os.path.join(_PACKAGE_PARENT, "ast_hybrid") + os.sep)


def short_path(filename):
    """A file as a comment names it: the package's own relative to the package's folder,
    the user's relative to the working directory when inside it, any other relative to the
    import path holding it (`gluoncv/model_zoo/resnet.py`), and any file elsewhere by its
    name alone: never by this machine's folders."""
    return _short_path(filename, os.getcwd(), tuple(sys.path))


@functools.lru_cache(maxsize=1024)
def _short_path(filename, working_directory, import_path):
    full = os.path.normpath(os.path.join(working_directory, filename))
    if is_library_file(full):
        return os.path.relpath(full, _PACKAGE_PARENT)
    for folder in (working_directory,) + tuple(
            sorted((os.path.abspath(p) for p in import_path if p), key=len, reverse=True)):
        if full.startswith(os.path.join(folder, "")):
            return os.path.relpath(full, folder)
    return os.path.basename(full)


def _placeholder_number(line):
    """The origin number of a placeholder line, or None for any other line."""
    stripped = line.strip()
    if stripped.startswith(_PLACEHOLDER) and stripped[len(_PLACEHOLDER):].isdigit():
        return int(stripped[len(_PLACEHOLDER):])
    return None


def _comment(chain):
    """An origin's comment: the innermost line, after the outermost call site in the user's
    own code when the line is inlined from elsewhere (`net.py:14 > ast_hybrid/...:72`)."""
    user_sites = [site for site in chain[:-1] if not is_library_file(site[0])]
    shown = user_sites[:1] + [chain[-1]]
    return " > ".join(f"{short_path(name)}:{line}" for name, line in shown)


@dataclass
class Program:
    """A compiled program: its callable, its source, and where each of its lines came from."""
    function: object
    source: str
    filename: str
    origins: dict = field(default_factory=dict)     # generated line -> innermost (file, line)
    namespace: dict = field(default_factory=dict)
    definitions: list = field(default_factory=list)
    kernel_ops: dict = field(default_factory=dict)   # kernel identifier -> operator
    namer: object = None                             # for programs derived from this one
    differentiable: object = None   # the FunctionDef backward programs derive from
    guards: object = None           # values specialized on that no watcher sees (guards.py)
    chains: dict = field(default_factory=dict)      # generated line -> call sites and line
    maybe_unbound: frozenset = frozenset()          # variables a run-time path leaves unset
    label: str = ""
    optimized: bool = False     # the optimization passes ran (on derived programs too)

    def __post_init__(self):
        if self.differentiable is None and self.definitions:
            self.differentiable = self.definitions[-1]


_WRAPPED_LINE_PIECES = 400   # astor wraps a long line in time quadratic in its pieces
LINE_LENGTH = 100            # the generated programs' lines, as the package's own code
_KEYWORD_LENGTH = 40         # a keyword argument this long or shorter is never broken


def _pretty_source(pieces):
    """astor's line wrapping, line by line, leaving a line of more than _WRAPPED_LINE_PIECES
    pieces (a tuple of thousands of outputs) unwrapped, so rendering stays linear."""
    result, line = [], []
    for piece in pieces:
        line.append(piece)
        if piece.startswith("\n"):        # astor ends each line with a piece starting so
            if len(line) <= _WRAPPED_LINE_PIECES:
                result.extend(split_lines(_keywords_joined(line), maxline=LINE_LENGTH))
            else:
                result.extend(line)
            line = []
    result.extend(line)
    return "".join(result)


def _keywords_joined(pieces):
    """The pieces of one line with each short keyword argument (`num_hidden=32`,
    `kernel=(3, 3)`) made one piece, so that wrapping never breaks a line inside it. astor
    writes a keyword as its name, a piece '=' and its value's pieces; a value ends at a
    ', ' or a closing bracket outside its own brackets."""
    result, index = [], 0
    while index < len(pieces):
        if pieces[index] == "=" and result:
            end, depth = index + 1, 0
            while end < len(pieces):
                piece = pieces[end]
                if depth == 0 and (piece == ", " or piece in _CLOSING or piece.startswith("\n")):
                    break
                depth += (piece in _OPENING) - (piece in _CLOSING)
                end += 1
            joined = result[-1] + "".join(pieces[index:end])
            if len(joined) <= _KEYWORD_LENGTH and depth == 0:
                result[-1] = joined
                index = end
                continue
        result.append(pieces[index])
        index += 1
    return result


_OPENING = {"(", "[", "{"}
_CLOSING = {")", "]", "}", "):"}


_BODIES = ("body", "orelse", "finalbody")


def _with_placeholders(statements, origins):
    """A copy of `statements` in which each statement with an origin is preceded by a
    placeholder naming it (by its number in `origins`, to which it is added); nested blocks
    too. The statements are shared, compound ones copied shallowly."""
    out = []
    for statement in statements:
        origin = origin_of(statement)
        if origin is not None:
            origins.append(origin)
            out.append(ast.Expr(ast.Name(f"{_PLACEHOLDER}{len(origins) - 1}", ast.Load())))
        inner = [name for name in _BODIES if getattr(statement, name, None)]
        handlers = getattr(statement, "handlers", None)
        if inner or handlers:
            statement = copy.copy(statement)
            for name in inner:
                setattr(statement, name, _with_placeholders(getattr(statement, name), origins))
            if handlers:
                statement.handlers = [_handler_with_placeholders(h, origins) for h in handlers]
        out.append(statement)
    return out


def _handler_with_placeholders(handler, origins):
    handler = copy.copy(handler)
    handler.body = _with_placeholders(handler.body, origins)
    return handler


def render(module):
    """(source, {generated line: ((file, line) of each call site, ..., the user's line)})
    for a module whose statements carry origins."""
    origins = []
    placed = ast.Module(_with_placeholders(module.body, origins), [])
    raw = astor.to_source(placed, pretty_source=_pretty_source)
    lines, chains, scopes = [], {}, []   # scopes: (indent, origin) of enclosing comments
    for line in raw.splitlines():
        indent = len(line) - len(line.lstrip())
        if line.strip():
            while scopes and indent < scopes[-1][0]:
                scopes.pop()
        number = _placeholder_number(line)
        if number is not None:
            origin = origins[number]
            if scopes and scopes[-1][1] == origin:
                continue        # a comment only where the origin changes
            lines.append(f"{line[:indent]}# {_comment(origin)}")
            if scopes and scopes[-1][0] == indent:
                scopes.pop()
            scopes.append((indent, origin))
            continue
        lines.append(line)
        if line.strip() and scopes:
            chains[len(lines)] = scopes[-1][1]
    return "\n".join(lines) + "\n", chains


def compile_program(functions, namespace, label, entry=None, kernel_ops=None, namer=None,
                    differentiable=None):
    """Compile function definitions (ast.FunctionDef) into one module; returns a Program whose
    `function` is `entry` (the last definition by default). `kernel_ops`, `namer` and
    `differentiable` (the definition before optimizations that reuse buffers; by default the
    last one) are kept so that a backward program can be derived from this one."""
    module = ast.Module(body=list(functions), type_ignores=[])   # compiled from its source
    source, chains = render(module)
    with _counter_lock:
        number = next(_counter)
    filename = program_files.write(label, number, source)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    scope = dict(namespace)
    exec(code, scope)
    name = entry or functions[-1].name
    origins = {line: chain[-1] for line, chain in chains.items()}
    program = Program(scope[name], source, filename, origins, scope, list(functions),
                      dict(kernel_ops or {}), namer, differentiable, chains=chains, label=label)
    weakref.finalize(program, _forget, filename)   # a dropped program's lines go
    return program


def _forget(filename):
    linecache.cache.pop(filename, None)
    program_files.remove(filename)



def _innermost_entry(program, traceback):
    """The traceback entry of the innermost frame of `program`, or None."""
    found = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == program.filename:
            found = traceback
        traceback = traceback.tb_next
    return found


def annotate(error, program):
    """The exception to raise for `error`, raised inside `program`: the operator's own OpError
    where imperative mode raises one for the failing expression (see operator_errors), else
    `error`; either with a note naming the user's file, line and source text."""
    entry = _innermost_entry(program, error.__traceback__)
    if entry is None or getattr(error, "_ast_hybrid_annotated", False):
        return error
    error = operator_error_of(program, error)
    _add_note(error, _note(program, entry.tb_lineno))
    try:
        error._ast_hybrid_annotated = True
    except AttributeError:
        pass
    return error


def operator_error_of(program, error):
    """The error imperative mode raises instead of `error`, raised inside `program` and
    caught there (by a `try` of the user's code), or `error` itself."""
    entry = _innermost_entry(program, error.__traceback__)
    replacement = imperative_error(program, entry, error) if entry is not None else None
    return error if replacement is None else _instead_of(error, replacement, entry)


def _note(program, generated_line):
    """Where the failing generated line came from: the innermost line of the user's own code
    first (a child block's line, or the call of a library layer), then the library's line
    it called, then the generated line."""
    generated = f"(line {generated_line} of the generated {program.filename})"
    chain = program.chains.get(generated_line)
    if not chain:
        return f"ast_hybrid: raised at line {generated_line} of the generated {program.filename}"
    users = [site for site in chain if not is_library_file(site[0])]
    first = users[-1] if users else chain[-1]
    lines = [f"ast_hybrid: raised by your code at {_located(first)}"]
    if first != chain[-1]:
        lines.append(f"  in {_located(chain[-1])}")
    return "\n".join(lines + [f"  {generated}"])


def _located(site):
    filename, lineno = site
    return f"{filename}, line {lineno}: {linecache.getline(filename, lineno).strip()}"


def _instead_of(original, replacement, entry):
    """`replacement` raised where `original` was, at the program's failing line: its
    traceback ends there (as imperative mode's ends at the operator), and `original` is kept
    as its context without being shown (as after `raise ... from None`), since the operator's
    message says what numpy's did, in the terms of the user's call."""
    replacement.__context__ = original
    replacement.__cause__ = None
    replacement.__suppress_context__ = True
    return replacement.with_traceback(_cut_after(original.__traceback__, entry))


def _cut_after(traceback, last):
    """A copy of the traceback chain `traceback` that ends at its entry `last`."""
    if traceback is last:
        return types.TracebackType(None, last.tb_frame, last.tb_lasti, last.tb_lineno)
    rest = _cut_after(traceback.tb_next, last)
    return types.TracebackType(rest, traceback.tb_frame, traceback.tb_lasti, traceback.tb_lineno)


def _add_note(error, note):
    """error.add_note(note). Before Python 3.11, whose tracebacks show no notes, the note
    also ends the message of an exception made from one string (most are), so that it is
    shown; `__notes__` holds it either way."""
    if TRACEBACKS_SHOW_NOTES:
        error.add_note(note)
        return
    try:
        error.__notes__ = [*getattr(error, "__notes__", ()), note]
    except (AttributeError, TypeError):
        pass
    if len(error.args) == 1 and isinstance(error.args[0], str) and not isinstance(error, KeyError):
        error.args = (f"{error.args[0]}\n{note}",)


def constant(value):
    """An AST literal for an attribute value (numbers, strings, booleans, None, tuples)."""
    if isinstance(value, tuple):
        return ast.Tuple([constant(v) for v in value], ast.Load())
    if isinstance(value, list):
        return ast.List([constant(v) for v in value], ast.Load())
    if value is None or isinstance(value, (bool, int, float, str)):
        return ast.Constant(value)
    if hasattr(value, "item"):
        return ast.Constant(value.item())
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a literal")

