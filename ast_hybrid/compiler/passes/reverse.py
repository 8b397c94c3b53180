"""Reverse mode: from a forward program, a recording forward and a backward program.

The recording forward is the program in A-normal form that, before overwriting a variable,
pushes its old value on a stack, and pushes each branch decision and loop trip count. The
backward program walks the statements in reverse: for `y = f(a, b)` it takes y's value and
gradient, restores y's old value from the stack, and adds f's vector-Jacobian products to the
gradients of a and b; branches and loops replay the decisions the forward call made.
"""
import ast
import builtins

import numpy as np

from .. import adjoint, runtime
from ..toolkit import assign as _assign, assigned_names as _assigned_names
from ..toolkit import call as _call, name as _name
from ... import autograd
from ..backend import constant
from ..origins import line_of, origin_of, spread, with_origin
from . import anf, rebindings
from .errors import UnsupportedConstruct

_BINARY_VJPS = {ast.Add: adjoint.add_vjp, ast.Sub: adjoint.sub_vjp, ast.Mult: adjoint.mult_vjp,
                ast.Div: adjoint.div_vjp, ast.Pow: adjoint.pow_vjp, ast.Mod: adjoint.mod_vjp,
                ast.FloorDiv: adjoint.floordiv_vjp}
_NUMPY_METHODS_WITHOUT_GRADIENT = {"item", "tolist"}
# attributes of an array that are not arrays: reading them leaves the graph
_PLAIN_ATTRIBUTES = {"shape", "ndim", "size", "dtype"}
# builtins whose result is never one of their arguments nor an array built from them
PLAIN_RESULT_BUILTINS = {len, int, float, bool, complex, str, repr, format, ascii, range,
                         isinstance, issubclass, callable, hasattr, type, print, id, hash}
_EXITS = runtime.GRAPH_EXITS
_LIST_GROWERS = {"append": adjoint.append_vjp, "extend": adjoint.extend_vjp}

