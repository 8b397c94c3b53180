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
from ..toolkit import call as _call, name as _name, replace
from ... import autograd
from ..backend import constant, origin_of_marker
from . import anf
from .errors import UnsupportedConstruct

_BINARY_NAMES = {ast.Add: "Add", ast.Sub: "Sub", ast.Mult: "Mult", ast.Div: "Div",
                 ast.Pow: "Pow", ast.Mod: "Mod", ast.FloorDiv: "FloorDiv"}
_NUMPY_METHODS_WITHOUT_GRADIENT = {"item", "tolist"}
# attributes of an array that are not arrays: reading them leaves the graph
_PLAIN_ATTRIBUTES = {"shape", "ndim", "size", "dtype"}
# builtins whose result is never one of their arguments nor an array built from them
PLAIN_RESULT_BUILTINS = {len, int, float, bool, complex, str, repr, format, ascii, range,
                         isinstance, issubclass, callable, hasattr, type, print, id, hash}
_EXITS = runtime.GRAPH_EXITS
_LIST_GROWERS = {"append": adjoint.append_vjp, "extend": adjoint.extend_vjp}

# a statement undone in the backward program: its target's earlier value and gradient
_RESTORE = """
output_value = target
target = pop()
output_gradient = gradient
gradient = None
"""
_UNDO_ASSIGNMENT = _RESTORE + """
if output_gradient is not None:
    contributions
"""
_UNDO_GROWTH = """
grown = pop()
output_gradient = gradient
gradient = None
if output_gradient is not None:
    contributions
"""


