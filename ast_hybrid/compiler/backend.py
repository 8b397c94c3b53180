"""The shared back end: program AST -> readable source (astor) -> compile/exec -> callable.

Each statement of a program may be preceded by an origin marker (a string expression made by
`origin_marker`); the source writer turns markers into `# file:line` comments and keeps a map
from generated lines to the user's lines, so errors can point at the user's code.
"""
import ast
import itertools
import linecache
import threading
import types
import weakref
from dataclasses import dataclass, field

import astor
from astor.source_repr import split_lines

from .operator_errors import imperative_error

_MARKER = "__ast_hybrid_origin__:"
_counter = itertools.count()
_counter_lock = threading.Lock()


def origin_marker(filename, lineno):
    """A statement that becomes the comment `# filename:lineno` in the generated source."""
    safe_name = str(filename).replace("\n", " ").replace("\r", " ")
    return ast.Expr(ast.Constant(f"{_MARKER}{safe_name}:{int(lineno)}"))


def _marker_text(line):
    stripped = line.strip()
    if not stripped or stripped[0] not in "'\"":
        return None
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, str) and value.startswith(_MARKER):
        return value[len(_MARKER):]
    return None


def origin_of_marker(statement):
    """(filename, lineno) of an origin marker statement, or None for any other statement."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
            and isinstance(statement.value.value, str) \
            and statement.value.value.startswith(_MARKER):
        return _split_origin(statement.value.value[len(_MARKER):])
    return None


def _split_origin(text):
    filename, _, lineno = text.rpartition(":")
    return filename, int(lineno)


@dataclass
class Program:
    """A compiled program: its callable, its source, and where each of its lines came from."""
    function: object
    source: str
    filename: str
    origins: dict = field(default_factory=dict)
    namespace: dict = field(default_factory=dict)
    definitions: list = field(default_factory=list)
    kernel_ops: dict = field(default_factory=dict)   # kernel identifier -> operator
    namer: object = None                             # for programs derived from this one
    differentiable: object = None   # the FunctionDef backward programs derive from
    guards: object = None           # values specialized on that no watcher sees (guards.py)

    def __post_init__(self):
        if self.differentiable is None and self.definitions:
            self.differentiable = self.definitions[-1]

    def origin_of(self, lineno):
        return self.origins.get(lineno)


_WRAPPED_LINE_PIECES = 400   # astor wraps a long line in time quadratic in its pieces


def _pretty_source(pieces):
    """astor's line wrapping, line by line, leaving a line of more than _WRAPPED_LINE_PIECES
    pieces (a tuple of thousands of outputs) unwrapped, so rendering stays linear."""
    result, line = [], []
    for piece in pieces:
        line.append(piece)
        if piece.startswith("\n"):        # astor ends each line with a piece starting so
            result.extend(split_lines(line) if len(line) <= _WRAPPED_LINE_PIECES else line)
            line = []
    result.extend(line)
    return "".join(result)


def render(module):
    """(source, {generated line: (user file, user line)}) for a module holding origin markers."""
    raw = astor.to_source(module, pretty_source=_pretty_source)
    lines, origins, scopes = [], {}, []   # scopes: (indent, origin) of enclosing markers
    for line in raw.splitlines():
        indent = len(line) - len(line.lstrip())
        if line.strip():
            while scopes and indent < scopes[-1][0]:
                scopes.pop()
        text = _marker_text(line)
        if text is not None:
            lines.append(f"{line[:indent]}# {text}")
            if scopes and scopes[-1][0] == indent:
                scopes.pop()
            scopes.append((indent, _split_origin(text)))
            continue
        lines.append(line)
        if line.strip() and scopes:
            origins[len(lines)] = scopes[-1][1]
    return "\n".join(lines) + "\n", origins


def compile_program(functions, namespace, label, entry=None, kernel_ops=None, namer=None,
                    differentiable=None):
    """Compile function definitions (ast.FunctionDef) into one module; returns a Program whose
    `function` is `entry` (the last definition by default). `kernel_ops`, `namer` and
    `differentiable` (the definition before optimizations that reuse buffers; by default the
    last one) are kept so that a backward program can be derived from this one."""
    module = ast.Module(body=list(functions), type_ignores=[])
    ast.fix_missing_locations(module)
    source, origins = render(module)
    with _counter_lock:
        number = next(_counter)
    filename = f"<ast_hybrid: {label} #{number}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    scope = dict(namespace)
    exec(code, scope)
    name = entry or functions[-1].name
    program = Program(scope[name], source, filename, origins, scope, list(functions),
                      dict(kernel_ops or {}), namer, differentiable)
    weakref.finalize(program, linecache.cache.pop, filename, None)   # a dropped program's lines go
    return program



def _innermost_entry(program, traceback):
    """The traceback entry of the innermost frame of `program`, or None."""
    found = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == program.filename:
            found = traceback
        traceback = traceback.tb_next
    return found


def user_frame(program, traceback):
    """(generated line, user file, user line) of the innermost frame of `program` in a traceback."""
    entry = _innermost_entry(program, traceback)
    if entry is None:
        return None
    origin = program.origin_of(entry.tb_lineno)
    return (entry.tb_lineno,) + (origin if origin else (None, None))


def annotate(error, program):
    """The exception to raise for `error`, raised inside `program`: the operator's own OpError
    where imperative mode raises one for the failing expression (see operator_errors), else
    `error`; either with a note naming the user's file, line and source text."""
    entry = _innermost_entry(program, error.__traceback__)
    if entry is None or getattr(error, "_ast_hybrid_annotated", False):
        return error
    replacement = imperative_error(program, entry, error)
    if replacement is not None:
        error = _instead_of(error, replacement, entry)
    generated_line, filename, lineno = user_frame(program, entry)
    if filename is not None:
        text = linecache.getline(filename, lineno).strip()
        note = (f"ast_hybrid: raised by your code at {filename}, line {lineno}: {text}\n"
                f"  (generated program {program.filename}, line {generated_line})")
    else:
        note = f"ast_hybrid: raised in generated program {program.filename}, line {generated_line}"
    _add_note(error, note)
    try:
        error._ast_hybrid_annotated = True
    except AttributeError:
        pass
    return error


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
    """error.add_note(note); before Python 3.11, which shows no notes, it sets `__notes__`
    as add_note does, so that the note can still be read."""
    if hasattr(error, "add_note"):
        error.add_note(note)
        return
    try:
        error.__notes__ = [*getattr(error, "__notes__", ()), note]
    except (AttributeError, TypeError):
        pass


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

