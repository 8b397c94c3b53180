"""Property: every optimization pass, alone and all together, keeps a program's outputs and
effects, on random straight-line programs (with branches, loops, prints, random kernels and
reassigned names) and on real blocks compared with and without hybridize(optimize=...)."""
import ast
import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ast_hybrid import nd, ops, to_source
from ast_hybrid.compiler.backend import compile_program
from ast_hybrid.compiler.origins import chain, set_origin
from ast_hybrid.compiler.naming import Namer
from ast_hybrid.compiler.options import HybridizeOptions
from ast_hybrid.compiler.optimize import (PASSES, OptimizeInfo, constant_fold, cse, dce,
                                          inplace, optimize, specialize_kernels)
from ast_hybrid.gluon import nn
from ast_hybrid.ops.random_state import generator

KERNELS = {"FullyConnected": "FullyConnected", "Activation": "Activation", "relu": "relu",
           "tanh": "tanh", "exp": "exp", "Dropout": "Dropout", "uniform": "_random_uniform",
           "Pooling": "Pooling", "Convolution": "Convolution", "sigmoid": "sigmoid",
           "Cast": "Cast"}
UNITS = 4


def _info(log):
    namespace = {name: ops.get(op).kernel for name, op in KERNELS.items()}
    namespace["emit"] = lambda *values: log.append([np.array(v, copy=True) for v in values])
    namer = Namer()
    for name in list(namespace) + ["x", "w", "b", "flag"]:
        namer.fresh(name)
    return OptimizeInfo({name: ops.get(op) for name, op in KERNELS.items()}, namespace, namer,
                        ("x", "w", "b", "flag"))


# ------------------------------------------------------------------ random program builder
@st.composite
def programs(draw):
    """Source of `def f(x, w, b, flag)`: x (2, 4) arrays, w (4, 4), b (4,), flag a bool."""
    names = ["x"]
    lines = []
    fresh = iter(f"t{i}" for i in range(1000))

    def pick():
        return draw(st.sampled_from(names))

    def expression():
        kind = draw(st.integers(0, 19))
        a, c = pick(), pick()
        if kind == 0:
            return f"FullyConnected({a}, w, b, num_hidden={UNITS})"
        if kind == 1:
            return f"Activation({a}, act_type={draw(st.sampled_from(['relu', 'tanh']))!r})"
        if kind == 2:
            return f"relu({a})"
        if kind == 3:
            return f"tanh({a})"
        if kind == 4:
            return f"{a} + {c}"
        if kind == 5:
            return f"{a} * ({draw(st.integers(-3, 3))} + {draw(st.integers(-3, 3))} * 2)"
        if kind == 6:
            return f"{a} - {c} * {c}"
        if kind == 7:
            return f"Dropout({a}, p=0.5, training=True)"
        if kind == 8:
            return f"{a} + uniform(low=0.0, high=1.0, shape=(2, {UNITS}), dtype='float32')"
        if kind == 9:
            return f"FullyConnected({a}, w, num_hidden={UNITS}, no_bias=True)"
        if kind == 10:
            return f"{a} * (2 ** 3 - 7.5)"
        if kind == 11:
            return f"-{a} / (1 + 1)"
        # element-wise work the in-place pass rewrites, with the cases it must refuse: other
        # dtypes (float64, integers), a temporary that an operand would broadcast larger
        if kind == 13:
            return f"sigmoid({a})"
        if kind == 14:
            act = draw(st.sampled_from(['sigmoid', 'tanh', 'relu']))
            return f"Activation({a} * 0.5 + {c}, act_type={act!r})"
        if kind == 15:
            return f"Cast({a}, dtype={draw(st.sampled_from(['float64', 'float16']))!r})"
        if kind == 16:
            return f"Cast({a}, dtype='int32') * 2"
        if kind == 17:
            return f"FullyConnected({a}[0:1], w, b, num_hidden={UNITS})"
        if kind == 18:
            return f"{draw(st.sampled_from(['tanh', 'exp', 'sigmoid']))}({a} + {c})"
        if kind == 19:
            return f"{c} {draw(st.sampled_from(['-', '*', '/']))} 3 + {a} * b"
        return f"{a}"

    def statement(depth):
        kind = draw(st.integers(0, 9 if depth < 2 else 6))
        if kind <= 4 or not names:
            target = draw(st.sampled_from(names + [next(fresh)] * 3)) \
                if draw(st.booleans()) else next(fresh)
            line = f"{target} = {expression()}"
            if target not in names and depth == 0:
                names.append(target)
            return [line]
        if kind == 5:
            return [f"emit({pick()})"]
        if kind == 6:
            target, source = next(fresh), pick()
            if depth == 0:
                names.append(target)
            return [f"{target} = {source}", f"{target} = {expression()}"]
        body = []
        for _ in range(draw(st.integers(1, 3))):
            body.extend(statement(depth + 1))
        indented = ["    " + line for line in body]
        if kind == 7:
            return ["if flag:"] + indented
        if kind == 8:
            return ["for i in range(2):"] + indented
        return ["if not flag:"] + indented + ["else:", f"    {pick()} = {expression()}"]

    for _ in range(draw(st.integers(1, 14))):
        lines.extend(statement(0))
    returned = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3))
    lines.append(f"return ({', '.join(returned)},)")
    return "def f(x, w, b, flag):\n" + "\n".join("    " + line for line in lines) + "\n"


