"""Random `hybrid_forward` programs as Python source, and a differential runner for them.

The generator writes the Python users write (tuple and starred assignment, augmented
assignment, builtins on arrays, comprehensions, lists grown in loops, data-dependent control
flow, helper methods, child blocks, leaving the graph, errors), not only what the compiler
handles today. Each program is a module with a class `Net`; every array variable it makes
has the input shape (2, 3), so programs compose freely and stay shape-correct except where a
deliberate error is drawn. Operations are tame (tanh, sigmoid, sin, relu, *0.5, +1) so that
float32 comparisons at rtol 1e-4 / atol 1e-5 mean something.

`run_differential(program)` runs the program imperatively (the reference) and hybridized in
AST mode (optimize on, optimize off, static_alloc) and in trace mode, and lists every
difference: outputs, input and parameter gradients, printed text, exception types. A
compile-time refusal (UnsupportedConstruct, or a HybridizeFallbackWarning when the backward
program cannot be derived) is counted, not a difference. `finite_differences` and
`judge` say which side is right when imperative and AST disagree on a gradient.

Every feature the generator can draw has a name (`FEATURES`); `programs(exclude=...)`
leaves features out, and a feature name may carry the loop context it is drawn in
(`tuple_assign@runtime`: only inside loops whose trip count is known at run time).
"""
import ast
import contextlib
import hashlib
import importlib.util
import io
import os
import re
import sys
import tempfile
import warnings
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

SHAPE = (2, 3)
RTOL, ATOL = 1e-4, 1e-5

# loop contexts a statement can be drawn in: not in a loop, in a loop unrolled while
# compiling (range of a constant), in a loop over a run-time count (range(x.shape[0])),
# in a while loop whose condition reads arrays
LOOP_CONTEXTS = ("static", "runtime", "while")

EXPRESSION_FEATURES = (
    "op", "dense", "activation", "custom_child", "scale_child", "helper",
    "builtin_sum", "builtin_abs", "builtin_pow", "pow_operator", "builtin_max_norm",
    "builtin_min_norm", "builtin_max_arrays", "float_asscalar", "builtin_len", "ternary",
    "detach", "stop_gradient", "asnumpy", "index", "reduce", "andor",
)
STATEMENT_FEATURES = (
    "assign", "rebind", "tuple_assign", "swap", "starred", "nested_tuple", "chained",
    "augassign", "augassign_list", "augassign_subscript", "setitem",
    "listcomp", "listcomp_cond", "listcomp_nested", "listcomp_datacond", "list_sum",
    "list_grow_static", "list_grow_runtime", "list_grow_while",
    "recurrence_static", "recurrence_runtime", "recurrence_while",
    "if_data", "while_data", "for_static", "for_runtime", "for_rows", "for_enumerate",
    "break", "continue", "print", "print_array", "divmod", "is_training", "early_return",
    "return_in_loop", "nested_def", "lambda", "dict_of_arrays", "rows_comprehension",
    "list_item_assign", "while_and", "try_except", "with_manager",
    "error_axis", "error_shape", "error_dot", "error_index", "error_asscalar",
    "error_bool", "error_divmod", "error_round", "error_unused", "error_static",
)
# ways of writing parts of a statement: a list kept while names in it are rebound
MODIFIER_FEATURES = ("list_of_names",)
FEATURES = EXPRESSION_FEATURES + STATEMENT_FEATURES + MODIFIER_FEATURES


@dataclass(frozen=True)
class Program:
    source: str
    n_inputs: int
    features: frozenset = frozenset()

    def __repr__(self):
        return f"Program(n_inputs={self.n_inputs}, features={sorted(self.features)})\n{self.source}"


def _indent(lines, by=1):
    return ["    " * by + line for line in lines]


@dataclass
class _Context:
    loop: str = None          # None or one of LOOP_CONTEXTS
    in_loop: bool = False     # break/continue allowed
    top: bool = True          # directly in hybrid_forward's body (early return allowed)
    count_name: str = "x"     # an array whose shape[0] is a run-time count
    self_calls: bool = True   # child blocks and helpers may be called