class _Reverser:
    def __init__(self, function, kernel_ops, namer, namespace, optimize=True):
        self.maybe_unbound = frozenset()    # variables a run-time path leaves unset
        self.optimize = optimize
        self.once = set()       # variables assigned once, outside loops: never restored
        self.arrays = set()     # variables that always hold one array
        # where the backward program being written is: gradients known to hold a value, and
        # those that may (outside them a gradient is None); inside a loop any may
        self.present = set()
        self.possible = set()
        self.looping = 0
        self.function = function
        self.kernel_ops = kernel_ops
        self.namer = namer
        self.namespace = namespace
        self.helpers = {}
        self.gradient_names = {}
        self.location = ("<program>", 0)   # the user's line of the statement at hand
        self.result = namer.fresh("result")
        self.stack = namer.fresh("stack")
        self.push = namer.fresh("push")
        self.pop = namer.fresh("pop")
        self.output_value = namer.fresh("output_value")
        self.output_gradient = namer.fresh("output_gradient")
        # the value and gradient of the statement being undone, as its adjoint reads them
        self.value_read, self.gradient_read = self.output_value, self.output_gradient
        # arguments whose gradient a kernel may write straight into the caller's buffer
        # (`destinations`): {argument: name of its destination variable}
        self.destinations = {}
        self.used_destinations = set()
        self.no_gradient = runtime.GRAPH_EXITS + (autograd.is_training, autograd.is_recording)

    def unsupported(self, construct, node):
        filename, line = self.location
        return UnsupportedConstruct(f"differentiating {construct}", filename, line)

    def helper(self, value, hint):
        key = id(value)
        if key not in self.helpers:
            name = self.namer.fresh(hint)
            self.namespace[name] = value
            self.helpers[key] = name
        return _name(self.helpers[key])

    def gradient(self, variable):
        if variable not in self.gradient_names:
            self.gradient_names[variable] = self.namer.fresh(f"grad_{variable}")
        return self.gradient_names[variable]

    # ----- the recording forward
    def record(self, body):
        out = []
        for statement in body:
            self.location = line_of(statement) or self.location
            out.extend(spread(statement, self.recorded(statement)))
        return out

    def recorded(self, statement):
        """The statements recording `statement`."""
        self.check_no_write_into_array(statement)
        out = self.bound_checks(statement)
        if isinstance(statement, ast.Assign):
            target = statement.targets[0]
            if not isinstance(target, ast.Name):
                raise self.unsupported("assignment into an array", statement)
            out.extend(self.saved(target.id))
            out.append(statement)
        elif isinstance(statement, ast.Return):
            value = statement.value if statement.value is not None else ast.Constant(None)
            out.extend(self.saved(self.result))
            out.append(_assign(self.result, value))
        elif isinstance(statement, ast.If):
            # the decision is pushed after the branch, so it is popped before replaying it
            flag = self.namer.fresh("taken")
            out.append(_assign(flag, _call("bool", statement.test)))
            out.append(ast.If(_name(flag), self.record(statement.body) or [ast.Pass()],
                              self.record(statement.orelse)))
            out.append(ast.Expr(_call(self.push, _name(flag))))
        elif isinstance(statement, (ast.While, ast.For)):
            out.extend(self.record_loop(statement))
        elif isinstance(statement, (ast.Break, ast.Continue)):
            raise self.unsupported("break or continue", statement)
        elif _grown_list(statement) is not None:
            grown = _grown_list(statement)
            out.append(ast.Expr(_call(self.push, _call("list", _name(grown)))))
            out.append(statement)
        elif isinstance(statement, ast.Expr):
            self.check_effect_free(statement.value)
            out.append(statement)
        elif isinstance(statement, (ast.Pass, ast.Assert, ast.Raise)):
            out.append(statement)
        elif isinstance(statement, ast.With):
            # autograd.pause() stops recording in its body: the reverse pass would have
            # to leave exactly its operators out, which it does not model
            raise self.unsupported("a with statement (the operators its body records)",
                                   statement)
        else:
            raise self.unsupported(f"a {type(statement).__name__} statement", statement)
        return out

    def saved(self, variable):
        """Before an assignment: the push that keeps the variable's earlier value."""
        if variable in self.once:
            return []
        return [ast.Expr(_call(self.push, _name(variable)))]

    def bound_checks(self, statement):
        """Before a statement reads a variable a run-time path may leave unset: the check
        that raises UnboundLocalError there, as the forward program's read does."""
        if not self.maybe_unbound:
            return []
        read = [getattr(statement, part) for part in ("value", "test", "iter")
                if isinstance(getattr(statement, part, None), ast.AST)]
        names = sorted({n.id for part in read for n in ast.walk(part)
                        if isinstance(n, ast.Name) and n.id in self.maybe_unbound})
        check = self.helper(runtime.check_bound, "check_bound")
        return [ast.Expr(_call(check, _name(n), ast.Constant(n))) for n in names]

    def check_no_write_into_array(self, statement):
        """While recording, MXNet refuses an in-place write into an array depending on which
        arrays a live graph holds at that moment (autograd.check_inplace_write), which only
        running imperatively knows."""
        if isinstance(statement, (ast.Assign, ast.Expr)):
            for node in ast.walk(statement.value):
                if isinstance(node, ast.Call) and any(self.callee(node.func) is m
                                                      for m in runtime.MUTATORS) \
                        and not self.writes_only_numbers(node):
                    raise self.unsupported("an in-place write into an array (x += y, x[i] = v, "
                                           "out=) while recording", node)

    def writes_only_numbers(self, call):
        """Whether `x op= y` on a value that may be an array or a number (a counter) cannot
        write into an array MXNet would refuse: neither side comes from the arguments, and
        no operation on a value that does ever read x (then x is a number or a constant
        array outside every graph)."""
        if self.callee(call.func) is not runtime.update_or_rebind:
            return False
        target = call.args[0]
        if not isinstance(target, ast.Name) or self.reads_differentiable(call):
            return False
        return target.id in self.numbers or target.id not in self.beside_differentiable

    def check_effect_free(self, expr):
        """An expression statement may change what it is given; one that may change a value
        a gradient flows through is refused, unless it is print or a kernel (pure)."""
        if not isinstance(expr, ast.Call) or not self.reads_differentiable(expr):
            return
        function = expr.func
        if isinstance(function, ast.Name) and (function.id in self.kernel_ops
                                               or self.namespace.get(function.id) is print
                                               or function.id == "print"):
            return
        raise self.unsupported("a call that may change a value the gradient flows through",
                               expr)

    def reads_differentiable(self, node):
        return _carries(node, self.differentiable, self.callee, self.kernel_ops)

    def record_loop(self, statement):
        count = self.namer.fresh("trips")
        increment = _assign(count, ast.BinOp(_name(count), ast.Add(), ast.Constant(1)))
        body = [increment] + self.record(statement.body)
        if isinstance(statement, ast.While):
            loop = ast.While(statement.test, body, [])
        else:
            if not (isinstance(statement.iter, ast.Call)
                    and isinstance(statement.iter.func, ast.Name)
                    and statement.iter.func.id == "range"):
                raise self.unsupported("a loop over values other than range()", statement)
            item = self.namer.fresh("item")
            target = statement.target.id
            body = [increment, ast.Expr(_call(self.push, _name(target))),
                    _assign(target, _name(item))] + self.record(statement.body)
            loop = ast.For(_name(item, True), statement.iter, body, [])
        return [_assign(count, ast.Constant(0)), loop, ast.Expr(_call(self.push, _name(count)))]

    # ----- the backward program
    def may_hold(self, gradient):
        """Whether a gradient may hold a value where the backward program is."""
        return not self.optimize or self.looping > 0 or gradient in self.possible

    def wants_gradient(self, variable):
        """Whether a variable's gradient can reach an argument's."""
        return not self.optimize or variable in self.differentiable

    def reverse(self, body):
        """The adjoints of `body`'s statements, last first, each with its statement's origin
        (one a statement without its own inherits, in the forward order)."""
        out = []
        groups = []
        origin = None
        for statement in body:
            origin = origin_of(statement) or origin
            groups.append((origin, statement))
        for origin, statement in reversed(groups):
            out.extend(with_origin(origin, self.adjoint(statement)))
        return out

    def adjoint(self, statement):
        grown = _grown_list(statement)
        if grown is not None:
            return self.adjoint_growth(grown, statement.value)
        if isinstance(statement, ast.Assign):
            return self.adjoint_assign(statement.targets[0].id, statement.value)
        if isinstance(statement, ast.Return):
            value = statement.value if statement.value is not None else ast.Constant(None)
            return self.adjoint_assign(self.result, value)
        if isinstance(statement, ast.If):
            before = set(self.present), set(self.possible)
            body = self.reverse(statement.body)
            after_body = self.present, self.possible
            self.present, self.possible = set(before[0]), set(before[1])
            orelse = self.reverse(statement.orelse)
            self.present &= after_body[0]
            self.possible |= after_body[1]
            return [ast.If(_call(self.pop), body or [ast.Pass()], orelse)]
        if isinstance(statement, (ast.While, ast.For)):
            # every iteration starts knowing what the loop's restores leave known
            # (and the loop may run no iteration)
            self.present -= {self.gradient(v) for v in _assigned_names([statement])}
            entry = set(self.present)
            self.looping += 1
            body = self.reverse(statement.body)
            self.looping -= 1
            self.present = entry
            if isinstance(statement, ast.While):
                return [ast.For(_name("_", True), _call("range", _call(self.pop)),
                                body or [ast.Pass()], [])]
            restore = _assign(statement.target.id, _call(self.pop))
            return [ast.For(_name("_", True), _call("range", _call(self.pop)),
                            body + [restore], [])]
        return []

    def adjoint_assign(self, target, value):
        """`target = value` undone: the gradient of `target` flows into what `value` read;
        a reassigned target's value before the assignment comes back from the stack first,
        and its gradient starts again from None."""
        gradient = self.gradient(target)
        known, live = self.optimize and gradient in self.present, self.may_hold(gradient)
        if self.optimize and target in self.once:
            if not live:
                return []
            self.value_read, self.gradient_read = target, gradient
            return self.guarded(value, known)
        self.present.discard(gradient)
        self.possible.discard(gradient)
        if not live:
            return [_assign(target, _call(self.pop))]
        self.value_read, self.gradient_read = self.output_value, self.output_gradient
        code = [_assign(self.output_value, _name(target)), _assign(target, _call(self.pop)),
                _assign(self.output_gradient, _name(gradient)),
                _assign(gradient, ast.Constant(None))]
        return code + self.guarded(value, known)

    def guarded(self, value, known):
        """The contributions of a value's adjoint, tested for a gradient unless it is known
        to hold one (what they make known holds only inside the test)."""
        before = set(self.present)
        contributions = self.contributions(value)
        if not contributions or known:
            return contributions
        self.present = before
        return [ast.If(ast.Compare(_name(self.gradient_read), [ast.IsNot()],
                                   [ast.Constant(None)]), contributions, [])]

    def adjoint_growth(self, grown, call):
        """`items.append(v)` / `items.extend(vs)`: the list's gradient splits into its earlier
        items' and the added items'; the earlier contents come back from the stack."""
        gradient = self.gradient(grown)
        known = self.optimize and gradient in self.present
        self.present.discard(gradient)
        parts = self.namer.fresh("parts")
        vjp = self.helper(_LIST_GROWERS[call.func.attr], f"{call.func.attr}_vjp")
        self.value_read, self.gradient_read = grown, self.output_gradient
        code = [_assign(grown, _call(self.pop)),
                _assign(self.output_gradient, _name(gradient)),
                _assign(gradient, ast.Constant(None))]
        before = set(self.present)
        contributions = [_assign(parts, _call(vjp, _name(grown), _name(self.output_gradient))),
                         _assign(gradient, ast.Subscript(_name(parts), ast.Constant(0),
                                                         ast.Load()))]
        self.possible.add(gradient)
        contributions += self.add_to(call.args[0], ast.Subscript(_name(parts), ast.Constant(1),
                                                                 ast.Load()))
        if known:
            return code + contributions
        self.present = before
        return code + [ast.If(ast.Compare(_name(self.output_gradient), [ast.IsNot()],
                                          [ast.Constant(None)]), contributions, [])]

    def add_to(self, node, contribution, known=False):
        """`contribution` added to the gradient of `node` (a variable); `known`: it is never
        None. The first contribution on every path is assigned as it is."""
        if not isinstance(node, ast.Name) or not self.wants_gradient(node.id):
            return []
        gradient = self.gradient(node.id)
        if self.may_hold(gradient):
            accumulate = self.helper(adjoint.accumulate, "accumulate")
            contribution = _call(accumulate, _name(gradient), contribution)
        self.possible.add(gradient)
        if known and self.optimize:
            self.present.add(gradient)
        return [_assign(gradient, contribution)]

    def spread(self, call, arguments, known):
        """`call` returns one gradient per argument: each added to its argument's; where it
        is the first, the result is unpacked straight into the gradients."""
        wanted = [a.id if isinstance(a, ast.Name) and self.wants_gradient(a.id) else None
                  for a in arguments]
        if not any(wanted):
            return []
        targets, later = [], []
        for variable, certain in zip(wanted, known):
            if variable is None:
                targets.append("_")
                continue
            gradient = self.gradient(variable)
            if wanted.count(variable) == 1 and not self.may_hold(gradient):
                targets.append(gradient)
                self.possible.add(gradient)
                if certain and self.optimize:
                    self.present.add(gradient)
                continue
            part = self.namer.fresh(f"{gradient}_part")
            targets.append(part)
            later.append((variable, part, certain))
        if len(targets) == 1:
            first = [_assign(targets[0], ast.Subscript(call, ast.Constant(0), ast.Load()))]
        else:
            first = [ast.Assign([ast.Tuple([_name(t, True) for t in targets], ast.Store())],
                                call)]
        for variable, part, certain in later:
            first += self.add_to(_name(variable), _name(part), certain)
        return first

    def is_array(self, node):
        return isinstance(node, ast.Name) and node.id in self.arrays

    def contributions(self, value):
        g = _name(self.gradient_read)
        if isinstance(value, ast.Name):
            return self.add_to(value, g, known=True)
        if isinstance(value, ast.Constant):
            return []
        if isinstance(value, ast.BinOp):
            vjp_function = _BINARY_VJPS.get(type(value.op))
            if vjp_function is None:
                raise self.unsupported(f"the operator {type(value.op).__name__}", value)
            vjp = self.helper(vjp_function, vjp_function.__name__)
            operands = [value.left, value.right]
            return self.spread(_call(vjp, *operands, _name(self.value_read), g), operands,
                               [self.is_array(o) for o in operands])
        if isinstance(value, ast.UnaryOp):
            if isinstance(value.op, ast.USub):
                if self.optimize:     # the gradient at hand is never None
                    return self.add_to(value.operand, ast.UnaryOp(ast.USub(), g), known=True)
                return self.add_to(value.operand, _call(self.helper(adjoint.negate, "negate"), g))
            if isinstance(value.op, ast.UAdd):
                return self.add_to(value.operand, g, known=True)
            return []
        if isinstance(value, ast.Subscript):
            vjp = self.helper(adjoint.subscript_vjp, "subscript_vjp")
            index = value.slice
            if isinstance(index, ast.Slice) or (isinstance(index, ast.Tuple) and any(
                    isinstance(e, ast.Slice) for e in index.elts)):
                index = _index_value(index)
            return self.add_to(value.value, _call(vjp, value.value, index, g),
                               known=self.is_array(value.value))
        if isinstance(value, (ast.Tuple, ast.List)):
            element = self.helper(adjoint.element_gradient, "element_gradient")
            code = []
            for i, item in enumerate(value.elts):
                code += self.add_to(item, _call(element, g, ast.Constant(i)))
            return code
        if isinstance(value, ast.Call):
            return self.call_contributions(value, g)
        if isinstance(value, (ast.Compare, ast.JoinedStr)) or not self.reads_differentiable(value):
            return []
        if isinstance(value, ast.Attribute) and value.attr in _PLAIN_ATTRIBUTES:
            return []
        raise self.unsupported(f"a {type(value).__name__} expression", value)

    def call_contributions(self, call, g):
        function = call.func
        if isinstance(function, ast.Name) and function.id in self.kernel_ops:
            op = self.kernel_ops[function.id]
            if not any(isinstance(a, ast.Name) for a in call.args):
                return []           # a constructor (zeros, random) or constant inputs only
            if op.grad is None:
                raise self.unsupported(f"the operator {op.name}, which declares no gradient",
                                       call)
            given = {k.arg: k.value for k in call.keywords}
            omitted = {k: constant(a.default) for k, a in op.attrs.items()
                       if k not in given and not a.required}   # the forward left defaults out
            every = {**given, **omitted}
            literal = _literal_values(every)
            if literal is not None and op.output_count(literal) == 1:
                # the common case: the operator's gradient bound to its attributes, called
                # on the inputs, the output and its gradient
                bound = op.bound_gradient(literal, specialized=self.optimize)
                grad = self.helper(bound, getattr(bound, "__name__", f"{function.id}_grad"))
                direct = _call(grad, *call.args, _name(self.value_read), g)
                into = [self.destinations.get(a.id) if isinstance(a, ast.Name) else None
                        for a in call.args]
                if getattr(bound, "writes_into", False) and any(into):
                    self.used_destinations.update(d for d in into if d)
                    direct.keywords.append(ast.keyword("out", ast.List(
                        [_name(d) if d else ast.Constant(None) for d in into], ast.Load())))
                # an array input gets an array; one written into a destination may get None
                known = [self.is_array(a) and not d for a, d in zip(call.args, into)]
                return self.spread(direct, call.args, known)
            attrs = ast.Dict([ast.Constant(k) for k in every], list(every.values()))
            vjp = self.helper(adjoint.kernel_vjp, "kernel_vjp")
            return self.spread(_call(vjp, self.helper(op, f"{function.id}_op"), attrs,
                                     ast.Tuple(list(call.args), ast.Load()),
                                     _name(self.value_read), g),
                               call.args, [False] * len(call.args))
        if isinstance(function, ast.Attribute):
            if function.attr == "copy":
                return self.add_to(function.value, g, known=True)
            if function.attr in _NUMPY_METHODS_WITHOUT_GRADIENT:
                return []
        callee = self.callee(function)
        if callee is builtins.sum and len(call.args) == 1 and not call.keywords:
            # a run-time list (a written-out one is unrolled into additions)
            vjp = self.helper(adjoint.sum_vjp, "sum_vjp")
            return self.add_to(call.args[0], _call(vjp, call.args[0], g))
        if callee is runtime.variadic:
            vjp = self.helper(adjoint.variadic_vjp, "variadic_vjp")
            return self.add_to(call.args[0], _call(vjp, *call.args, _name(self.value_read), g))
        vjp_function = next((v for f, v in runtime.GRADIENTS.items() if f is callee), None)
        if vjp_function is not None:
            vjp = self.helper(vjp_function, f"{function.id}_vjp")
            return self.add_to(call.args[0], _call(vjp, *call.args, g))
        if any(callee is f for f in self.no_gradient + tuple(PLAIN_RESULT_BUILTINS)) \
                or _reads_values_only(callee) \
                or not self.reads_differentiable(call):
            return []
        raise self.unsupported(f"a call of {_describe_callee(function)}, whose gradient the "
                               "compiler does not know, on a value the gradient flows through",
                               call)

    def callee(self, function):
        return callee_in(self.namespace, function)