def _marked(definition):
    """An origin on every statement, as the front end gives them."""
    for node in ast.walk(definition):
        for name in ("body", "orelse"):
            body = getattr(node, name, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                marked = []
                for line, statement in enumerate(body):
                    marked.append(set_origin(statement, chain("user.py", line + 1)))
                setattr(node, name, marked)
    return definition


def _run(definition, info, arguments):
    log = []
    namespace = dict(info.namespace)
    namespace["emit"] = lambda *values: log.append([np.array(v, copy=True) for v in values])
    program = compile_program([definition], namespace, "optimize-test")
    state = copy.deepcopy(generator().bit_generator.state)
    copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in arguments]
    try:
        result = program.function(*copies)
    except Exception as error:      # the same failure must happen both ways
        result = type(error)
    generator().bit_generator.state = state
    for before, after in zip(arguments, copies):   # arguments are never written
        if isinstance(before, np.ndarray):
            assert np.array_equal(before, after)
    return result, log, program.source


def _same(a, b):
    if isinstance(a, type) or isinstance(b, type):
        return a is b
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert np.asarray(u).shape == np.asarray(v).shape
        assert np.asarray(u).dtype == np.asarray(v).dtype
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-6)
    return True


def _arguments(seed, flag):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((2, UNITS)).astype(np.float32),
            rng.standard_normal((UNITS, UNITS)).astype(np.float32),
            rng.standard_normal(UNITS).astype(np.float32), flag]


PASS_SETS = [(p,) for p in PASSES] + [PASSES]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(source=programs(), seed=st.integers(0, 2 ** 16), flag=st.booleans(),
       passes=st.sampled_from(PASS_SETS))
def test_passes_keep_outputs_and_effects_of_random_programs(source, seed, flag, passes):
    definition = _marked(ast.parse(source).body[0])
    arguments = _arguments(seed, flag)
    info = _info([])
    state = copy.deepcopy(generator().bit_generator.state)
    expected, expected_log, _ = _run(copy.deepcopy(definition), info, arguments)
    generator().bit_generator.state = state
    optimized = optimize(definition, info, passes)
    got, got_log, optimized_source = _run(optimized, info, arguments)
    assert _same(expected, got), optimized_source
    assert len(expected_log) == len(got_log), optimized_source
    for a, b in zip(expected_log, got_log):
        _same(a, b)


# ------------------------------------------------------------------------ single passes
def _optimized_source(source, passes):
    info = _info([])
    definition = optimize(ast.parse(source).body[0], info, passes)
    return ast.unparse(definition)


def test_constant_folding_folds_literal_arithmetic_only():
    out = _optimized_source("def f(x, w, b, flag):\n    return x * (2 + 3 * 4) - (1 < 2) + x ** 2",
                            (constant_fold,))
    assert "x * 14 - True + x ** 2" in out
    assert "1 / 0" in _optimized_source("def f(x, w, b, flag):\n    return 1 / 0", (constant_fold,))


