"""What a call in compiled code calls, decided from the callee's value and its arguments: one
`Callee`, whose kind says whether the specializer lowers it to an operator, inlines it,
evaluates it now, refuses it or emits it to run at run time."""
import builtins
import enum
import logging
import math
import os
import sysconfig
import types
import warnings
from dataclasses import dataclass

from ... import ndarray
from ...ndarray import NDArray
from ...ops.python_operators import ARRAY_BUILTINS
from ..block_view import BlockView, ParameterView
from .values import (Dynamic, FRef, Local, Seq, Static, Table, is_literal, is_static,
                     static_value)

_LIBRARY_DIRS = tuple(os.path.abspath(sysconfig.get_paths()[key]) + os.sep
                      for key in ("stdlib", "platstdlib", "purelib", "platlib")) + (
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep,)
_STATIC_BUILTINS = {len, range, zip, enumerate, isinstance, issubclass, int, float, bool, str,
                    tuple, list, dict, min, max, abs, sum, sorted, reversed, getattr, hasattr,
                    round, divmod, pow, type, repr, set, frozenset, all, any, callable}
_STATIC_TYPES = (dict, list, tuple, str, int, float, range, set, frozenset, bytes)
_MUTABLE_TYPES = (list, dict, set, bytearray)
MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault",
            "popitem", "add", "discard", "sort", "reverse"}


class CalleeKind(enum.Enum):
    """What the specializer does with a call, one kind per way."""
    OPERATOR = "lowered to the operator `path` of the table"
    ND_ARRAY = "nd.array of a run-time value: a new array made at run time"
    LOCAL_FUNCTION = "a function defined in the compiled code: inlined"
    RUN_TIME_CALLEE = "a callee known only at run time: called then"
    HYBRID_BLOCK = "a hybrid block: its forward inlined, given its parameters"
    HYBRID_FUNCTION = "an @hybrid function: inlined, given F"
    OTHER_BLOCK = "a block that is not hybrid: refused"
    BLOCK_METHOD = "a method of a block, written in Python: inlined with the block as self"
    PARAMETER_DATA = "Parameter.data(): the parameter's argument of the program"
    ZERO_ARGUMENT_SUPER = "super() in a method"
    PRINT = "print: emitted, given the values the user's code would print"
    OUTSIDE_MUTATION = "changing a container made before the call: refused"
    F_ATTRIBUTE = "getattr(F, name): the namespace or operator of that name"
    USER_FUNCTION = "a Python function of the user's (or one given F): inlined"
    KNOWN_LENGTH = "len() of a sequence whose length is known now"
    NUMPY_ON_ARRAY = "a numpy function that calls an NDArray's own method: refused"
    BUILTIN_ON_ARRAYS = "a builtin given arrays: what Python's dispatch to NDArray does"
    KNOWN_ISINSTANCE = "isinstance() of a value whose type is known now"
    EVALUATED_NOW = "a pure function of values known now: called while compiling"
    SORTED_PAIRS = "sorted() of pairs whose keys are known now"
    DICT_COPY = "dict() of a dict whose keys are known now"
    KEYS_OF_DICT = "list/tuple/sorted of a dict whose keys are known now"
    SEQUENCE_COPY = "list/tuple of a sequence known now"
    SEQUENCE_BUILTIN = "zip/enumerate/reversed of sequences known now"
    RUN_TIME_CALL = "any other function: called at run time"


@dataclass(frozen=True)
class Callee:
    """The decision for one call: its kind, and what the kind needs."""
    kind: CalleeKind
    function: object = None     # the Python function to inline or call, or the block
    owner: object = None        # the block or parameter a method belongs to
    path: str = None            # the operator's name in the nd namespace


