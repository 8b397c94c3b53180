"""AST mode's error paths, fallback, cache invalidation, threads and the program's shape."""
import ast
import threading
import traceback
import warnings

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import MXNetError, nd
from ast_hybrid.compiler import dispatch, entry
from ast_hybrid.compiler.dispatch import HybridizeCheckError, HybridizeFallbackWarning
from ast_hybrid.compiler.passes.errors import UnsupportedConstruct
from ast_hybrid.gluon import nn


def mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(2))
    net.initialize()
    return net


class BadShapes(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        y = F.relu(x)
        z = F.dot(y, y)  # the failing line
        return z


def test_error_inside_program_names_the_users_line():
    block = BadShapes()
    block.hybridize()
    with pytest.raises(ValueError) as caught:
        block(nd.ones((2, 3)))
    text = "".join(traceback.format_exception(caught.value))
    assert "z = F.dot(y, y)  # the failing line" in text
    assert __file__ in text
    assert "BadShapes.hybrid_forward-" in text


class UsesTry(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        try:
            return x * 2
        except ValueError:
            return x


def test_unsupported_construct_warns_once_and_falls_back_to_trace():
    block = UsesTry()
    block.hybridize()
    with pytest.warns(HybridizeFallbackWarning,
                      match=r"return inside try.*UsesTry runs in trace mode"):
        out = block(nd.ones((2, 2)))
    np.testing.assert_array_equal(out.asnumpy(), 2 * np.ones((2, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        block(nd.ones((3, 2)))
    line = UsesTry.hybrid_forward.__code__.co_firstlineno + 2
    block.hybridize(fallback=False)
    with pytest.raises(UnsupportedConstruct, match=rf"{__file__}:{line}: .*return inside try"):
        block(nd.ones((2, 2)))


def test_source_unavailable_falls_back_with_a_warning():
    namespace = {"nn": nn}
    exec("class Dynamic(nn.HybridBlock):\n"
         "    def hybrid_forward(self, F, x):\n"
         "        return x + 1\n", namespace)
    block = namespace["Dynamic"]()
    block.hybridize()
    with pytest.warns(HybridizeFallbackWarning, match="source is unavailable"):
        out = block(nd.zeros((1, 2)))
    np.testing.assert_array_equal(out.asnumpy(), np.ones((1, 2)))


def test_trace_mode_refuses_data_dependent_branch_naming_the_line():
    class Branchy(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            if x.sum() > 0:
                return x
            return -x
    block = Branchy()
    block.hybridize(mode="trace")
    with pytest.raises(MXNetError, match=rf"cannot be traced.*{__file__}:\d+: if x.sum\(\) > 0"):
        block(nd.ones((1, 2)))


def test_export_of_data_dependent_ast_block_names_the_line(tmp_path):
    class Branchy(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            if x.sum() > 0:
                return x
            return -x
    block = Branchy()
    block.hybridize()
    block(nd.ones((1, 2)))
    with pytest.raises(MXNetError, match=r"if x.sum\(\) > 0"):
        block.export(str(tmp_path / "branchy"))


def test_export_of_ast_hybridized_mlp_round_trips(tmp_path):
    net = mlp()
    net.hybridize()
    x = nd.random.normal(shape=(3, 512))
    want = net(x).asnumpy()
    net.export(str(tmp_path / "mlp"))
    loaded = ast_hybrid.gluon.SymbolBlock.imports(
        str(tmp_path / "mlp-symbol.json"), ["data"], str(tmp_path / "mlp-0000.params"))
    np.testing.assert_array_equal(loaded(x).asnumpy(), want)


def test_mlp_program_has_no_attribute_lookups_or_wrappers():
    net = mlp()
    source = ast_hybrid.to_source(net)
    tree = ast.parse(source)
    function = tree.body[0]
    assert [a.arg for a in function.args.args] == [
        "x", "p0_weight", "p0_bias", "p1_weight", "p1_bias", "p2_weight", "p2_bias"]
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert len(calls) == 5 and all(isinstance(c.func, ast.Name) for c in calls)
    assert source.count("# ") >= 6


def test_to_source_before_first_call_and_readable_names():
    source = ast_hybrid.to_source(mlp())
    assert source.startswith("def HybridSequential(x, p0_weight")
    assert "basic_layers.py:" in source


def test_new_batch_size_does_not_recompile():
    net = mlp()
    net.hybridize()
    net(nd.ones((1, 512)))
    programs = dict(net._programs)
    net(nd.ones((7, 512)))
    assert net._programs == programs and len(programs) == 1


def test_child_added_or_attribute_changed_recompiles():
    class Scaled(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.factor = 2.0
            self.body = nn.HybridSequential()

        def hybrid_forward(self, F, x):
            return self.body(x) * self.factor

    block = Scaled()
    block.hybridize()
    x = nd.ones((1, 3))
    np.testing.assert_array_equal(block(x).asnumpy(), 2 * np.ones((1, 3)))
    block.factor = 5.0
    np.testing.assert_array_equal(block(x).asnumpy(), 5 * np.ones((1, 3)))
    block.body.add(nn.HybridLambda(lambda F, v: v + 1))
    np.testing.assert_array_equal(block(x).asnumpy(), 10 * np.ones((1, 3)))


def test_load_parameters_and_reinitialization_are_seen_at_once(tmp_path):
    net = mlp()
    net.hybridize()
    x = nd.random.normal(shape=(2, 512))
    net(x)
    net[2].bias.set_data(nd.ones((2,)))
    saved = str(tmp_path / "p.params")
    net.save_parameters(saved)
    expected_after_set = net(x).asnumpy()
    other = mlp()
    other(x)
    other.hybridize()
    other(x)
    other.load_parameters(saved)
    np.testing.assert_allclose(other(x).asnumpy(), expected_after_set, rtol=1e-6)
    other.initialize(force_reinit=True)
    net.hybridize(active=False)
    other.hybridize(active=False)
    reference = other(x).asnumpy()
    other.hybridize()
    np.testing.assert_allclose(other(x).asnumpy(), reference, rtol=1e-6)


def test_bias_change_shifts_output_exactly():
    net = mlp()
    net.hybridize()
    x = nd.random.normal(shape=(2, 512))
    before = net(x).asnumpy()
    bias = net[2].bias
    bias.set_data(bias.data().asnumpy() + 1.5)
    np.testing.assert_allclose(net(x).asnumpy(), before + 1.5, rtol=1e-6)


def test_threads_compile_once_and_agree():
    net = mlp()
    x = nd.random.normal(shape=(4, 512))
    want = net(x).asnumpy()
    net.hybridize()
    builds = []
    original = dispatch._build

    def counting_build(block, args):
        builds.append(block)
        return original(block, args)

    results, errors = [], []

    def worker():
        try:
            for _ in range(20):
                results.append(net(x).asnumpy())
        except Exception as error:  # surfaced below
            errors.append(error)

    dispatch._build = counting_build
    try:
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        dispatch._build = original
    assert not errors and len(builds) == 1 and len(results) == 80
    for result in results:
        np.testing.assert_allclose(result, want, rtol=1e-6)


def test_check_raises_when_program_disagrees(monkeypatch):
    net = mlp()
    net.hybridize(check=True)
    net(nd.ones((1, 512)))
    net.hybridize(check=True)
    original = entry.CompiledEntry.__call__
    monkeypatch.setattr(entry.CompiledEntry, "__call__",
                        lambda self, args: original(self, args) + 1)
    with pytest.raises(HybridizeCheckError, match="disagrees with imperative mode"):
        net(nd.ones((1, 512)))


def test_hybrid_decorator_on_function_and_method(capsys):
    @ast_hybrid.hybrid
    def scaled_relu(F, x, scale=2.0):
        print("running")
        return F.relu(x) * scale

    x = nd.array([[-1.0, 3.0]])
    np.testing.assert_array_equal(scaled_relu(x).asnumpy(), [[0.0, 6.0]])
    np.testing.assert_array_equal(scaled_relu(x, 3.0).asnumpy(), [[0.0, 9.0]])
    assert capsys.readouterr().out.count("running") == 2
    assert "def scaled_relu(x" in ast_hybrid.to_source(scaled_relu)

    class Decorated(nn.HybridBlock):
        @ast_hybrid.hybrid
        def hybrid_forward(self, F, x):
            return x + 1

    block = Decorated()
    block(x)
    assert block._programs and next(iter(block._programs.values())).mode == "ast"

    with pytest.raises(TypeError, match="first parameter is F"):
        ast_hybrid.hybrid(lambda x: x)


def test_layer_on_a_branch_not_taken_yet_initializes_when_reached():
    class Lazy(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.dense = nn.Dense(3)

        def hybrid_forward(self, F, x):
            if x.sum() > 0:
                return self.dense(x)
            return x * 0

    block = Lazy()
    block.initialize()
    block.hybridize()
    np.testing.assert_array_equal(block(-nd.ones((1, 3))).asnumpy(), np.zeros((1, 3)))
    positive = block(nd.ones((2, 3)))
    weight = block.dense.weight.data().asnumpy()
    bias = block.dense.bias.data().asnumpy()
    np.testing.assert_allclose(positive.asnumpy(), np.ones((2, 3)) @ weight.T + bias, rtol=1e-6)
    np.testing.assert_allclose(block(nd.ones((2, 3))).asnumpy(), positive.asnumpy(), rtol=1e-6)


def test_recompiling_adds_no_watchers():
    class Scaled(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.factor = 1.0

        def hybrid_forward(self, F, x):
            return x * self.factor

    block = Scaled()
    block.hybridize()
    for factor in range(5):
        block.factor = float(factor)
        np.testing.assert_array_equal(block(nd.ones((1, 2))).asnumpy(), [[factor, factor]])
    assert len(block._watchers) == 1


def test_zero_argument_super_in_an_inlined_method_is_compiled():
    class Base(nn.HybridBlock):
        def scale(self):
            return 2.0

    class Child(Base):
        def scale(self):
            return super().scale() * 3

        def hybrid_forward(self, F, x):
            return x * self.scale()

    block = Child()
    block.hybridize(fallback=False)
    out = block(nd.ones((1, 2)))
    np.testing.assert_array_equal(out.asnumpy(), 6 * np.ones((1, 2)))
    assert "6" in ast_hybrid.to_source(block)       # evaluated while compiling


def test_zero_argument_super_in_hybrid_forward_is_compiled():
    class Base(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            return F.relu(x) + 1

    class Child(Base):
        def hybrid_forward(self, F, x):
            return super().hybrid_forward(F, x) * 2

    block = Child()
    x = nd.array(np.array([[-1.0, 2.0]], dtype=np.float32))
    expected = block(x).asnumpy()
    block.hybridize(fallback=False)
    np.testing.assert_array_equal(block(x).asnumpy(), expected)
    np.testing.assert_array_equal(expected, (np.maximum([[-1.0, 2.0]], 0) + 1) * 2)