def callee_in(namespace, function):
    """The object a called name stands for: a constant of the program or a builtin."""
    if not isinstance(function, ast.Name):
        return None
    if function.id in namespace:
        return namespace[function.id]
    return getattr(builtins, function.id, None)


def _reads_values_only(function):
    """numpy's and math's functions read an NDArray's values (through __array__ or
    __float__): imperatively their result is outside the graph."""
    module = getattr(function, "__module__", None) or ""
    owner = type(getattr(function, "__self__", None)).__name__
    return (module == "math" or module == "numpy" or module.startswith("numpy.")
            or isinstance(function, np.ufunc)) and owner not in ("Generator", "RandomState")


def _describe_callee(function):
    try:
        return f"{ast.unparse(function)}()"
    except Exception:
        return "a function"


def _grown_list(statement):
    """The name of the list an `items.append(v)` / `items.extend(vs)` statement grows, or None."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        function = statement.value.func
        if isinstance(function, ast.Attribute) and function.attr in _LIST_GROWERS \
                and isinstance(function.value, ast.Name) and len(statement.value.args) == 1 \
                and not statement.value.keywords:
            return function.value.id
    return None


def _carries(node, names, callee, kernels):
    """Whether the value of `node` may depend on one of `names` through something a gradient
    flows through (not through shapes, comparisons, or calls that leave the graph)."""
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Attribute) and node.attr in _PLAIN_ATTRIBUTES:
        return False
    if isinstance(node, ast.Compare):
        return False
    if isinstance(node, ast.Call) and leaves_graph(node, callee, kernels):
        return False
    return any(_carries(child, names, callee, kernels) for child in ast.iter_child_nodes(node))


def leaves_graph(call, callee, kernels):
    """Whether a call's result is outside the autograd graph whatever it is given: not a
    kernel (even one the program binds to a numpy function), and a plain builtin, a graph
    exit, a numpy or math function (they read values), or `.item()`/`.tolist()`."""
    function = call.func
    if isinstance(function, ast.Name) and function.id in kernels:
        return False
    target = callee(function)
    if any(target is f for f in tuple(PLAIN_RESULT_BUILTINS) + _EXITS) \
            or _reads_values_only(target):
        return True
    return isinstance(function, ast.Attribute) and function.attr in _NUMPY_METHODS_WITHOUT_GRADIENT


def differentiable_names(function, callee, kernels):
    """Variables that may hold a value computed from the program's arguments (its input
    arrays and parameters), other than through what leaves the graph (shapes, `.item()`,
    builtins with plain results): a fixed point over the whole body, loops included."""
    names = {a.arg for a in function.args.args}

    def carries(value):
        return _carries(value, names, callee, kernels)

    changed = True
    while changed:
        changed = False
        for node in ast.walk(function):
            stored, value = [], None
            if isinstance(node, ast.Assign):
                stored, value = node.targets, node.value
            elif isinstance(node, ast.For):
                stored, value = [node.target], node.iter
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) \
                    and isinstance(node.value.func, ast.Attribute):
                stored, value = [node.value.func.value], node.value
            if value is None or not carries(value):
                continue
            for target in stored:
                for n in ast.walk(target):
                    if isinstance(n, ast.Name) and n.id not in names:
                        names.add(n.id)
                        changed = True
    return names


def _read_beside(function, reads_differentiable):
    """Names that an operation reads together with a value computed from the arguments, or
    that a container holds (and so may pass to one)."""
    names = set()
    for node in ast.walk(function):
        if isinstance(node, (ast.Call, ast.BinOp, ast.Compare)) and any(
                reads_differentiable(child) for child in ast.iter_child_nodes(node)
                if isinstance(child, ast.expr)):
            names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            names.update(n.id for a in node.args for n in ast.walk(a) if isinstance(n, ast.Name))
    return names


_NUMBER_RESULTS = (len, int, float, bool, round)


def _number_names(function, callee):
    """Variables that only ever hold Python numbers: every assignment to them is a number, a
    plain builtin's or `.item()`'s result, or arithmetic on those (a loop counter)."""
    assigned = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            assigned.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            assigned.setdefault(node.target.id, []).append(node.iter)
    arguments = {a.arg for a in function.args.args}
    numbers = set(assigned) - arguments

    def number(value):
        if isinstance(value, ast.Constant):
            return isinstance(value.value, (int, float, bool))
        if isinstance(value, ast.Name):
            return value.id in numbers
        if isinstance(value, ast.BinOp):
            return number(value.left) and number(value.right)
        if isinstance(value, ast.UnaryOp):
            return number(value.operand)
        if isinstance(value, ast.Call):
            target = callee(value.func)
            if target is range:         # a loop over range() binds numbers
                return True
            if target is runtime.update_or_rebind:
                return number(value.args[0]) and number(value.args[1])
            if any(target is f for f in _NUMBER_RESULTS):
                return True
            return isinstance(value.func, ast.Attribute) and value.func.attr == "item"
        return False

    changed = True
    while changed:
        changed = False
        for name in sorted(numbers):
            if not all(number(v) for v in assigned[name]):
                numbers.discard(name)
                changed = True
    return numbers


def _literal_values(expressions):
    """{name: value} when every expression is a literal, else None."""
    try:
        return {k: ast.literal_eval(v) for k, v in expressions.items()}
    except ValueError:
        return None


def _index_value(index):
    """A subscript's index as an expression value (slices as slice(...) calls)."""
    if isinstance(index, ast.Slice):
        parts = [p if p is not None else ast.Constant(None)
                 for p in (index.lower, index.upper, index.step)]
        return _call("slice", *parts)
    if isinstance(index, ast.Tuple):
        return ast.Tuple([_index_value(e) for e in index.elts], ast.Load())
    return index