class _Generator:
    def __init__(self, draw, exclude):
        self.draw = draw
        self.exclude = frozenset(exclude)
        self.features = set()
        self.counter = 0
        self.children = []      # (attribute, kind)
        self.helpers = []       # method source lines
        self.custom_classes = []

    # ----- drawing
    def choice(self, items):
        return self.draw(st.sampled_from(list(items)))

    def integer(self, low, high):
        return self.draw(st.integers(low, high))

    def maybe(self, p_true_out_of_4=1):
        return self.draw(st.integers(0, 3)) < p_true_out_of_4

    def fresh(self, stem="v"):
        self.counter += 1
        return f"{stem}{self.counter}"

    def allowed(self, feature, ctx):
        if feature in self.exclude:
            return False
        return not (ctx.loop and f"{feature}@{ctx.loop}" in self.exclude)

    def use(self, feature, ctx):
        self.features.add(feature)
        if ctx.loop:
            self.features.add(f"{feature}@{ctx.loop}")

    # ----- expressions (all of shape SHAPE)
    def threshold(self):
        return self.choice(["0", "0.5", "-0.5", "1.0", "0.1"])

    def condition(self, env, ctx):
        a = self.choice(env)
        form = self.choice(["sum", "mean", "norm", "max", "chain"])
        t = self.threshold()
        if form == "sum":
            return f"{a}.sum() > {t}"
        if form == "chain":
            return f"-1.0 < {a}.mean() < {t}"
        if form == "mean":
            return f"{a}.mean() < {t}"
        if form == "norm":
            return f"F.norm({a}) > {t}"
        return f"{a}.max() > {t}"

    def expression(self, env, ctx, depth=2):
        if depth <= 0 or self.maybe(1):
            return self.choice(env)
        kinds = [k for k in EXPRESSION_FEATURES if self.allowed(k, ctx)]
        if not ctx.self_calls:
            kinds = [k for k in kinds if k not in ("dense", "activation", "custom_child",
                                                   "scale_child", "helper")]
        kinds = [k for k in kinds if k not in ("dense", "activation", "custom_child",
                                               "scale_child") or self._child_of(k)]
        kind = self.choice(kinds + ["op", "op", "op"])
        self.use(kind, ctx)
        sub = lambda: self.expression(env, ctx, depth - 1)  # noqa: E731
        if kind == "op":
            form = self.choice(["tanh", "sigmoid", "sin", "relu", "half", "plus1", "neg",
                                "add", "sub", "mul"])
            if form in ("tanh", "sigmoid", "sin", "relu"):
                return f"F.{form}({sub()})"
            if form == "half":
                return f"({sub()} * 0.5)"
            if form == "plus1":
                return f"({sub()} + 1)"
            if form == "neg":
                return f"(-{sub()})"
            op = {"add": "+", "sub": "-", "mul": "*"}[form]
            return f"({sub()} {op} {sub()})"
        if kind in ("dense", "activation", "custom_child", "scale_child"):
            return f"self.{self._child_of(kind)}({sub()})"
        if kind == "helper":
            name = self.helper()
            return f"self.{name}(F, {sub()}, {sub()})"
        if kind == "builtin_sum":
            items = ", ".join(sub() for _ in range(self.integer(1, 3)))
            return f"sum([{items}])"
        if kind == "builtin_abs":
            return f"abs({sub()})"
        if kind == "builtin_pow":
            return f"pow({sub()}, 2)"
        if kind == "pow_operator":
            return f"({sub()} ** 2)"
        if kind == "builtin_max_norm":
            return f"({sub()} / max(F.norm({self.choice(env)}), 1.0))"
        if kind == "builtin_min_norm":
            return f"({sub()} * min(F.norm({self.choice(env)}), 2.0))"
        if kind == "builtin_max_arrays":
            return f"({sub()} * F.sigmoid(max({self.choice(env)}.sum(), {self.choice(env)}.sum())))"
        if kind == "float_asscalar":
            return f"({sub()} * round(float(F.tanh({self.choice(env)}).mean().asscalar()), 3))"
        if kind == "builtin_len":
            return f"({sub()} * len({self.choice(env)}))"
        if kind == "ternary":
            return f"({sub()} if {self.condition(env, ctx)} else {sub()})"
        if kind == "detach":
            return f"{self.choice(env)}.detach()"
        if kind == "stop_gradient":
            return f"F.stop_gradient({sub()})"
        if kind == "asnumpy":
            return f"nd.array({self.choice(env)}.asnumpy())"
        if kind == "index":
            if self.maybe(2):
                return f"({sub()} + {self.choice(env)}[0])"
            return f"({sub()} * {self.choice(env)}[:, 1:2])"
        if kind == "reduce":
            return f"({sub()} * {self.choice(env)}.mean())"
        if kind == "andor":
            a, b = self.choice(env), self.choice(env)
            op = self.choice(["and", "or"])
            return f"({sub()} * (({a}.sum() > 0) {op} ({b}.mean() < 0.5)))"
        raise AssertionError(kind)

    def element(self, env, ctx):
        """An item of a list kept while the program goes on: a bare name (which later
        statements may rebind: the list must keep the old value) or a fresh value."""
        if self.allowed("list_of_names", ctx) and self.maybe(2):
            self.use("list_of_names", ctx)
            return self.choice(env)
        return f"F.{self.choice(['tanh', 'sin', 'sigmoid'])}({self.expression(env, ctx, 1)})"

    # ----- children and helpers
    def plan_children(self, ctx):
        for kind in ("dense", "activation", "custom_child", "scale_child"):
            if self.allowed(kind, ctx) and self.maybe(2):
                count = 1 if kind != "dense" else self.integer(1, 2)
                for _ in range(count):
                    self.children.append((f"{kind[:5]}{len(self.children)}", kind))

    def _child_of(self, kind):
        names = [name for name, k in self.children if k == kind]
        return self.choice(names) if names else None

    def helper(self):
        if self.helpers and self.maybe(2):
            return self.choice([name for name, _ in self.helpers])
        name = f"helper{len(self.helpers)}"
        self.helpers.append((name, None))   # reserve the name (helpers may call helpers)
        ctx = _Context(top=False, count_name="p")
        body, env = self.body(["p", "q"], ctx, size=self.integer(1, 3), depth=1)
        lines = [f"def {name}(self, F, p, q):", *_indent(body),
                 f"    return {self.expression(env, ctx, 1)}"]
        self.helpers[[n for n, _ in self.helpers].index(name)] = (name, lines)
        return name

    def custom_child_class(self, kind):
        ctx = _Context(top=False, self_calls=False)
        body, env = self.body(["x"], ctx, size=self.integer(1, 3), depth=1)
        result = self.expression(env, ctx, 1)
        if kind == "custom_child":
            return [
                "class Child(nn.HybridBlock):",
                "    def __init__(self):",
                "        super().__init__()",
                "        self.inner = nn.Dense(3, in_units=3)",
                "",
                "    def hybrid_forward(self, F, x):",
                *_indent(body, 2),
                f"        return self.inner({result})",
            ]
        return [
            "class Scale(nn.HybridBlock):",
            "    def __init__(self):",
            "        super().__init__()",
            "        self.scale = self.params.get('scale', shape=(1, 3))",
            "",
            "    def hybrid_forward(self, F, x, scale):",
            *_indent(body, 2),
            f"        return F.broadcast_mul({result}, scale)",
        ]

    # ----- statements
    def body(self, env, ctx, size, depth):
        env = list(env)
        lines = []
        for _ in range(size):
            lines += self.statement(env, ctx, depth)
        return lines, env

    def statement(self, env, ctx, depth):
        kinds = [k for k in STATEMENT_FEATURES if self.allowed(k, ctx)]
        errors = [k for k in kinds if k.startswith("error_")]
        # about one statement in 25 is a deliberate error: most programs should run
        if errors and self.draw(st.integers(0, 24)) == 0:
            kind = self.choice(errors)
            self.use(kind, ctx)
            return getattr(self, "s_" + kind)(env, ctx, depth)
        kinds = [k for k in kinds if not k.startswith("error_")]
        if depth <= 0:
            kinds = [k for k in kinds if not k.startswith(("if_", "while_", "for_", "list_grow",
                                                          "recurrence"))]
        if not ctx.in_loop:
            kinds = [k for k in kinds if k not in ("break", "continue", "return_in_loop")]
        if not ctx.top:
            kinds = [k for k in kinds if k != "early_return"]
        common = [k for k in ("assign", "rebind", "augassign") if k in kinds]
        kind = self.choice(kinds + common * 3 + ["assign"] * 2)
        if kind in ("assign",):
            self.use("assign", ctx)
            name = self.fresh()
            line = f"{name} = {self.expression(env, ctx)}"
            env.append(name)
            return [line]
        self.use(kind, ctx)
        method = getattr(self, "s_" + kind)
        return method(env, ctx, depth)

    def _target(self, env):
        return self.choice(env)

    def s_rebind(self, env, ctx, depth):
        return [f"{self._target(env)} = {self.expression(env, ctx)}"]

    def s_tuple_assign(self, env, ctx, depth):
        """Both right-hand sides read the targets: they must see the old values."""
        a = self._target(env)
        others = [n for n in env if n != a]
        if not others:
            b = self.fresh()
            env.append(b)
            return [f"{a}, {b} = {self.expression(env[:-1], ctx, 1)}, {a}"]
        b = self.choice(others)
        f = self.choice(["F.tanh", "F.sigmoid", ""])
        return [f"{a}, {b} = {f}({b}) * 0.5, {a} + 1"]

    def s_swap(self, env, ctx, depth):
        a, b = self._target(env), self._target(env)
        return [f"{a}, {b} = {b}, {a}"]

    def s_starred(self, env, ctx, depth):
        items = [self.element(env, ctx) for _ in range(self.integer(2, 4))]
        first, rest = self.fresh(), self.fresh("rest")
        form = self.choice(["head", "tail", "middle"])
        if form == "head":
            lines = [f"{first}, *{rest} = [{', '.join(items)}]"]
        elif form == "tail":
            lines = [f"*{rest}, {first} = ({', '.join(items)},)"]
        else:
            last = self.fresh()
            lines = [f"{first}, *{rest}, {last} = [{', '.join(items)}, {self.choice(env)}]",
                     f"{first} = {first} + {last} * 0.5"]
        use = self.fresh()
        lines.append(f"{use} = {first} + (F.add_n(*{rest}) if {rest} else {first}) * 0.5"
                     if self.maybe(2) else f"{use} = {first} * len({rest})")
        env += [first, use]
        return lines

    def s_nested_tuple(self, env, ctx, depth):
        a, b, c = self.fresh(), self.fresh(), self.fresh()
        e = [self.expression(env, ctx, 1) for _ in range(3)]
        env += [a, b, c]
        return [f"({a}, {b}), {c} = ({e[0]}, {e[1]}), {e[2]}"]

    def s_chained(self, env, ctx, depth):
        a = self.fresh()
        b = self.choice([self.fresh(), self._target(env)])
        line = f"{a} = {b} = {self.expression(env, ctx)}"
        env += [n for n in (a, b) if n not in env]
        return [line]

    def s_augassign(self, env, ctx, depth):
        op = self.choice(["+=", "-=", "*="])
        value = self.expression(env, ctx, 1)
        if op == "*=":
            value = f"F.sigmoid({value})"
        return [f"{self._target(env)} {op} {value}"]

    def s_augassign_list(self, env, ctx, depth):
        lst, out = self.fresh("lst"), self.fresh()
        op = self.choice(["+=", "-=", "*="])
        index = self.choice(["0", "1", "-1"])
        return [f"{lst} = [{self.element(env, ctx)}, {self.element(env, ctx)}]",
                f"{lst}[{index}] {op} {self.expression(env, ctx, 1)}",
                f"{out} = {lst}[0] + {lst}[1]"] + self._extend(env, out)

    def _extend(self, env, name):
        env.append(name)
        return []

    def s_augassign_subscript(self, env, ctx, depth):
        t = self.fresh("t")
        op = self.choice(["+=", "-=", "*="])
        index = self.choice(["0", "1", ":, 0", "0, 1:"])
        value = self.choice(env)
        value_index = {"0": "[1]", "1": "[0]", ":, 0": "[:, 2]", "0, 1:": "[1, :2]"}[index]
        env.append(t)
        return [f"{t} = {self.expression(env[:-1], ctx, 1)} + 0",
                f"{t}[{index}] {op} {value}{value_index}"]

    def s_setitem(self, env, ctx, depth):
        t = self.fresh("t")
        env.append(t)
        return [f"{t} = {self.expression(env[:-1], ctx, 1)} * 1",
                f"{t}[0] = {self.choice(env[:-1])}[1] * 0.5"]

    def _reduce_list(self, lst, env, ctx, may_be_empty=False):
        out = self.fresh()
        env.append(out)
        if may_be_empty:
            if not self.allowed("list_sum", ctx):
                return [f"{out} = {self.choice(env[:-1])} + (F.add_n(*{lst}) if {lst} else 0)"]
            self.features.add("list_sum")
            return [f"{out} = {self.choice(env[:-1])} + sum({lst})"]
        forms = ["add_n", "last", "first_last", "len_index"]
        if self.allowed("list_sum", ctx):
            forms.append("sum")
        form = self.choice(forms)
        if form == "add_n":
            return [f"{out} = F.add_n(*{lst})"]
        if form == "last":
            return [f"{out} = {lst}[-1]"]
        if form == "first_last":
            return [f"{out} = {lst}[0] + {lst}[-1]"]
        if form == "sum":
            self.features.add("list_sum")
            return [f"{out} = sum({lst})"]
        return [f"{out} = {lst}[len({lst}) // 2]"]

    def s_listcomp(self, env, ctx, depth):
        lst = self.fresh("lst")
        k = self.fresh("k")
        if self.maybe(2):
            items = ", ".join(self.choice(env) for _ in range(self.integer(1, 3)))
            t = self.fresh("t")
            line = f"{lst} = [F.tanh({t}) * 0.5 for {t} in ({items},)]"
        else:
            line = f"{lst} = [{self.expression(env, ctx, 1)} * ({k} + 1) for {k} in range({self.integer(1, 3)})]"
        return [line] + self._reduce_list(lst, env, ctx)

    def s_listcomp_cond(self, env, ctx, depth):
        lst, k = self.fresh("lst"), self.fresh("k")
        e = self.expression(env, ctx, 1)
        return [f"{lst} = [{e} * {k} for {k} in range({self.integer(2, 4)}) if {k} % 2 == 1]"
                ] + self._reduce_list(lst, env, ctx)

    def s_listcomp_nested(self, env, ctx, depth):
        lst, i, j = self.fresh("lst"), self.fresh("i"), self.fresh("j")
        a, b = self.choice(env), self.choice(env)
        return [f"{lst} = [{a} * {i} + F.sin({b}) * {j} for {i} in range({self.integer(1, 2)}) "
                f"for {j} in range({self.integer(1, 3)})]"] + self._reduce_list(lst, env, ctx)

    def s_listcomp_datacond(self, env, ctx, depth):
        lst, t = self.fresh("lst"), self.fresh("t")
        items = ", ".join(self.choice(env) for _ in range(self.integer(1, 3)))
        return [f"{lst} = [F.tanh({t}) for {t} in ({items},) if {t}.sum() > 0]"
                ] + self._reduce_list(lst, env, ctx, may_be_empty=True)

    def s_list_sum(self, env, ctx, depth):
        out = self.fresh()
        items = ", ".join(self.expression(env, ctx, 1) for _ in range(self.integer(1, 3)))
        env.append(out)
        return [f"{out} = sum([{items}])"]

    def _loop_header(self, kind, ctx):
        """(header lines, loop lines prefix in the body, context for the body)."""
        if kind == "static":
            i = self.fresh("i")
            return [f"for {i} in range({self.integer(0, 3)}):"], [], "static"
        if kind == "runtime":
            i = self.fresh("i")
            return [f"for {i} in range({ctx.count_name}.shape[0]):"], [], "runtime"
        n = self.fresh("n")
        return ([f"{n} = 0", f"while {n} < int({ctx.count_name}.sum().asscalar() > 0) + 2:"],
                [f"{n} += 1"], "while")

    def _grow(self, env, ctx, depth, kind):
        outs = self.fresh("outs")
        header, prefix, loop = self._loop_header(kind, ctx)
        inner = _Context(loop=loop, in_loop=True, top=False, count_name=ctx.count_name,
                         self_calls=ctx.self_calls)
        value = self.choice([f"{outs}[-1] * 0.5 + F.tanh({self.choice(env)})",
                             f"F.sin({outs}[-1]) + {self.choice(env)} * 0.5",
                             f"{outs}[-1] * 2"])
        extra, _ = self.body(env, inner, self.integer(0, 1), depth - 1) if self.maybe(1) else ([], None)
        lines = [f"{outs} = [{self.element(env, ctx)}]", *header,
                 *_indent(prefix + extra + [f"{outs}.append({value})"])]
        return lines + self._reduce_list(outs, env, ctx)

    def s_list_grow_static(self, env, ctx, depth):
        return self._grow(env, ctx, depth, "static")

    def s_list_grow_runtime(self, env, ctx, depth):
        return self._grow(env, ctx, depth, "runtime")

    def s_list_grow_while(self, env, ctx, depth):
        return self._grow(env, ctx, depth, "while")

    def _recurrence(self, env, ctx, kind):
        h, c = self.fresh("h"), self.fresh("c")
        header, prefix, _ = self._loop_header(kind, ctx)
        step = self.choice([f"{h}, {c} = F.tanh({h} + {c}), {h}",
                            f"{h}, {c} = F.tanh({h} * 0.5 + {c}), F.sigmoid({h})",
                            f"{c}, {h} = {h}, F.tanh({c} + {h} * 0.5)"])
        env += [h, c]
        return [f"{h}, {c} = {self.choice(env[:-2])}, {self.expression(env[:-2], ctx, 1)}",
                *header, *_indent(prefix + [step])]

    def s_recurrence_static(self, env, ctx, depth):
        return self._recurrence(env, ctx, "static")

    def s_recurrence_runtime(self, env, ctx, depth):
        return self._recurrence(env, ctx, "runtime")

    def s_recurrence_while(self, env, ctx, depth):
        return self._recurrence(env, ctx, "while")

    def _sub(self, env, ctx, depth, **changes):
        inner = _Context(**{**ctx.__dict__, "top": False, **changes})
        lines, _ = self.body(env, inner, self.integer(1, 2), depth - 1)
        return lines

    def s_if_data(self, env, ctx, depth):
        lines = [f"if {self.condition(env, ctx)}:", *_indent(self._sub(env, ctx, depth))]
        if self.maybe(2):
            if self.maybe(1):
                lines += [f"elif {self.condition(env, ctx)}:",
                          *_indent(self._sub(env, ctx, depth))]
            lines += ["else:", *_indent(self._sub(env, ctx, depth))]
        return lines

    def s_while_data(self, env, ctx, depth):
        return self._counted_while(env, ctx, depth, "{k} < 3 and {v}.mean() > {t}")

    def _counted_while(self, env, ctx, depth, test):
        """A while loop on a counter and an array's values, `test` naming them {k}, {v}, {t}."""
        k = self.fresh("k")
        v = self._target(env)
        body = self._sub(env, ctx, depth, loop="while", in_loop=True)
        return [f"{k} = 0", f"while {test.format(k=k, v=v, t=self.threshold())}:",
                *_indent([f"{k} += 1", *body, f"{v} = {v} * 0.5 - 0.25"])]

    def _for(self, env, ctx, depth, kind):
        header, prefix, loop = self._loop_header(kind, ctx)
        return header + _indent(prefix + self._sub(env, ctx, depth, loop=loop, in_loop=True))

    def s_for_static(self, env, ctx, depth):
        return self._for(env, ctx, depth, "static")

    def s_for_runtime(self, env, ctx, depth):
        return self._for(env, ctx, depth, "runtime")

    def s_for_rows(self, env, ctx, depth):
        row, v = self.fresh("row"), self._target(env)
        body = self._sub(env, ctx, depth, loop="runtime", in_loop=True)
        return [f"for {row} in {self.choice(env)}:", *_indent(body + [f"{v} = {v} + {row} * 0.5"])]

    def s_for_enumerate(self, env, ctx, depth):
        i, t, v = self.fresh("i"), self.fresh("t"), self._target(env)
        items = ", ".join(self.element(env, ctx) for _ in range(self.integer(1, 3)))
        body = self._sub(env + [t], ctx, depth, loop="static", in_loop=True)
        return [f"for {i}, {t} in enumerate([{items}]):",
                *_indent(body + [f"{v} = {v} + F.tanh({t}) * ({i} + 1) * 0.25"])]

    def s_break(self, env, ctx, depth):
        return [f"if {self.condition(env, ctx)}:", "    break"]

    def s_continue(self, env, ctx, depth):
        return [f"if {self.condition(env, ctx)}:", "    continue"]

    def s_return_in_loop(self, env, ctx, depth):
        return [f"if {self.condition(env, ctx)}:", f"    return {self.output(env)}"]

    def s_early_return(self, env, ctx, depth):
        return [f"if {self.condition(env, ctx)}:", f"    return {self.output(env)}"]

    def s_nested_def(self, env, ctx, depth):
        """A function defined in the forward: a closure over a name, a default read at the
        definition, called twice."""
        name, a, out = self.fresh("f"), self.fresh("a"), self.fresh()
        closure = self.choice(env)
        body = [f"def {name}({a}, scale={self.choice(['0.5', '2.0'])}):",
                f"    return F.tanh({a}) * scale + {closure} * 0.25"]
        rebound = [f"{closure} = {closure} * 0.5"] if self.maybe(1) else []
        env.append(out)
        return body + rebound + [
            f"{out} = {name}({self.expression(env[:-1], ctx, 1)}) + {name}({closure}, 1.0)"]

    def s_lambda(self, env, ctx, depth):
        name, a, out = self.fresh("g"), self.fresh("a"), self.fresh()
        env.append(out)
        return [f"{name} = lambda {a}, *rest: F.sin({a}) + len(rest) * 0.1",
                f"{out} = {name}({self.expression(env[:-1], ctx, 1)}, 1) * 0.5"]

    def s_dict_of_arrays(self, env, ctx, depth):
        table, out = self.fresh("d"), self.fresh()
        first, second = self.expression(env, ctx, 1), self.choice(env)
        lines = [f"{table} = {{'a': {first}, 'b': {second} * 0.5}}",
                 f"{table}['c'] = {table}['a'] - {table}['b']"]
        form = self.choice(["values", "items", "get", "comprehension"])
        if form == "values":
            lines.append(f"{out} = sum({table}.values())")
        elif form == "items":
            lines.append(f"{out} = sum(v * (k == 'a') for k, v in sorted({table}.items()))")
        elif form == "get":
            lines.append(f"{out} = {table}.get('b') + {table}.get('z', 0.5) * len({table})")
        else:
            lines.append(f"{out} = sum({{k: v * 2 for k, v in {table}.items()}}.values())")
        env.append(out)
        return lines

    def s_rows_comprehension(self, env, ctx, depth):
        lst, row, out = self.fresh("rows"), self.fresh("r"), self.fresh()
        source = self.choice(env)
        if self.maybe(2):
            lines = [f"{lst} = [F.tanh({row}) * 0.5 for {row} in {source}]",
                     f"{out} = F.stack(*{lst}) + len({lst})"]
        else:
            lines = [f"{lst} = [{row} * 2 for {row} in {source} if {row}.sum() > "
                     f"{self.threshold()}]",
                     f"{out} = ({source} + sum({lst})) if {lst} else {source} * 0.5"]
        env.append(out)
        return lines

    def s_list_item_assign(self, env, ctx, depth):
        lst, out = self.fresh("lst"), self.fresh()
        a, b = self.expression(env, ctx, 1), self.choice(env)
        env.append(out)
        return [f"{lst} = [{a}, {b}, {b} * 0.5]", f"{lst}[0] = {lst}[-1] + {lst}[1]",
                f"{lst}[1:2] = [{b} * 2]", f"{out} = {lst}[0] * {lst}[1] + len({lst})"]

    def s_while_and(self, env, ctx, depth):
        return self._counted_while(env, ctx, depth, "{v}.mean() > {t} and {k} < 3")

    def s_try_except(self, env, ctx, depth):
        """A try whose body may fail part-way (a misfit operator, a bad index), with the
        forms users write: typed handlers, `as`, else, finally, a bare raise."""
        v = self._target(env)
        risky = self.choice([f"F.dot({self.choice(env)}, {self.choice(env)})",
                             f"F.sum({self.choice(env)}, axis=5)",
                             f"[{self.choice(env)}][{self.integer(0, 1)}]",
                             f"{self.choice(env)} * 2"])
        body = [f"{v} = {v} * 0.5", *self.body(env, ctx, 1, 0)[0], f"{v} = {v} + {risky} * 0"]
        kind = self.choice(["ValueError", "Exception", "(IndexError, ValueError)", "KeyError"])
        error = self.fresh("error")
        handler = [f"{v} = {v} - 1", f"print('caught', type({error}).__name__)"]
        if kind == "KeyError" and self.maybe(2):
            handler.append("raise")
        lines = ["try:", *_indent(body), f"except {kind} as {error}:", *_indent(handler)]
        if self.maybe(2):
            lines += ["else:", *_indent([f"{v} = {v} + 0.25"])]
        if self.maybe(2):
            lines += ["finally:", *_indent([f"{v} = {v} * 1.5"])]
        return lines

    def s_with_manager(self, env, ctx, depth):
        v = self._target(env)
        manager = self.choice(["autograd.pause()", "autograd.train_mode()",
                               "autograd.predict_mode()"])
        # Dropout only where it is the identity (no random draws to compare)
        dropped = v if manager == "autograd.train_mode()" else f"F.Dropout({v}, p=0.5)"
        return [f"with {manager}:",
                *_indent([f"{v} = {dropped} * (1 + autograd.is_training())"])]

    def s_print(self, env, ctx, depth):
        a = self.choice(env)
        form = self.choice(["value", "shape", "format"])
        tag = self.fresh("p")
        if form == "value":
            return [f"print('{tag}', round(float({a}.sum().asscalar()), 3))"]
        if form == "shape":
            return [f"print('{tag}', {a}.shape, len({a}))"]
        return [f"print('{tag} %.3f' % {a}.mean().asscalar())"]

    def s_print_array(self, env, ctx, depth):
        return [f"print({self.choice(env)})"]

    def s_divmod(self, env, ctx, depth):
        q, r, out = self.fresh("q"), self.fresh("r"), self.fresh()
        env.append(out)
        return [f"{q}, {r} = divmod(float({self.choice(env[:-1])}.sum().asscalar()), 1.0)",
                f"{out} = {self.choice(env[:-1])} * {r} + {q} * 0.01"]

    def s_is_training(self, env, ctx, depth):
        v = self._target(env)
        return ["if autograd.is_training():", f"    {v} = {v} * 0.5",
                "else:", f"    {v} = {v} + 1"]

    # deliberate errors: what imperative mode raises, AST mode must raise (or refuse); the
    # bad value joins the outputs, so only error_unused leaves it to dead code
    def _bad(self, env, expression):
        name = self.fresh("bad")
        env.append(name)
        return [f"{name} = {expression}"]

    def s_error_axis(self, env, ctx, depth):
        return self._bad(env, f"F.sum({self.choice(env)}, axis=5)")

    def s_error_shape(self, env, ctx, depth):
        a = self.choice(env)
        return self._bad(env, f"{a} + {a}.reshape((3, 2))")

    def s_error_dot(self, env, ctx, depth):
        return self._bad(env, f"F.dot({self.choice(env)}, {self.choice(env)})")

    def s_error_index(self, env, ctx, depth):
        lst = self.fresh("lst")
        return [f"{lst} = [{self.choice(env)}]"] + self._bad(env, f"{lst}[3]")

    def s_error_asscalar(self, env, ctx, depth):
        return self._bad(env, f"{self.choice(env)} * {self.choice(env)}.asscalar()")

    def s_error_bool(self, env, ctx, depth):
        a = self.choice(env)
        return [f"if {a}:", f"    {a} = {a} * 0.5"]

    def s_error_divmod(self, env, ctx, depth):
        return self._bad(env, f"divmod({self.choice(env)}, 2)[1]")

    def s_error_round(self, env, ctx, depth):
        return self._bad(env, f"round({self.choice(env)})")

    def s_error_unused(self, env, ctx, depth):
        a = self.choice(env)
        bad = self.choice([f"F.dot({a}, {a})", f"{a} + {a}.reshape((3, 2))",
                           f"F.sum({a}, axis=5)"])
        return [f"{self.fresh('unused')} = {bad}"]

    def s_error_static(self, env, ctx, depth):
        """Errors in code that depends only on constants (the compiler evaluates it)."""
        return self._bad(env, self.choice([f"{self.choice(env)} * (1 / 0)",
                                           f"{self.choice(env)} * len(5)",
                                           f"{self.choice(env)} * self.missing",
                                           f"[{self.choice(env)}][3]"]))

    # ----- whole programs
    def output(self, env):
        last = env[-1]
        total = f"F.add_n({', '.join(env)})" if len(env) > 1 else env[0]
        form = self.choice(["sum", "pair", "last"])
        if form == "sum":
            return total
        if form == "pair":
            return f"{last}, {total}"
        return last

    def program(self):
        n_inputs = self.integer(1, 2)
        inputs = ["x", "y"][:n_inputs]
        ctx = _Context()
        self.plan_children(ctx)
        body, env = self.body(inputs, ctx, size=self.integer(1, 6), depth=2)
        result = self.output(env)
        lines = ["from ast_hybrid import autograd, nd",
                 "from ast_hybrid.gluon import nn", ""]
        kinds = {kind for _, kind in self.children}
        for kind in ("custom_child", "scale_child"):
            if kind in kinds:
                lines += ["", *self.custom_child_class(kind), ""]
        init = []
        for name, kind in self.children:
            if kind == "dense":
                activation = self.choice([None, "tanh", "sigmoid", "relu"])
                act = f", activation='{activation}'" if activation else ""
                init.append(f"self.{name} = nn.Dense(3, in_units=3{act})")
            elif kind == "activation":
                init.append(f"self.{name} = nn.Activation('{self.choice(['tanh', 'sigmoid', 'softsign'])}')")
            elif kind == "custom_child":
                init.append(f"self.{name} = Child()")
            else:
                init.append(f"self.{name} = Scale()")
        lines += ["", "class Net(nn.HybridBlock):", "    def __init__(self):",
                  "        super().__init__()", *_indent(init, 2)]
        for _, helper in self.helpers:
            lines += ["", *_indent(helper)]
        lines += ["", f"    def hybrid_forward(self, F, {', '.join(inputs)}):",
                  *_indent(body, 2), f"        return {result}", ""]
        return Program("\n".join(lines), n_inputs, frozenset(self.features))