class _Reverser:
    def __init__(self, function, kernel_ops, namer, namespace):
        self.maybe_unbound = frozenset()    # variables a run-time path leaves unset
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
            if _is_marker(statement):
                self.location = origin_of_marker(statement) or self.location
                out.append(statement)
                continue
            self.check_no_write_into_array(statement)
            out.extend(self.bound_checks(statement))
            if isinstance(statement, ast.Assign):
                target = statement.targets[0]
                if not isinstance(target, ast.Name):
                    raise self.unsupported("assignment into an array", statement)
                out.append(ast.Expr(_call(self.push, _name(target.id))))
                out.append(statement)
            elif isinstance(statement, ast.Return):
                value = statement.value if statement.value is not None else ast.Constant(None)
                out.append(ast.Expr(_call(self.push, _name(self.result))))
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
    def reverse(self, body):
        out = []
        pending_marker = None
        groups = []
        for statement in body:
            if _is_marker(statement):
                pending_marker = statement
                continue
            groups.append((pending_marker, statement))
        for marker, statement in reversed(groups):
            code = self.adjoint(statement)
            if code:
                if marker is not None:
                    out.append(marker)
                out.extend(code)
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
            return [ast.If(_call(self.pop), self.reverse(statement.body) or [ast.Pass()],
                           self.reverse(statement.orelse))]
        if isinstance(statement, ast.While):
            return [ast.For(_name("_", True), _call("range", _call(self.pop)),
                            self.reverse(statement.body) or [ast.Pass()], [])]
        if isinstance(statement, ast.For):
            restore = _assign(statement.target.id, _call(self.pop))
            return [ast.For(_name("_", True), _call("range", _call(self.pop)),
                            self.reverse(statement.body) + [restore], [])]
        return []

    def adjoint_assign(self, target, value):
        """`target = value` undone: the value before it comes back from the stack, and the
        gradient of `target` flows into what `value` read."""
        contributions = self.contributions(value)
        return replace(_UNDO_ASSIGNMENT if contributions else _RESTORE, target=target,
                       gradient=self.gradient(target), pop=self.pop,
                       output_value=self.output_value, output_gradient=self.output_gradient,
                       contributions=contributions)

    def adjoint_growth(self, grown, call):
        """`items.append(v)` / `items.extend(vs)`: the list's gradient splits into its earlier
        items' and the added items'; the earlier contents come back from the stack."""
        gradient = self.gradient(grown)
        parts = self.namer.fresh("parts")
        vjp = self.helper(_LIST_GROWERS[call.func.attr], f"{call.func.attr}_vjp")
        contributions = [_assign(parts, _call(vjp, _name(grown), _name(self.output_gradient))),
                         _assign(gradient, ast.Subscript(_name(parts), ast.Constant(0),
                                                         ast.Load()))]
        contributions += self.add_to(call.args[0], ast.Subscript(_name(parts), ast.Constant(1),
                                                                 ast.Load()))
        return replace(_UNDO_GROWTH, grown=grown, pop=self.pop, gradient=gradient,
                       output_gradient=self.output_gradient, contributions=contributions)

    def add_to(self, node, contribution):
        if not isinstance(node, ast.Name):
            return []
        gradient = self.gradient(node.id)
        accumulate = self.helper(adjoint.accumulate, "accumulate")
        return [_assign(gradient, _call(accumulate, _name(gradient), contribution))]

    def contributions(self, value):
        g = _name(self.output_gradient)
        if isinstance(value, ast.Name):
            return self.add_to(value, g)
        if isinstance(value, ast.Constant):
            return []
        if isinstance(value, ast.BinOp):
            operator_name = _BINARY_NAMES.get(type(value.op))
            if operator_name is None:
                raise self.unsupported(f"the operator {type(value.op).__name__}", value)
            pair = self.namer.fresh("pair")
            vjp = self.helper(adjoint.binop_vjp, "binop_vjp")
            code = [_assign(pair, _call(vjp, ast.Constant(operator_name), value.left,
                                        value.right, _name(self.output_value), g))]
            code += self.add_to(value.left, ast.Subscript(_name(pair), ast.Constant(0), ast.Load()))
            code += self.add_to(value.right,
                                ast.Subscript(_name(pair), ast.Constant(1), ast.Load()))
            return code
        if isinstance(value, ast.UnaryOp):
            if isinstance(value.op, ast.USub):
                return self.add_to(value.operand, _call(self.helper(adjoint.negate, "negate"), g))
            if isinstance(value.op, ast.UAdd):
                return self.add_to(value.operand, g)
            return []
        if isinstance(value, ast.Subscript):
            vjp = self.helper(adjoint.subscript_vjp, "subscript_vjp")
            index = value.slice
            if isinstance(index, ast.Slice) or (isinstance(index, ast.Tuple) and any(
                    isinstance(e, ast.Slice) for e in index.elts)):
                index = _index_value(index)
            return self.add_to(value.value, _call(vjp, value.value, index, g))
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
            parts = self.namer.fresh("input_grads")
            literal = _literal_values(every)
            if literal is not None and op.grad is not None and op.output_count(literal) == 1:
                # the common case, called directly: the operator's gradient with its
                # attributes as one constant, its one output and output gradient as lists
                grad = self.helper(adjoint.reaching(op.grad), f"{function.id}_grad")
                attrs_name = self.helper(literal, f"{function.id}_attrs")
                direct = _call(grad, attrs_name, ast.List(list(call.args), ast.Load()),
                               ast.List([_name(self.output_value)], ast.Load()),
                               ast.List([g], ast.Load()))
                into = [self.destinations.get(a.id) if isinstance(a, ast.Name) else None
                        for a in call.args]
                if getattr(op.grad, "writes_into", False) and any(into):
                    self.used_destinations.update(d for d in into if d)
                    direct.keywords.append(ast.keyword("out", ast.List(
                        [_name(d) if d else ast.Constant(None) for d in into], ast.Load())))
                code = [_assign(parts, direct)]
            else:
                attrs = ast.Dict([ast.Constant(k) for k in every], list(every.values()))
                vjp = self.helper(adjoint.kernel_vjp, "kernel_vjp")
                code = [_assign(parts, _call(vjp, self.helper(op, f"{function.id}_op"), attrs,
                                             ast.Tuple(list(call.args), ast.Load()),
                                             _name(self.output_value), g))]
            for i, argument in enumerate(call.args):
                part = ast.Subscript(_name(parts), ast.Constant(i), ast.Load())
                code += self.add_to(argument, part)
            return code
        if isinstance(function, ast.Attribute):
            if function.attr == "copy":
                return self.add_to(function.value, g)
            if function.attr in _NUMPY_METHODS_WITHOUT_GRADIENT:
                return []
        callee = self.callee(function)
        if callee is builtins.sum and len(call.args) == 1 and not call.keywords:
            # a run-time list (a written-out one is unrolled into additions)
            vjp = self.helper(adjoint.sum_vjp, "sum_vjp")
            return self.add_to(call.args[0], _call(vjp, call.args[0], g))
        if callee is runtime.variadic:
            vjp = self.helper(adjoint.variadic_vjp, "variadic_vjp")
            return self.add_to(call.args[0], _call(vjp, *call.args, _name(self.output_value), g))
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