def decide(callee, args, kwargs):
    """The Callee for calling the specializer's value `callee` with argument values `args`,
    `kwargs`."""
    if isinstance(callee, FRef):
        return Callee(CalleeKind.OPERATOR, path=callee.path)
    if isinstance(callee, Local):
        return Callee(CalleeKind.LOCAL_FUNCTION, callee)
    if not isinstance(callee, Static):
        return Callee(CalleeKind.RUN_TIME_CALLEE)
    function = callee.value
    values = list(args) + list(kwargs.values())
    path = nd_path(function)
    if path is not None and not all(is_static(v) for v in values):
        # `nd.relu(x)` in hybrid_forward is what `F.relu(x)` is imperatively
        if path == "array":
            return Callee(CalleeKind.ND_ARRAY, function)
        return Callee(CalleeKind.OPERATOR, function, path=path)
    if isinstance(function, BlockView) and function._is_hybrid():
        return Callee(CalleeKind.HYBRID_BLOCK, function)
    if getattr(type(function), "takes_f", False):
        return Callee(CalleeKind.HYBRID_FUNCTION, function)
    if isinstance(function, BlockView):
        return Callee(CalleeKind.OTHER_BLOCK, function)
    owner = getattr(function, "__self__", None)
    if isinstance(owner, BlockView) and method_function(function) is not None:
        return Callee(CalleeKind.BLOCK_METHOD, method_function(function), owner)
    if isinstance(owner, ParameterView) and function.__name__ == "data":
        return Callee(CalleeKind.PARAMETER_DATA, function, owner)
    if function is super and not args:
        return Callee(CalleeKind.ZERO_ARGUMENT_SUPER, function)
    if function is print:
        return Callee(CalleeKind.PRINT, function)
    if isinstance(owner, _MUTABLE_TYPES) and getattr(function, "__name__", "") in MUTATORS:
        return Callee(CalleeKind.OUTSIDE_MUTATION, function, owner)
    if function is getattr and len(args) == 2 and isinstance(args[0], FRef) \
            and is_static(args[1]):
        return Callee(CalleeKind.F_ATTRIBUTE, function,
                      path=f"{args[0].path}.{static_value(args[1])}".lstrip("."))
    receives_f = any(isinstance(v, FRef) for v in values)
    if is_user_function(function) or (receives_f and isinstance(function, types.FunctionType)):
        # a function given F must be compiled: at run time there is no F to give it
        return Callee(CalleeKind.USER_FUNCTION, function)
    if function is len and len(args) == 1 and not kwargs and isinstance(args[0], (Seq, Table)):
        return Callee(CalleeKind.KNOWN_LENGTH, function)
    if _calls_array_method(function) and any(holds_array(v) for v in values):
        return Callee(CalleeKind.NUMPY_ON_ARRAY, function)
    if builtin_name(function) in ARRAY_BUILTINS and any(holds_array(v) for v in values):
        return Callee(CalleeKind.BUILTIN_ON_ARRAYS, function)
    if function is isinstance and len(args) == 2 and is_static(args[1]) \
            and isinstance(args[0], (Seq, Table, Dynamic)) and known_type(args[0]) is not None:
        return Callee(CalleeKind.KNOWN_ISINSTANCE, function)
    if all(is_static(v) for v in values) and _evaluable_now(function):
        return Callee(CalleeKind.EVALUATED_NOW, function)
    only = args[0] if len(args) == 1 and not kwargs else None
    if function is sorted and isinstance(only, Seq) and leading_keys(only.items) is not None:
        return Callee(CalleeKind.SORTED_PAIRS, function)
    if function is dict and isinstance(only, Table):
        return Callee(CalleeKind.DICT_COPY, function)
    if function in (list, tuple, sorted) and isinstance(only, Table):
        return Callee(CalleeKind.KEYS_OF_DICT, function)
    if function in (tuple, list) and len(args) == 1 and isinstance(args[0], Seq):
        return Callee(CalleeKind.SEQUENCE_COPY, function)
    if function in (zip, enumerate, reversed) and any(isinstance(a, Seq) for a in args):
        return Callee(CalleeKind.SEQUENCE_BUILTIN, function)
    return Callee(CalleeKind.RUN_TIME_CALL, function)