def _single_use_arguments(body, arguments):
    """Arguments read exactly once in the program, outside every loop, and never assigned:
    the one kernel that reads such an argument gives its whole gradient, so that kernel may
    write it straight into the caller's buffer (nothing else adds to it or reads it)."""
    counts = dict.fromkeys(arguments, 0)
    in_loop = set()

    def visit(node, looping):
        if isinstance(node, ast.Name) and node.id in counts:
            if isinstance(node.ctx, ast.Load):
                counts[node.id] += 1
                if looping:
                    in_loop.add(node.id)
            else:
                counts[node.id] += 2        # assigned: never eligible
        looping = looping or isinstance(node, (ast.For, ast.While))
        for child in ast.iter_child_nodes(node):
            visit(child, looping)

    for statement in body:
        visit(statement, False)
    return [a for a in arguments if counts[a] == 1 and a not in in_loop]


def _assigned_once(body, excluded):
    """Variables assigned by exactly one statement of `body` (a return assigning the
    result), outside every loop, other than `excluded`."""
    counts, looped = {}, set()

    def visit(statements, looping):
        for statement in statements:
            if isinstance(statement, ast.Return):
                targets = [_RESULT]
            elif isinstance(statement, (ast.Assign, ast.For)):
                targets = _assigned_names(statement.targets if isinstance(statement, ast.Assign)
                                          else [ast.Assign([statement.target], None)])
            else:
                targets = []
            for target in targets:
                counts[target] = counts.get(target, 0) + 1
                if looping or isinstance(statement, ast.For):    # a loop's target too
                    looped.add(target)
            inner = looping or isinstance(statement, (ast.For, ast.While))
            for part in ("body", "orelse"):
                nested = getattr(statement, part, None)
                if isinstance(nested, list):
                    visit(nested, inner)

    visit(body, False)
    return {v for v, count in counts.items() if count == 1 and v not in looped
            and v not in excluded}


