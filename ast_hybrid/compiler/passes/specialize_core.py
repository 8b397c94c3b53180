"""What the specializer's parts share: the program being built, the frames of the functions
being inlined, emission of statements with their origins, values turned into code, and the
methods each part provides to the others, declared here."""
import ast
import builtins
import functools

import numpy as np

from ... import ndarray
from ..backend import constant
from ..origins import chain, set_origin
from . import fence, inline, loop_exits, source
from .errors import CompileError, UnsupportedConstruct
from .lower import Lowerer
from .values import Dynamic, FRef, Local, Seq, Static, Table, is_literal


@functools.lru_cache(maxsize=512)
def _with_tail_returns(definition):
    """A parsed definition with flags for its loops' exits and its returns at the tails of
    their paths, made once per definition (source's, shared): both passes copy what they
    rewrite, and the specializer only reads their result."""
    return inline.transform(loop_exits.transform(definition))


class SpecializerCore:
    """The state and emission the statement, expression and call parts share (Specializer,
    ExpressionSpecializer, CallSpecializer), and the interface each gives the others: a part
    calls another only through the methods declared below, which that part defines."""

    def __init__(self, context):
        self.context = context
        self.lowerer = Lowerer(context, self)
        self.frames = []
        self.bodies = []
        self.line = None
        self._parsed = {}
        self.pending_items = []     # what unrolled loops have still to bind, evaluated already
        self.run_time_lists = []    # lists built here and grown by run-time code, as values
        self.call_sites = []        # (file, line) of each call being inlined, outermost first
        self.containers_made = {}   # id -> (list or dict, frame, run-time depth) of its making
        self.handling = []          # the caught exception's variable, in an except clause

    # ----- frames, emission
    @property
    def frame(self):
        return self.frames[-1]

    def unsupported(self, construct, detail="", node=None):
        line = getattr(node, "lineno", None) or self.line or self.frame.parsed.node.lineno
        return UnsupportedConstruct(construct, self.frame.parsed.filename, line, detail)

    def compile_error(self, message, node=None):
        line = getattr(node, "lineno", None) or self.line or self.frame.parsed.node.lineno
        return CompileError(message, self.frame.parsed.filename, line)

    def emit(self, statement):
        body = self.bodies[-1]
        body.append(set_origin(statement, chain(self.frame.parsed.filename, self.line,
                                                self.call_sites)))

    def temporary(self, expr, hint):
        name = self.context.namer.fresh(hint)
        self.frame.owned.add(name)
        self.emit(ast.Assign([ast.Name(name, ast.Store())], expr))
        return ast.Name(name, ast.Load())

    def parsed(self, function):
        key = getattr(function, "__func__", function)
        if key not in self._parsed:
            parsed = fence.transform(source.transform(key))
            parsed.node = _with_tail_returns(parsed.node)
            self._parsed[key] = parsed
        return self._parsed[key]

    # ----- values to code
    def expr_of(self, value):
        if isinstance(value, Dynamic):
            return value.expr
        if isinstance(value, Local):
            raise self.unsupported("a function defined in the compiled code, used as a value "
                                   "at run time", "it can only be called (it is inlined)")
        if isinstance(value, (Seq, Table)):
            return self.container_code(value, self.expr_of)
        if isinstance(value, FRef):
            # F as a value (printed, passed on) is the namespace imperative code sees: nd
            target = ndarray
            for part in filter(None, value.path.split(".")):
                target = getattr(target, part)
            return self.context.constant_ref(target, value.path.split(".")[-1] or "F")
        data = value.value
        if is_literal(data):
            if isinstance(data, (tuple, list)) and any(isinstance(v, slice) for v in data):
                return (ast.List if isinstance(data, list) else ast.Tuple)(
                    [self.expr_of(Static(v)) for v in data], ast.Load())
            if isinstance(data, slice):
                return ast.Call(ast.Name("slice", ast.Load()),
                                [constant(v) for v in (data.start, data.stop, data.step)], [])
            return constant(data)
        if isinstance(data, np.generic):
            return constant(data.item())
        name = getattr(data, "__name__", None)
        if isinstance(name, str) and getattr(builtins, name, None) is data:
            return ast.Name(name, ast.Load())
        hint = name or type(data).__name__.lower()
        return self.context.constant_ref(data, hint)

    def container_code(self, value, item_code):
        """The code of a sequence or dict known now (a Seq or Table), each item's code given by
        `item_code` (its keys are values known now)."""
        if isinstance(value, Seq):
            items = [item_code(v) for v in value.items]
            return (ast.List if value.container is list else ast.Tuple)(items, ast.Load())
        return ast.Dict([self.expr_of(Static(k)) for k in value.items],
                        [item_code(v) for v in value.items.values()])

    def as_name(self, value, hint):
        """A value that may be used several times: simple names and statics stay, the rest
        is computed once into a temporary."""
        if isinstance(value, Dynamic) and not isinstance(value.expr, ast.Name):
            return Dynamic(self.temporary(value.expr, hint), value.kind)
        if isinstance(value, Seq):
            items = [self.as_name(v, hint) for v in value.items]
            if value.container is list:
                value.items[:] = items      # a list keeps its identity: its holders share it
                return value
            return Seq(items, value.container)
        if isinstance(value, Table):
            # a dict keeps its identity too
            value.items.update({k: self.as_name(v, str(k) if str(k).isidentifier() else hint)
                                for k, v in value.items.items()})
        return value

    # ----- what the statement part (specialize.Specializer) provides
    def block(self, statements):
        """Specialize statements into the current body; 'return', 'break', 'continue' or
        None (falls through)."""
        raise NotImplementedError

    def condition(self, test):
        """The run-time truth test of a value (an array's is its value's)."""
        raise NotImplementedError

    def assign(self, target, value):
        """Bind an assignment target (any form Python allows) to a value."""
        raise NotImplementedError

    def assign_name(self, name, value):
        """Bind a name of the current frame to a value."""
        raise NotImplementedError

    def inline_call(self, function, self_object, args, kwargs, hint, bind_self=True,
                    parsed=None, enclosing=None):
        """The value of `function(self_object, *args, **kwargs)` (or, without `bind_self`,
        of `function(*args, **kwargs)`), its body emitted inline."""
        raise NotImplementedError

    def inline_local(self, local, args, kwargs, node):
        """The value of a call of a function defined in the compiled code."""
        raise NotImplementedError

    def static_items(self, value):
        """The items of a value iterable now (a sequence, a dict's keys, a range), or None."""
        raise NotImplementedError

    def new_list(self, items):
        """A list made by the compiled code, holding `items`."""
        raise NotImplementedError

    def made_here(self, container):
        """`container`, noted as made by the compiled code on the current path."""
        raise NotImplementedError

    def check_growable(self, seq, node):
        """Refuse growing a list that run-time code or another path also sees."""
        raise NotImplementedError

    # ----- what the expression part (ExpressionSpecializer) provides
    def expr(self, node):
        """The value of an expression node."""
        raise NotImplementedError

    def expr_Attribute(self, node):
        """The value of an attribute expression."""
        raise NotImplementedError

    def binary(self, op, left, right, node):
        """The value of a binary operation on two values."""
        raise NotImplementedError

    def index_expr(self, index):
        """An index value as the expression of a subscript."""
        raise NotImplementedError

    def shown(self, value):
        """A value as code that what prints it sees (NDArrays as imperatively)."""
        raise NotImplementedError

    def raised_at_run_time(self, error):
        """The value of an expression that raises `error` when the program runs there."""
        raise NotImplementedError

    # ----- what the call part (CallSpecializer) provides
    def call_arguments(self, node, run_time_items=False):
        """The positional and keyword argument values of a call node."""
        raise NotImplementedError