@st.composite
def programs(draw, exclude=frozenset()):
    """Random programs; `exclude` names features (FEATURES, optionally `feature@context`)
    never drawn."""
    return _Generator(draw, exclude).program()


# ============================================================================ loading

_DIRECTORY = None
_MODULES = {}


def load(source):
    """The module of `source`, written to a real file (AST mode reads it with inspect)."""
    global _DIRECTORY
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    module = _MODULES.get(digest)
    if module is not None:
        return module
    if _DIRECTORY is None:
        _DIRECTORY = tempfile.mkdtemp(prefix="ast_hybrid_fuzz_")
    name = f"fuzz_{digest}"
    path = os.path.join(_DIRECTORY, name + ".py")
    with open(path, "w") as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _MODULES[digest] = module
    return module


def source_features(source):
    """Names of the constructs present in a source (for labelling minimized examples)."""
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            if len(node.targets) > 1:
                found.add("chained")
            for target in node.targets:
                if isinstance(target, ast.Tuple):
                    found.add("tuple_assign")
                    if any(isinstance(e, ast.Starred) for e in target.elts):
                        found.add("starred")
                    if any(isinstance(e, ast.Tuple) for e in target.elts):
                        found.add("nested_tuple")
                if isinstance(target, ast.Subscript):
                    found.add("setitem")
        elif isinstance(node, ast.AugAssign):
            found.add("augassign_subscript" if isinstance(node.target, ast.Subscript)
                      else "augassign")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("sum", "abs", "pow", "max", "min", "len", "float", "round",
                                "divmod", "print", "int"):
                found.add("builtin_" + node.func.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("append", "asnumpy", "detach", "stop_gradient", "asscalar"):
                found.add(node.func.attr)
        elif isinstance(node, (ast.For, ast.While)):
            found.add(type(node).__name__.lower())
        elif isinstance(node, ast.If):
            found.add("if")
        elif isinstance(node, ast.IfExp):
            found.add("ternary")
        elif isinstance(node, ast.BoolOp):
            found.add("andor")
        elif isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            found.add("listcomp")
        elif isinstance(node, (ast.Break, ast.Continue)):
            found.add(type(node).__name__.lower())
    return found


# ============================================================================ running

MODES = {
    "ast": dict(mode="ast", fallback=False),
    "ast_noopt": dict(mode="ast", fallback=False, optimize=False),
    "ast_static": dict(mode="ast", fallback=False, static_alloc=True),
    "trace": dict(mode="trace"),
}

SENTINEL = 0.25   # gradient buffers start here: an untouched buffer shows as untouched


@dataclass
class CallResult:
    outputs: object = None          # nested lists of numpy arrays / Python values
    error: str = None               # exception type name of the forward call
    backward_error: str = None
    input_grads: list = None
    param_grads: dict = None
    stdout: str = ""
    message: str = ""
    compile_time: bool = False      # the error was raised while compiling


@dataclass
class ModeResult:
    mode: str
    calls: list = field(default_factory=list)
    refused: str = None             # the construct AST mode refused
    backward_refused: str = None    # the backward pass refused (recorded imperatively)


def _snapshot(output):
    from ast_hybrid import nd
    if isinstance(output, (tuple, list)):
        return [_snapshot(o) for o in output]
    if isinstance(output, nd.NDArray):
        return np.array(output.asnumpy(), copy=True)
    return output


def _leaves(output):
    from ast_hybrid import nd
    if isinstance(output, (tuple, list)):
        for o in output:
            yield from _leaves(o)
    elif isinstance(output, nd.NDArray):
        yield output


@dataclass
class Case:
    """What a program is run on: parameter values, and per call its inputs, whether it is
    recorded, and the seed of the output weights of the backward pass."""
    params: dict
    calls: list   # (inputs as numpy arrays, recorded)


def make_case(program, seed):
    """Inputs from `seed`; each parameter's values from the seed and its name, so that a
    program with a layer removed (while minimizing) keeps the others' values."""
    rng = np.random.default_rng(seed)
    calls = []
    for recorded in (True, True, False):
        scale = rng.choice([0.5, 1.0, 2.0])
        inputs = [(rng.standard_normal(SHAPE) * scale).astype(np.float32)
                  for _ in range(program.n_inputs)]
        calls.append((inputs, recorded))
    net = load(program.source).Net()
    net.initialize()
    params = {}
    for key, p in sorted(net._structural_params().items()):     # the same in every instance
        stream = int(hashlib.sha1(f"{seed}:{key}".encode()).hexdigest()[:8], 16)
        params[key] = (np.random.default_rng(stream).standard_normal(p.shape) * 0.5
                       ).astype(np.float32)
    return Case(params, calls)


def output_weights(leaves, index, dtype=np.float32):
    return [np.random.default_rng(1000 + 17 * index + k).standard_normal(np.shape(leaf))
            .astype(dtype) for k, leaf in enumerate(leaves)]


def _block(program, params, dtype=None):
    from ast_hybrid import name, nd
    with name.NameManager():        # the same parameter names in every mode
        net = load(program.source).Net()
    net.initialize()
    if dtype is not None:
        net.cast(dtype)
    for key, p in net._structural_params().items():
        p.set_data(nd.array(params[key], dtype=dtype or np.float32))
    return net


def _call(net, inputs, recorded, index, params):
    from ast_hybrid import autograd, nd
    result = CallResult()
    arrays = [nd.array(a) for a in inputs]
    for a in arrays:
        a.attach_grad()
        a.grad[:] = SENTINEL
    for p in params:
        if p.grad_req != "null":
            p.grad()[:] = SENTINEL
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            if recorded:
                with autograd.record():
                    output = net(*arrays)
                    leaves = list(_leaves(output))
                    loss = None
                    for leaf, w in zip(leaves, output_weights(leaves, index)):
                        term = (leaf * nd.array(w)).sum()
                        loss = term if loss is None else loss + term
            else:
                output = net(*arrays)
            result.outputs = _snapshot(output)
        except Exception as error:   # noqa: BLE001 - compared by type
            result.error, result.message = type(error).__name__, str(error)[:300]
            result.stdout = out.getvalue()
            # a hybridized block that has no program after the call failed while compiling
            result.compile_time = getattr(net, "_active", False) and not net._programs
            if _is_refusal(error):
                raise
            return result
        if recorded and loss is not None:
            try:
                loss.backward()
                result.input_grads = [a.grad.asnumpy() for a in arrays]
                result.param_grads = {p.name: p.grad().asnumpy() for p in params
                                      if p.grad_req != "null"}
            except Exception as error:   # noqa: BLE001
                result.backward_error = type(error).__name__
                result.message = str(error)[:300]
    result.stdout = out.getvalue()
    return result


def _is_refusal(error):
    from ast_hybrid.compiler.passes.errors import UnsupportedConstruct
    return isinstance(error, UnsupportedConstruct)


def run_mode(program, case, mode):
    from ast_hybrid.compiler.dispatch import HybridizeFallbackWarning
    net = _block(program, case.params)
    if mode != "imperative":
        net.hybridize(**MODES[mode])
    params = [p for _, p in sorted(net._structural_params().items())]
    result = ModeResult(mode)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index, (inputs, recorded) in enumerate(case.calls):
            try:
                result.calls.append(_call(net, inputs, recorded, index, params))
            except Exception as error:   # noqa: BLE001
                result.refused = getattr(error, "construct", type(error).__name__)
                return result
    for warning in caught:
        if issubclass(warning.category, HybridizeFallbackWarning):
            text = str(warning.message)
            match = re.search(r"cannot compile (.*?)(?: \(|;|$)", text)
            result.backward_refused = match.group(1) if match else text[:80]
    return result


# ----------------------------------------------------------------------------- comparing

_NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")


def same_text(a, b):
    """Printed text equal, numbers within tolerance (optimized programs may round apart)."""
    if a == b:
        return True
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    for p, q in zip(_NUMBER.findall(a), _NUMBER.findall(b)):
        if not np.isclose(float(p), float(q), rtol=1e-3, atol=2e-3):
            return False
    return True


def _close(got, want):
    if isinstance(want, list) or isinstance(got, list):
        return (isinstance(want, list) and isinstance(got, list) and len(got) == len(want)
                and all(_close(g, w) for g, w in zip(got, want)))
    if isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
        return (isinstance(want, np.ndarray) and isinstance(got, np.ndarray)
                and got.shape == want.shape and got.dtype == want.dtype
                and np.allclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True))
    return got == want