def test_cse_merges_pure_kernels_but_never_random_or_reassigned_ones():
    source = """def f(x, w, b, flag):
    a = relu(x)
    c = relu(x)
    d = uniform(low=0.0, high=1.0, shape=(2,), dtype='float32')
    e = uniform(low=0.0, high=1.0, shape=(2,), dtype='float32')
    x = tanh(x)
    g = relu(x)
    return (a, c, d, e, g)"""
    out = _optimized_source(source, (cse,))
    assert "c = a" in out and "e = uniform" in out and "g = relu(x)" in out


def test_dce_keeps_effects_kernels_that_may_raise_and_random_kernels():
    source = """def f(x, w, b, flag):
    a = relu(x)
    d = Dropout(x, p=0.5, training=True)
    emit(x)
    copied = (x, w)
    for i in range(2):
        unused = tanh(x)
        alias = b
    return x"""
    out = _optimized_source(source, (dce,))
    # a dead kernel call still runs: imperative mode raises its shape errors there
    assert "relu" in out and "tanh" in out
    assert "Dropout" in out and "emit(x)" in out
    assert "copied" not in out and "alias" not in out


def test_dce_respects_loops():
    source = """def f(x, w, b, flag):
    h = x
    for i in range(3):
        y = tanh(h)
        h = y + x
    return h"""
    assert "tanh" in _optimized_source(source, (dce,))


def test_inplace_only_on_dead_temporaries_the_program_allocated():
    source = """def f(x, w, b, flag):
    a = relu(x)
    t = FullyConnected(a, w, b, num_hidden=4)
    u = relu(t)
    s = FullyConnected(u, w, b, num_hidden=4)
    v = relu(s)
    y = FullyConnected(v, w, b, num_hidden=4)
    z = y
    q = relu(y)
    return (u, v, s, z, q)"""
    out = _optimized_source(source, (inplace,))
    assert "a = relu(x)\n" in out                       # an input
    assert "u = relu(t, out=t)" in out                   # dead temporary
    assert "v = relu(s)\n" in out                        # s is returned
    assert "q = relu(y)\n" in out                        # y is aliased by z


def test_inplace_elementwise_on_dead_temporaries():
    source = """def f(x, w, b, flag):
    t = FullyConnected(x, w, b, num_hidden=4)
    u = FullyConnected(x, w, b, num_hidden=4)
    h = tanh(t + u)
    s = sigmoid(FullyConnected(h, w, b, num_hidden=4))
    e = exp(x)
    g = x + e
    k = g * 2
    return (h, s, k, x + x)"""
    out = _optimized_source(source, (inplace,))
    assert "h = add_in_place(t, u, out=t)" in out
    assert "h = tanh_in_place(h, out=h)" in out
    assert "s = sigmoid_in_place(s)" in out
    assert "g = add_in_place(x, e, out=e)" in out       # e on the right
    assert "k = multiply_in_place(g, 2, out=g)" in out
    assert "try:" not in out             # the helpers choose at run time, the program reads plainly
    assert "x + x" in out                                     # arguments never


@pytest.mark.parametrize("other, temporary_shape", [
    ("np.float64", (2, 4)),      # the result would be float64: no room in a float32 temporary
    ("np.float32", (1, 4)),      # the other operand would broadcast the temporary larger
    ("np.int32", (2, 4)),
])
def test_inplace_falls_back_when_dtype_or_shape_differ(other, temporary_shape):
    source = """def f(x, w, b, flag):
    t = exp(x)
    y = t + w
    z = tanh(exp(x) * 2)
    q = sigmoid(exp(x) * 2)
    return (y, z, q)"""
    info = _info([])
    definition = optimize(ast.parse(source).body[0], info, (inplace,))
    assert ast.unparse(definition).count("_in_place(") == 3
    rng = np.random.default_rng(0)
    x = rng.standard_normal(temporary_shape).astype(np.float32)
    if other == "np.int32":
        x = (x * 10).astype(np.int32)
    w = rng.standard_normal((2, 4)).astype(eval(other))
    expected, _, _ = _run(ast.parse(source).body[0], info, [x, w, None, True])
    got, _, _ = _run(definition, info, [x, w, None, True])
    assert _same(expected, got)