_RESULT = object()      # stands for the result variable in _assigned_once's counts


def _array_names(body, arguments, kernel_ops):
    """Variables that always hold one array: the arguments, and those every assignment of
    which is a call of a kernel of one output."""
    assigned = {}
    for node in ast.walk(ast.Module(list(body), [])):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for n in ast.walk(target):
                    if isinstance(n, ast.Name):
                        assigned.setdefault(n.id, []).append(
                            node.value if target is n else None)
        elif isinstance(node, ast.For):
            for n in ast.walk(node.target):
                if isinstance(n, ast.Name):
                    assigned.setdefault(n.id, []).append(None)

    def one_array(value):
        return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
            and value.func.id in kernel_ops and kernel_ops[value.func.id].num_outputs == 1

    kernels = {v for v, values in assigned.items() if all(one_array(x) for x in values)}
    return (set(arguments) - set(assigned)) | kernels


def unset_reads(statements, bound=()):
    """Variables some statement reads where a path to it may leave them unassigned (loops
    may run no iteration; each branch assigns its own)."""
    found = set()

    def reads(node):
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                and isinstance(n.ctx, ast.Load)}

    def block(body, assigned):
        for statement in body:
            assigned = single(statement, assigned)
        return assigned

    def single(statement, assigned):
        if isinstance(statement, ast.If):
            found.update(reads(statement.test) - assigned)
            return block(statement.body, set(assigned)) & block(statement.orelse, set(assigned))
        if isinstance(statement, (ast.For, ast.While)):
            head = statement.iter if isinstance(statement, ast.For) else statement.test
            found.update(reads(head) - assigned)
            inside = set(assigned)
            if isinstance(statement, ast.For):
                inside |= set(_assigned_names([ast.Assign([statement.target], None)]))
            block(statement.body, inside)
            return assigned
        found.update(reads(statement) - assigned)
        return assigned | set(_assigned_names([statement]))

    block(statements, set(bound))
    return found