@dataclass
class Difference:
    mode: str
    call: int
    what: str          # output, input_grad, param_grad:NAME, stdout, error, backward_error
    imperative: object
    hybrid: object

    def __str__(self):
        return (f"{self.mode} call {self.call}: {self.what}\n  imperative: "
                f"{_short(self.imperative)}\n  {self.mode}: {_short(self.hybrid)}")


def _short(value):
    text = repr(value) if not isinstance(value, str) else repr(value)
    return text if len(text) < 400 else text[:400] + "..."


def compare(reference, result, stdout=True):
    differences = []
    for index, (want, got) in enumerate(zip(reference.calls, result.calls)):
        def differ(what, w, g):
            differences.append(Difference(result.mode, index, what, w, g))
        if want.error != got.error:
            differ("error", (want.error, want.message), (got.error, got.message))
            continue
        if want.error is not None:
            continue
        if not _close(got.outputs, want.outputs):
            differ("output", want.outputs, got.outputs)
        if stdout and not same_text(want.stdout, got.stdout):
            differ("stdout", want.stdout, got.stdout)
        if want.backward_error != got.backward_error:
            differ("backward_error", (want.backward_error, want.message),
                   (got.backward_error, got.message))
            continue
        if want.input_grads is not None and got.input_grads is not None:
            for k, (w, g) in enumerate(zip(want.input_grads, got.input_grads)):
                if not _close(g, w):
                    differ(f"input_grad:{k}", w, g)
            for name, w in want.param_grads.items():
                if not _close(got.param_grads.get(name), w):
                    differ(f"param_grad:{name}", w, got.param_grads.get(name))
    if len(result.calls) < len(reference.calls) and result.refused is None:
        differences.append(Difference(result.mode, len(result.calls), "calls",
                                      len(reference.calls), len(result.calls)))
    return differences