def test_specialized_kernels_come_from_the_operator_table():
    source = """def f(x, w, b, flag):
    return (Activation(x, act_type='relu'), FullyConnected(x, w, b, num_hidden=4))"""
    info = _info([])
    definition = optimize(ast.parse(source).body[0], info, (specialize_kernels,))
    called = [n.func.id for n in ast.walk(definition) if isinstance(n, ast.Call)]
    assert info.namespace[called[0]] is ops.get("relu").view_kernel
    assert info.kernel_ops[called[1]] is ops.get("FullyConnected")


# --------------------------------------------------------------------------- real blocks
def _lenet():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, activation="relu"), nn.MaxPool2D(2),
            nn.Conv2D(5, 3, activation="tanh", padding=1), nn.AvgPool2D(2),
            nn.Dense(7, activation="relu"), nn.Dropout(0.3), nn.Dense(3))
    return net


class Residual(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(6, activation="relu")
        self.other = nn.Dense(6, activation="sigmoid")

    def hybrid_forward(self, F, x):
        y = self.dense(x)
        if x.sum() > 0:
            y = y + self.other(x)
        for _ in range(2):
            y = x + self.dense(y)
        return F.relu(y) * 2 + F.relu(y)


@pytest.mark.parametrize("build, shape", [(_lenet, (2, 1, 12, 12)), (Residual, (3, 6))])
def test_blocks_give_the_same_outputs_with_and_without_optimization(build, shape):
    plain, optimized = build(), build()
    plain.initialize()
    optimized.initialize()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for sign in (1, -1):          # both branches: every layer gets its shape
        plain(nd.array(sign * np.abs(x)))
        optimized(nd.array(sign * np.abs(x)))
    for p, q in zip(plain.collect_params().values(), optimized.collect_params().values()):
        q.set_data(p.data())
    plain.hybridize(optimize=False)
    optimized.hybridize()
    for sign in (1, -1):
        x = nd.array(sign * np.random.default_rng(1).standard_normal(shape).astype(np.float32))
        np.testing.assert_allclose(optimized(x).asnumpy(), plain(x).asnumpy(), rtol=1e-5,
                                   atol=1e-6)


# ------------------------------------------------------------------------- static_alloc
def _static_info():
    info = _info([])
    info.options = HybridizeOptions(static_alloc=True)
    return info


def _calls(definition, info, argument_sets):
    """The results and emitted values of successive calls of one compiled program, each
    result kept as returned (not copied), so a later call overwriting it would show."""
    log = []
    namespace = dict(info.namespace)
    namespace["emit"] = lambda *values: log.append([np.array(v, copy=True) for v in values])
    program = compile_program([definition], namespace, "static-test")
    results = []
    for arguments in argument_sets:
        copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in arguments]
        try:
            results.append(program.function(*copies))
        except Exception as error:
            results.append(type(error))
        for before, after in zip(arguments, copies):
            if isinstance(before, np.ndarray):
                assert np.array_equal(before, after)
    return results, log


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(source=programs(), seeds=st.lists(st.integers(0, 2 ** 16), min_size=3, max_size=3),
       flag=st.booleans())
def test_static_alloc_keeps_outputs_of_successive_calls(source, seeds, flag):
    definition = _marked(ast.parse(source).body[0])
    argument_sets = [_arguments(seed, flag) for seed in seeds]
    argument_sets[2][0] = np.concatenate([argument_sets[2][0]] * 2)   # another batch size
    argument_sets.append(argument_sets[0])
    plain_info = _info([])
    state = copy.deepcopy(generator().bit_generator.state)
    expected, expected_log = _calls(copy.deepcopy(definition), plain_info, argument_sets)
    generator().bit_generator.state = state
    info = _static_info()
    optimized = optimize(definition, info)
    got, got_log = _calls(optimized, info, argument_sets)
    text = ast.unparse(optimized)
    for a, b in zip(expected, got):
        assert _same(a, b), text
    assert len(expected_log) == len(got_log), text
    for a, b in zip(expected_log, got_log):
        _same(a, b)