def transform(function, kernel_ops, namer, namespace, filename="<program>",
              maybe_unbound=frozenset(), optimize=None):
    """(recording forward, backward) FunctionDefs for the program `function`.

    recording(*arguments) returns (result, stack, the values of the variables the backward
    program reads); backward(stack, values, result_gradient, destinations=None) returns one
    gradient (or None) per argument; destinations (None, or one array or None per argument)
    are buffers that a kernel accepting out= may compute an argument's whole gradient into
    and return. `optimize`, where given, rewrites a FunctionDef keeping what it computes
    (see compiler.optimize); it turns this pass's own optimizations on too (see above)."""
    normal = anf.transform(function, namer)
    if optimize is not None:
        normal = rebindings.transform(normal, namer)
    reverser = _Reverser(normal, kernel_ops, namer, namespace, optimize is not None)
    reverser.differentiable = differentiable_names(normal, reverser.callee, kernel_ops)
    reverser.beside_differentiable = _read_beside(normal, reverser.reads_differentiable)
    reverser.numbers = _number_names(normal, reverser.callee)
    reverser.location = (filename, function.lineno if hasattr(function, "lineno") else 0)
    reverser.maybe_unbound = frozenset(maybe_unbound)
    arguments = [a.arg for a in function.args.args]
    if reverser.optimize:
        once = _assigned_once(normal.body, set(arguments))
        reverser.once = {reverser.result if v is _RESULT else v for v in once}
        reverser.arrays = _array_names(normal.body, arguments, kernel_ops)
    recorded = reverser.record(normal.body)
    variables = [n for n in _assigned_names(recorded) if n not in arguments]
    variables = [v for v in variables if v != reverser.result] + [reverser.result]
    everything = arguments + variables

    eligible = _single_use_arguments(normal.body, arguments)
    reverser.destinations = {a: namer.fresh(f"into_{a}") for a in eligible}
    result_gradient = reverser.gradient(reverser.result) if reverser.optimize \
        else namer.fresh("result_gradient")
    reverser.possible.add(reverser.gradient(reverser.result))
    reverser.present.add(reverser.gradient(reverser.result))
    reversed_body = reverser.reverse(normal.body)
    values_name = namer.fresh("values")
    destinations_name = namer.fresh("destinations")
    finish = [ast.Return(ast.Tuple([_name(reverser.gradient(a)) for a in arguments], ast.Load()))]
    start, guard = [], []
    if not reverser.optimize:
        start.append(_assign(reverser.gradient(reverser.result), _name(result_gradient)))
    else:
        # no gradient for the result: none for anything (every adjoint would be skipped)
        guard.append(ast.If(ast.Compare(_name(result_gradient), [ast.Is()],
                                        [ast.Constant(None)]),
                            [ast.Return(ast.Tuple([ast.Constant(None)] * len(arguments),
                                                  ast.Load()))], []))
    used = [a for a in arguments if a in reverser.destinations
            and reverser.destinations[a] in reverser.used_destinations]
    if used:
        # destinations: None, or one buffer (or None) per argument that the argument's
        # gradient may be written into; a kernel writing one returns that buffer
        unpack = ast.Assign([ast.Tuple([_name(reverser.destinations[a], True) if a in used
                                        else _name("_", True) for a in arguments],
                                       ast.Store())], _name(destinations_name))
        start.append(ast.If(ast.Compare(_name(destinations_name), [ast.IsNot()],
                                        [ast.Constant(None)]), [unpack],
                            [_assign(reverser.destinations[a], ast.Constant(None))
                             for a in used]))
    backward_def = ast.FunctionDef(
        namer.fresh(f"{function.name}_backward"),
        ast.arguments([], [ast.arg(reverser.stack), ast.arg(values_name),
                           ast.arg(result_gradient), ast.arg(destinations_name)], None, [], [],
                      None, [ast.Constant(None)]),
        guard + start + reversed_body + finish, [], None)
    if optimize is not None:
        backward_def = optimize(backward_def)
    body = backward_def.body[len(guard):]
    read = {n.id for n in ast.walk(backward_def) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}
    # the values the recording hands over: every variable's, or those the backward reads
    kept = [v for v in everything if v in read] if reverser.optimize else everything
    head = []
    if any(isinstance(n, ast.Name) and n.id == reverser.pop for n in ast.walk(backward_def)):
        head.append(_assign(reverser.pop, ast.Attribute(_name(reverser.stack), "pop",
                                                        ast.Load())))
    if kept:
        head.append(ast.Assign([ast.Tuple([_name(v, True) for v in kept], ast.Store())],
                               _name(values_name)))
    parameters = {result_gradient, values_name, destinations_name, reverser.stack}
    gradients = [reverser.gradient(v) for v in everything]
    if reverser.optimize:
        unset = unset_reads(head + body, parameters)
        gradients = [g for g in gradients if g in unset]
    backward_def.body = guard + head + [_assign(g, ast.Constant(None)) for g in gradients
                                        if g != result_gradient] + body

    values = ast.Tuple([_name(v) for v in kept], ast.Load())
    pushes = any(isinstance(n, ast.Name) and n.id == reverser.push for n in ast.walk(
        ast.Module(recorded, [])))
    record_def = ast.FunctionDef(
        namer.fresh(f"{function.name}_recording"), function.args,
        recorded + [ast.Return(ast.Tuple([_name(reverser.result),
                                          _name(reverser.stack) if pushes
                                          else ast.Tuple([], ast.Load()), values],
                                         ast.Load()))], [], None)
    if optimize is not None:
        record_def = optimize(record_def)
    # every variable read starts set; one a run-time path may leave unset starts as
    # runtime.UNBOUND, which reading it checks for
    initial = variables
    if reverser.optimize:
        unset = unset_reads(record_def.body, set(arguments) | {reverser.stack, reverser.push})
        initial = [v for v in variables if v in unset]
    unbound = reverser.helper(runtime.UNBOUND, "unbound")
    prologue = [_assign(reverser.stack, ast.List([], ast.Load())),
                _assign(reverser.push, ast.Attribute(_name(reverser.stack), "append",
                                                     ast.Load()))] if pushes else []
    prologue += [_assign(v, unbound if v in reverser.maybe_unbound else ast.Constant(None))
                 for v in initial]
    record_def.body = prologue + record_def.body
    return record_def, backward_def