@dataclass
class Report:
    program: Program
    case: Case
    results: dict
    differences: list        # AST modes against imperative: the rule
    trace_differences: list  # trace mode against imperative: for information
    refused: dict            # mode -> construct

    @property
    def compiled(self):
        return any(m not in self.refused for m in ("ast", "ast_noopt", "ast_static"))

    def __str__(self):
        lines = [self.program.source]
        if self.refused:
            lines.append(f"refused: {self.refused}")
        lines += [str(d) for d in self.differences]
        if self.trace_differences:
            lines.append("trace mode (for information):")
            lines += [str(d) for d in self.trace_differences]
        return "\n".join(lines)


def run_differential(program, seed=0, modes=("ast", "ast_noopt", "ast_static", "trace"),
                     case=None):
    case = case or make_case(program, seed)
    reference = run_mode(program, case, "imperative")
    results = {"imperative": reference}
    differences, trace_differences, refused = [], [], {}
    for mode in modes:
        result = run_mode(program, case, mode)
        results[mode] = result
        if mode == "trace":
            # trace mode runs hybrid_forward once with symbols; where that first call fails
            # the program is not traceable and trace mode is no reference
            if result.refused is None and result.calls and result.calls[0].error is None:
                trace_differences += compare(reference, result, stdout=False)
            continue
        if result.refused is not None:
            refused[mode] = result.refused
            continue
        if result.backward_refused is not None:
            refused[mode] = "backward: " + result.backward_refused
        differences += compare(reference, result)
    return Report(program, case, results, differences, trace_differences, refused)


