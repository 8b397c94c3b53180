"""Whether a definition read from a source file is the code Python runs for that function."""
import ast
import dis
import functools
import math

# Where a name is looked up (fast local, cell, global) depends on the scopes around the
# definition, which a definition compiled on its own lacks; what is looked up does not.
_LOADS = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR", "LOAD_DEREF",
                    "LOAD_GLOBAL", "LOAD_NAME", "LOAD_CLOSURE", "LOAD_CLASSDEREF",
                    "LOAD_FROM_DICT_OR_DEREF", "LOAD_FROM_DICT_OR_GLOBALS"})
_STORES = frozenset({"STORE_FAST", "STORE_DEREF", "STORE_GLOBAL", "STORE_NAME"})
_DELETES = frozenset({"DELETE_FAST", "DELETE_DEREF", "DELETE_GLOBAL", "DELETE_NAME"})
_PAIRED = {"LOAD_FAST_LOAD_FAST": ("LOAD", "LOAD"), "STORE_FAST_LOAD_FAST": ("STORE", "LOAD"),
           "STORE_FAST_STORE_FAST": ("STORE", "STORE")}
# bookkeeping whose presence follows from the scopes too (cells, the NULL before a call)
_SCOPE_BOOKKEEPING = frozenset({"RESUME", "COPY_FREE_VARS", "MAKE_CELL", "NOP", "CACHE",
                                "EXTENDED_ARG", "PUSH_NULL"})
# Python 3.11 looks an attribute up as a method unless the object's name was imported in the
# module, which a definition compiled on its own cannot tell
_ATTRIBUTES = frozenset({"LOAD_ATTR", "LOAD_METHOD"})
_JUMPS = frozenset(getattr(dis, "hasjump", ())) | frozenset(dis.hasjrel) | frozenset(dis.hasjabs)


def same_code(definition, function):
    """Whether `definition` (a FunctionDef whose line numbers are its file's), compiled where
    `function.__qualname__` says it was written, gives the instructions and constants of
    `function`'s code, with the same parameters having defaults; False also where it does not
    compile or its code is not found."""
    code = function.__code__
    arguments = definition.args
    with_default = {a.arg for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults)
                    if d is not None}
    if len(arguments.defaults) != len(function.__defaults__ or ()) or \
            with_default != set(function.__kwdefaults__ or ()):
        return False
    compiled = _compiled(definition, code, function.__qualname__)
    return compiled is not None and _shape(compiled) == _shape(code)


def _compiled(definition, code, qualname):
    """The code object `definition` compiles to inside classes and functions standing for the
    enclosing scopes of `qualname` (so private names are mangled, `super()` finds its class
    and the names the original closes over are cells, as in the original)."""
    enclosing = qualname.split(".")[:-1]
    free = [name for name in code.co_freevars if name != "__class__"]
    node = definition
    for index in range(len(enclosing) - 1, -1, -1):
        part = enclosing[index]
        if part == "<locals>":
            continue
        if not part.isidentifier():
            break
        in_function = index + 1 < len(enclosing) and enclosing[index + 1] == "<locals>"
        if in_function:
            body = [ast.Assign([ast.Name(name, ast.Store()) for name in free],
                               ast.Constant(None), **_at(node))] if free else []
            free = []
            holder = ast.FunctionDef(part, _no_arguments(), body + [node], [], None, None,
                                     **_at(node))
        else:
            holder = ast.ClassDef(part, [], [], [node], [], **_at(node))
        if "type_params" in holder._fields:
            holder.type_params = []
        node = holder
    module = ast.Module([node], [])
    try:
        compiled = compile(ast.fix_missing_locations(module), code.co_filename, "exec",
                           dont_inherit=True)
    except (SyntaxError, ValueError, TypeError):
        return None
    return _find(compiled, definition.name, definition.lineno)


def _no_arguments():
    return ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                         kwarg=None, defaults=[])


def _at(node):
    return {"lineno": node.lineno, "col_offset": 0,
            "end_lineno": getattr(node, "end_lineno", None) or node.lineno, "end_col_offset": 0}


def _find(code, name, lineno):
    for constant in code.co_consts:
        if hasattr(constant, "co_code"):
            if constant.co_name == name and constant.co_firstlineno == lineno:
                return constant
            found = _find(constant, name, lineno)
            if found is not None:
                return found
    return None


@functools.lru_cache(maxsize=1024)
def _shape(code):
    """What a code object does, without where its names live: its instructions (jump
    targets by kind only, as instruction sizes follow the lookups), its constants (nested
    code by shape), its argument counts and flags that change a call's meaning."""
    instructions = []
    for instruction in dis.get_instructions(code):
        name = instruction.opname
        if name in _SCOPE_BOOKKEEPING:
            continue
        if name in _PAIRED:
            instructions.extend(zip(_PAIRED[name], instruction.argval))
        elif name in _LOADS:
            instructions.append(("LOAD", instruction.argval))
        elif name in _STORES:
            instructions.append(("STORE", instruction.argval))
        elif name in _DELETES:
            instructions.append(("DELETE", instruction.argval))
        elif name in _ATTRIBUTES:
            instructions.append(("LOAD_ATTR", instruction.argval))
        elif instruction.opcode in _JUMPS:
            instructions.append((name,))
        else:
            instructions.append((name, _constant(instruction.argval)))
    return (tuple(instructions), code.co_argcount, code.co_posonlyargcount,
            code.co_kwonlyargcount, code.co_varnames[:_arguments(code)],
            code.co_flags & _CALL_FLAGS)


_CALL_FLAGS = 0x04 | 0x08 | 0x20 | 0x80 | 0x100 | 0x200   # *args, **kw, generator, async


def _arguments(code):
    return (code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & 0x04)
            + bool(code.co_flags & 0x08))


def _constant(value):
    """A constant as a comparable key: its type counts (1, 1.0 and True differ), a NaN equals
    a NaN, nested code compares by shape."""
    if hasattr(value, "co_code"):
        return ("code", _shape(value))
    if isinstance(value, (tuple, frozenset)):
        items = [_constant(item) for item in value]
        return (type(value).__name__, tuple(sorted(items, key=repr)
                                            if isinstance(value, frozenset) else items))
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    if isinstance(value, complex):
        return ("complex", repr(value))
    try:
        hash(value)
    except TypeError:
        return (type(value).__name__, repr(value))
    return (type(value).__name__, value)