def leading_keys(items):
    """The distinct first items, known now, of tuples that sorting compares by them alone."""
    if not all(isinstance(i, Seq) and i.container is tuple and i.items
               and isinstance(i.items[0], Static) for i in items):
        return None
    keys = [i.items[0].value for i in items]
    if not all(is_literal(k) for k in keys) or len(set(keys)) != len(keys):
        return None
    try:
        sorted(keys)
    except TypeError:
        return None
    return keys


def writes_text(function):
    """str's methods (`"{}".format(x)`), logging's functions and methods, warnings.warn."""
    owner = getattr(function, "__self__", None)
    return isinstance(owner, (str, logging.Logger, logging.LoggerAdapter)) \
        or getattr(function, "__module__", None) == "logging" or function is warnings.warn


_ND_PATHS = {}


def nd_path(function):
    """The name of `function` in the nd namespace (`relu`, `random.normal`,
    `contrib.div_sqrt_dim`, `image.resize`), or None."""
    if not _ND_PATHS:
        for prefix, namespace in (("", ndarray), ("random.", ndarray.random),
                                  ("contrib.", ndarray.contrib), ("image.", ndarray.image)):
            for name, value in vars(namespace).items():
                if callable(value) and not isinstance(value, type) and not name.startswith("_"):
                    _ND_PATHS.setdefault(id(value), (prefix + name, value))
    entry = _ND_PATHS.get(id(function))
    return entry[0] if entry is not None and entry[1] is function else None


def _numpy_delegating_functions():
    try:
        from numpy._core import fromnumeric
    except ImportError:      # numpy < 2
        from numpy.core import fromnumeric
    return {id(getattr(fromnumeric, name)) for name in fromnumeric.__all__}


_DELEGATING = _numpy_delegating_functions()


def _calls_array_method(function):
    """numpy's functions that call a non-numpy argument's own method (`np.sum(x)` is
    `x.sum()` on an NDArray), so that imperatively their result is NDArray's."""
    return id(function) in _DELEGATING


def builtin_name(function):
    name = getattr(function, "__name__", None)
    return name if isinstance(name, str) and getattr(builtins, name, None) is function else None


def holds_array(value):
    if isinstance(value, Dynamic):
        return value.is_array
    if isinstance(value, Seq):
        return any(holds_array(item) for item in value.items)
    return False


def is_user_function(function):
    """A plain Python function of the user's, to inline; library code is called instead."""
    if not isinstance(function, types.FunctionType):
        return False
    filename = function.__code__.co_filename
    if filename.startswith("<frozen "):     # the standard library's frozen modules
        return False
    return not os.path.abspath(filename).startswith(_LIBRARY_DIRS)


def known_type(value):
    """The type a value has at run time as the user's code sees it, where that is certain."""
    if isinstance(value, Seq):
        return value.container
    if isinstance(value, Table):
        return dict
    return NDArray if value.is_array else None


def method_function(bound_method):
    """The Python function of a bound method, or None for a builtin one."""
    function = getattr(bound_method, "__func__", None)
    return function if isinstance(function, types.FunctionType) else None


def _evaluable_now(function):
    """Calls with only compile-time arguments that may run while compiling: pure builtins,
    methods of plain containers, numpy/math functions and logging.getLogger."""
    if function in _STATIC_BUILTINS or isinstance(function, type) \
            or function is logging.getLogger:   # one logger per name, for the process's life
        return True
    owner = getattr(function, "__self__", None)
    if isinstance(function, types.BuiltinMethodType) and isinstance(owner, _STATIC_TYPES):
        return True
    module = getattr(function, "__module__", "") or ""
    if module.startswith("numpy.random") or getattr(owner, "__class__", None).__name__ in (
            "Generator", "RandomState"):
        return False
    return module == "math" or module.startswith("numpy") or function in vars(math).values()