# ----------------------------------------------------------------------------- deciding

def finite_differences(program, case, call, eps=1e-4):
    """Central differences, in float64, of the call's weighted output sum with respect to
    every input element and parameter element: {"input:K": array, "param:NAME": array}."""
    from ast_hybrid import autograd, nd
    inputs, _ = case.calls[call]
    params64 = {k: v.astype(np.float64) for k, v in case.params.items()}
    net = _block(program, params64, dtype="float64")
    named = dict(net._structural_params().items())
    weights = None

    def loss():
        nonlocal weights
        # fresh input arrays each time: the program may update its inputs in place
        fresh = [nd.array(a._data, dtype=np.float64) for a in arrays]
        with contextlib.redirect_stdout(io.StringIO()), autograd.train_mode():
            output = net(*fresh)
        leaves = list(_leaves(output))
        if weights is None:
            weights = output_weights(leaves, call, np.float64)
        return sum(float((leaf.asnumpy().astype(np.float64) * w).sum())
                   for leaf, w in zip(leaves, weights))

    arrays = [nd.array(a.astype(np.float64), dtype=np.float64) for a in inputs]
    loss()
    gradients = {}
    for k, a in enumerate(arrays):
        g = np.zeros(a.shape)
        for position in np.ndindex(a.shape):
            original = a._data[position]
            a._data[position] = original + eps
            up = loss()
            a._data[position] = original - eps
            down = loss()
            a._data[position] = original
            g[position] = (up - down) / (2 * eps)
        gradients[f"input:{k}"] = g
    for key in sorted(named):
        p = named[key]
        if p.grad_req == "null":
            continue
        data = p.data()._data
        g = np.zeros(data.shape)
        for position in np.ndindex(data.shape):
            original = data[position]
            data[position] = original + eps
            p.mark_changed()
            up = loss()
            data[position] = original - eps
            p.mark_changed()
            down = loss()
            data[position] = original
            p.mark_changed()
            g[position] = (up - down) / (2 * eps)
        gradients[f"param:{p.name}"] = g
    return gradients