def _is_marker(statement):
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


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


def transform(function, kernel_ops, namer, namespace, filename="<program>",
              maybe_unbound=frozenset()):
    """(recording forward, backward) FunctionDefs for the program `function`.

    recording(*arguments) returns (result, stack, final values of every variable);
    backward(stack, values, result_gradient, destinations=None) returns one gradient (or None)
    per argument; destinations (None, or one array or None per argument) are buffers that
    a kernel accepting out= may compute an argument's whole gradient into and return."""
    normal = anf.transform(function, namer)
    reverser = _Reverser(normal, kernel_ops, namer, namespace)
    reverser.differentiable = differentiable_names(normal, reverser.callee, kernel_ops)
    reverser.beside_differentiable = _read_beside(normal, reverser.reads_differentiable)
    reverser.numbers = _number_names(normal, reverser.callee)
    reverser.location = (filename, function.lineno if hasattr(function, "lineno") else 0)
    reverser.maybe_unbound = frozenset(maybe_unbound)
    arguments = [a.arg for a in function.args.args]
    recorded = reverser.record(normal.body)
    variables = [n for n in _assigned_names(recorded) if n not in arguments]
    variables = [v for v in variables if v != reverser.result] + [reverser.result]
    prologue = [_assign(reverser.stack, ast.List([], ast.Load())),
                _assign(reverser.push, ast.Attribute(_name(reverser.stack), "append", ast.Load()))]
    # every variable starts set (the values tuple reads them all); one a run-time path may
    # leave unset starts as runtime.UNBOUND, which reading it checks for
    unbound = reverser.helper(runtime.UNBOUND, "unbound")
    prologue += [_assign(v, unbound if v in reverser.maybe_unbound else ast.Constant(None))
                 for v in variables]
    everything = arguments + variables
    values = ast.Tuple([_name(v) for v in everything], ast.Load())
    record_def = ast.FunctionDef(
        namer.fresh(f"{function.name}_recording"), function.args,
        prologue + recorded + [ast.Return(ast.Tuple([_name(reverser.result),
                                                     _name(reverser.stack), values],
                                                    ast.Load()))], [], None)
    eligible = _single_use_arguments(normal.body, arguments)
    reverser.destinations = {a: namer.fresh(f"into_{a}") for a in eligible}
    reversed_body = reverser.reverse(normal.body)
    result_gradient = namer.fresh("result_gradient")
    values_name = namer.fresh("values")
    destinations_name = namer.fresh("destinations")
    gradients = [reverser.gradient(v) for v in everything]
    start = [_assign(reverser.pop, ast.Attribute(_name(reverser.stack), "pop", ast.Load())),
             ast.Assign([ast.Tuple([_name(v, True) for v in everything], ast.Store())],
                        _name(values_name))]
    start += [_assign(g, ast.Constant(None)) for g in gradients]
    start.append(_assign(reverser.gradient(reverser.result), _name(result_gradient)))
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
    finish = [ast.Return(ast.Tuple([_name(reverser.gradient(a)) for a in arguments], ast.Load()))]
    backward_def = ast.FunctionDef(
        namer.fresh(f"{function.name}_backward"),
        ast.arguments([], [ast.arg(reverser.stack), ast.arg(values_name),
                           ast.arg(result_gradient), ast.arg(destinations_name)], None, [], [],
                      None, [ast.Constant(None)]),
        start + reversed_body + finish, [], None)
    return record_def, backward_def