def test_static_alloc_only_where_nothing_escapes():
    source = """def f(x, w, b, flag):
    a = FullyConnected(x, w, b, num_hidden=4)
    c = FullyConnected(a, w, b, num_hidden=4)
    d = FullyConnected(c, w, b, num_hidden=4)
    v = relu(d)
    e = FullyConnected(v, w, b, num_hidden=4)
    g = FullyConnected(e, w, b, num_hidden=4)
    emit(g)
    for i in range(2):
        h = FullyConnected(x, w, b, num_hidden=4)
        x = h + 1
    k = FullyConnected(x, w, b, num_hidden=4)
    pair = (k,)
    return (c, v, pair + pair)"""
    info = _static_info()
    out = ast.unparse(optimize(ast.parse(source).body[0], info))
    assert "a = fully_connected_static(" in out                 # only read by kernels
    assert "c = fully_connected(" in out                        # returned
    assert "d = fully_connected(" in out                        # returned through relu's out=
    assert "e = fully_connected_static" in out
    assert "g = fully_connected(" in out                        # handed to a function
    assert "h = fully_connected(" in out                        # runs more than once a call
    assert "k = fully_connected(" in out                        # returned inside a tuple


def _static_models():
    from ast_hybrid.bench import models
    return [(models.mlp, (2, 512)), (lambda: models.RNNCell(4, 8, 3), (2, 4, 3)),
            (lambda: models.residual(3), (2, 64)), (_lenet, (2, 1, 12, 12)),
            (Residual, (3, 6))]


@pytest.mark.parametrize("index", range(5))
def test_static_alloc_blocks_match_and_return_independent_arrays(index):
    build, shape = _static_models()[index]
    plain, static = build(), build()
    plain.initialize()
    static.initialize()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    for sign in (1, -1):
        plain(nd.array(sign * np.abs(x)))
        static(nd.array(sign * np.abs(x)))
    for p, q in zip(plain.collect_params().values(), static.collect_params().values()):
        q.set_data(p.data())
    plain.hybridize(optimize=False)
    static.hybridize(static_alloc=True)
    results = []
    for batch in (shape[0], shape[0], shape[0] + 2, shape[0]):
        x = nd.array(rng.standard_normal((batch,) + shape[1:]).astype(np.float32))
        got = static(x)
        expected = plain(x).asnumpy()
        np.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-5, atol=1e-6)
        results.append((got, expected.copy()))
    for got, expected in results:     # no later call wrote into an earlier call's output
        np.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-5, atol=1e-6)
    assert not np.shares_memory(results[0][0].asnumpy(), results[1][0].asnumpy())
    if index < 3:
        assert "_static" in ast_hybrid_source(static)


def ast_hybrid_source(net):
    from ast_hybrid import to_source
    return to_source(net)


def test_inplace_fallback_does_not_evaluate_the_other_operand_twice():
    source = """def f(x, w, b, flag):
    t = exp(x)
    y = t + uniform(low=0.0, high=1.0, shape=(2, 4), dtype='float32')
    return (y, uniform(low=0.0, high=1.0, shape=(2, 4), dtype='float32'))"""
    info = _info([])
    definition = optimize(ast.parse(source).body[0], info, (inplace,))
    x = np.ones((1, 4), np.float32)       # y is larger than t: the fallback runs
    state = copy.deepcopy(generator().bit_generator.state)
    expected, _, _ = _run(ast.parse(source).body[0], info, [x, None, None, True])
    generator().bit_generator.state = state
    got, _, text = _run(definition, info, [x, None, None, True])
    assert "add_in_place" in text and _same(expected, got)


class _InPlaceSum(nn.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense = nn.Dense(4, in_units=3)

    def hybrid_forward(self, F, x, y):
        h = self.dense(x)
        z = F.tanh(h)
        w = z + y
        return w


def test_an_in_place_helper_fails_with_the_error_imperative_mode_gives():
    net = _InPlaceSum()
    net.initialize()
    x, y = nd.ones((2, 3)), nd.ones((3, 5))
    with pytest.raises(ops.OpError) as imperative:
        net(x, y)
    net.hybridize()
    with pytest.raises(ops.OpError) as compiled:
        net(x, y)
    assert "add_in_place(z, y, out=z)" in to_source(net, x, y)
    assert str(compiled.value).splitlines()[0] == str(imperative.value).splitlines()[0]