def judge(report, rtol=1e-2, atol=1e-3):
    """For each gradient difference of the report: which side finite differences agree
    with ('imperative', 'ast', 'both', 'neither'), with the three arrays."""
    verdicts = []
    cache = {}
    for d in report.differences:
        if not d.what.startswith(("input_grad", "param_grad")):
            continue
        if d.call not in cache:
            cache[d.call] = finite_differences(report.program, report.case, d.call)
        fd = cache[d.call]
        kind, _, name = d.what.partition(":")
        key = f"input:{name}" if kind == "input_grad" else f"param:{name}"
        numeric = fd.get(key)
        if numeric is None:
            continue
        left = d.imperative is not None and np.allclose(d.imperative, numeric, rtol=rtol, atol=atol)
        right = d.hybrid is not None and np.allclose(d.hybrid, numeric, rtol=rtol, atol=atol)
        side = {(True, True): "both", (True, False): "imperative",
                (False, True): d.mode, (False, False): "neither"}[(left, right)]
        verdicts.append((d.mode, d.call, d.what, side, d.imperative, d.hybrid, numeric))
    return verdicts


def _compact(value):
    if isinstance(value, np.ndarray):
        return np.round(value.astype(np.float64), 4).tolist()
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def short_source(source):
    """The source without its import lines (what a counterexample is read as)."""
    return "\n".join(line for line in source.splitlines()
                     if not line.startswith(("from ast_hybrid", "import "))).strip("\n")


def describe(report, judge_gradients=True):
    """A counterexample as text: the source, each difference once (with the modes showing
    it), and what finite differences say (a program that leaves the graph has a full
    derivative autograd does not compute through the detached value)."""
    lines = [short_source(report.program.source)]
    if report.refused:
        lines.append(f"refused: {report.refused}")
    groups = {}
    for d in report.differences + report.trace_differences:
        key = (d.call, d.what, repr(_compact(d.hybrid)))
        groups.setdefault(key, []).append(d)
    for (call, what, _), found in groups.items():
        d = found[0]
        modes = ", ".join(x.mode for x in found)
        lines.append(f"call {call} {what} [{modes}]:\n  imperative: {_compact(d.imperative)}\n"
                     f"  {d.mode}: {_compact(d.hybrid)}")
    if judge_gradients:
        seen = set()
        leaves = {"asnumpy", "detach", "stop_gradient"} & source_features(report.program.source)
        for mode, call, what, side, imperative, hybrid, numeric in judge(report):
            if (call, what) in seen:
                continue
            seen.add((call, what))
            note = " (the program leaves the graph)" if leaves else ""
            lines.append(f"finite differences, call {call} {what}: agree with {side}{note}: "
                         f"{_compact(numeric)}")
    return "\n".join(lines)


# ============================================================================ minimizing

class TimeLimit(BaseException):
    """A candidate program ran too long (a cut removed a loop's counter, say)."""


@contextlib.contextmanager
def time_limit(seconds):
    """Raise TimeLimit in the main thread after `seconds` (no limit where there is no alarm)."""
    import signal
    import threading
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise TimeLimit()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def signature(d):
    """What kind of difference this is, mode left out: ('input_grad',),
    ('error', 'TypeError', None), ..."""
    kind = d.what.split(":")[0]
    if kind in ("error", "backward_error"):
        return (kind, d.imperative[0], d.hybrid[0])
    return (kind,)


def signatures(report, mode=None):
    return {signature(d) for d in report.differences if mode is None or d.mode == mode}


_SIMPLIFIABLE = (ast.Call, ast.BinOp, ast.IfExp, ast.UnaryOp, ast.BoolOp, ast.Subscript,
                 ast.List, ast.Tuple, ast.ListComp, ast.Starred)


def _sub_expressions(node):
    if isinstance(node, ast.Call):
        return list(node.args) + [k.value for k in node.keywords] + (
            [node.func.value] if isinstance(node.func, ast.Attribute)
            and not isinstance(node.func.value, ast.Name) else [])
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.IfExp):
        return [node.body, node.orelse]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.BoolOp):
        return list(node.values)
    if isinstance(node, ast.Subscript):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) == 1:
        return [node.elts[0]]
    if isinstance(node, ast.ListComp):
        return [node.elt]
    return []


def _candidates(tree):
    """(node index in ast.walk order, action, argument): smaller programs, biggest cuts first."""
    nodes = list(ast.walk(tree))
    deletions, inlines, simplifications = [], [], []
    for k, node in enumerate(nodes):
        for name in ("body", "orelse"):
            statements = getattr(node, name, None)
            if not isinstance(statements, list) or not statements or \
                    not isinstance(statements[0], ast.stmt):
                continue
            for i, statement in enumerate(statements):
                deletions.append((k, "delete", (name, i)))
                if isinstance(statement, (ast.If, ast.For, ast.While)):
                    inlines.append((k, "inline", (name, i, "body")))
                    if statement.orelse:
                        inlines.append((k, "inline", (name, i, "orelse")))
        for name, value in ast.iter_fields(node):
            if isinstance(value, _SIMPLIFIABLE) and not isinstance(value, ast.Tuple):
                for j in range(len(_sub_expressions(value))):
                    simplifications.append((k, "replace", (name, None, j)))
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, _SIMPLIFIABLE):
                        for j in range(len(_sub_expressions(item))):
                            simplifications.append((k, "replace", (name, i, j)))
                    if isinstance(item, ast.expr) and len(value) > 1 and \
                            isinstance(node, (ast.Call, ast.List, ast.Tuple)):
                        simplifications.append((k, "drop", (name, i)))
    return deletions + inlines + simplifications


def _apply(tree, candidate):
    import copy
    tree = copy.deepcopy(tree)
    k, action, argument = candidate
    node = list(ast.walk(tree))[k]
    if action == "delete":
        name, i = argument
        statements = getattr(node, name)
        del statements[i]
        if not statements and name == "body":
            statements.append(ast.Pass())
    elif action == "inline":
        name, i, part = argument
        statements = getattr(node, name)
        inner = getattr(statements[i], part)
        statements[i:i + 1] = inner or [ast.Pass()]
    elif action == "replace":
        name, i, j = argument
        value = getattr(node, name)
        target = value if i is None else value[i]
        replacement = _sub_expressions(target)[j]
        if isinstance(replacement, ast.Starred):
            return None
        if i is None:
            setattr(node, name, replacement)
        else:
            value[i] = replacement
    elif action == "drop":
        name, i = argument
        del getattr(node, name)[i]
    ast.fix_missing_locations(tree)
    return tree


def minimize(report, budget=600, difference=None):
    """The smallest program (by greedy cuts of statements and expressions) whose
    differential run still shows the kind of `difference` (default: the report's first)."""
    if difference is None:
        difference = report.differences[0]
    mode = difference.mode
    target = signature(difference)
    seed = getattr(report, "seed", 0)
    n_inputs = report.program.n_inputs
    tree = ast.parse(report.program.source)
    best = Program(ast.unparse(tree) + "\n", n_inputs)   # lengths compare unparsed text
    tried = set()
    calls = 0
    progress = True
    while progress and calls < budget:   # best is only replaced by a smaller failing one
        progress = False
        for candidate in _candidates(tree):
            if calls >= budget:
                break
            smaller = _apply(tree, candidate)
            if smaller is None:
                continue
            try:
                source = ast.unparse(smaller) + "\n"
                compile(source, "<candidate>", "exec")
            except (SyntaxError, ValueError):
                continue
            if source in tried or len(source) >= len(best.source):
                continue
            tried.add(source)
            calls += 1
            program = Program(source, n_inputs)
            try:
                with warnings.catch_warnings(), time_limit(2.0):
                    warnings.simplefilter("ignore")
                    candidate_report = run_differential(program, seed, modes=(mode,))
            except (Exception, TimeLimit):   # noqa: BLE001 - does not load, or never ends
                continue
            if target in signatures(candidate_report, mode):
                tree, best, progress = smaller, program, True
                break
    final = run_differential(best, seed)
    final.seed = seed
    return final


# ============================================================================ exploring

class _TimeUp(BaseException):
    """Ends an exploration run (a BaseException, so hypothesis neither catches nor shrinks it)."""


def explore(seconds=None, examples=None, exclude=frozenset(), on_report=None,
            modes=("ast", "ast_noopt", "ast_static", "trace")):
    """Run random programs for `seconds` or `examples`; returns (statistics, refusals by
    construct, mismatching reports). Statistics: generated, compiled, refused, mismatched."""
    import collections
    import time
    from hypothesis import HealthCheck, given, settings
    statistics = collections.Counter()
    refusals = collections.Counter()
    mismatches = []
    start = time.monotonic()
    limit = examples if examples is not None else 10 ** 9

    @settings(max_examples=limit, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(program=programs(exclude=exclude), seed=st.integers(0, 2 ** 16))
    def one(program, seed):
        if seconds is not None and time.monotonic() - start > seconds:
            raise _TimeUp()
        statistics["generated"] += 1
        try:
            with warnings.catch_warnings(), time_limit(20.0):
                warnings.simplefilter("ignore")
                report = run_differential(program, seed, modes=modes)
        except TimeLimit:
            statistics["timed out"] += 1
            return
        report.seed = seed
        if report.compiled:
            statistics["compiled"] += 1
        if report.refused:
            statistics["refused"] += 1
            for construct in set(report.refused.values()):
                refusals[construct] += 1
        if report.differences:
            statistics["mismatched"] += 1
            mismatches.append(report)
        if report.trace_differences:
            statistics["trace differs"] += 1
        if on_report is not None:
            on_report(report)

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            one()
    except _TimeUp:
        pass
    statistics["seconds"] = round(time.monotonic() - start)
    return statistics, refusals, mismatches


def summary(statistics, refusals):
    lines = [f"differential fuzz: {statistics['generated']} programs generated, "
             f"{statistics['compiled']} compiled, {statistics['refused']} refused, "
             f"{statistics['mismatched']} mismatched, {statistics['timed out']} timed out, "
             f"in {statistics['seconds']} s"
             + (f" (trace mode differs from imperative on {statistics['trace differs']})"
                if statistics["trace differs"] else "")]
    if refusals:
        lines.append("refused, by construct:")
        lines += [f"  {count:6d}  {construct}" for construct, count in refusals.most_common()]
    return "\n".join(lines)


def main(argv=None):
    """python tests/compiler/fuzz_programs.py --seconds 600 [--minimize 40] [--exclude F,...]"""
    import argparse
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--examples", type=int, default=None)
    parser.add_argument("--minimize", type=int, default=20,
                        help="minimize at most this many mismatches, one per kind first")
    parser.add_argument("--exclude", default="", help="features never drawn, comma-separated")
    parser.add_argument("--out", default=None, help="write minimized counterexamples here")
    args = parser.parse_args(argv)
    if args.seconds is None and args.examples is None:
        args.seconds = 60
    exclude = frozenset(f for f in args.exclude.split(",") if f)
    statistics, refusals, mismatches = explore(args.seconds, args.examples, exclude)
    print(summary(statistics, refusals))
    seen, minimal = set(), []
    # one per first-difference kind and feature set first, then the rest
    mismatches.sort(key=lambda r: len(r.program.source))
    for report in mismatches:
        if len(minimal) >= args.minimize:
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            small = minimize(report)
        if not small.differences:
            continue
        key = (tuple(sorted(map(repr, signatures(small)))),
               small.program.source)
        if key in seen:
            continue
        seen.add(key)
        minimal.append(small)
        text = describe(small)
        print("=" * 78)
        print(text)
        if args.out:
            import json
            with open(args.out, "a") as handle:
                handle.write(json.dumps({"source": small.program.source, "seed": small.seed,
                                         "n_inputs": small.program.n_inputs,
                                         "signatures": sorted(map(repr, signatures(small))),
                                         "text": text}) + "\n")


if __name__ == "__main__":
    main()
