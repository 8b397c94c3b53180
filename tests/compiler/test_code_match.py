"""A definition read from a file is compiled only when it is the code Python runs: a file
edited after its module was imported is refused, never compiled in place of the running code."""
import ast
import importlib
import sys
import textwrap
import uuid
import warnings

import numpy as np
import pytest

from ast_hybrid.compiler.passes.code_match import same_code

# Each module defines `target`: the function whose source is checked. Written the ways
# Python compiles differently by scope: methods using super() and private names, closures
# over an enclosing function's locals, calls on imported modules, nested scopes.
MODULES = {
    "super_and_private_names": """
        import math
        class Base:
            def forward(self, x):
                return x
        class Net(Base):
            def __init__(self):
                self.__scale = 2.0
            def forward(self, x, *rest, key=None, **more):
                y = super().forward(x) * self.__scale + math.sqrt(4.0)
                return [v for v in (y, -y) if v > 0], f"{key!r}"
        target = Net.forward
    """,
    "closure_over_locals": """
        def make(k):
            offset = 0.5
            class Net:
                def forward(self, x):
                    def inner(z):
                        return z * k + offset
                    total = 0
                    while total < 3:
                        total += 1
                        if total == 2:
                            break
                    try:
                        value = inner(x)
                    except (TypeError, ValueError) as error:
                        raise RuntimeError(str(error)) from None
                    return value, (lambda q: q - offset)(x), {i: i * 2 for i in range(total)}
            return Net.forward
        target = make(3)
    """,
    "lambda_and_defaults": """
        import math
        scale = 4
        target = lambda x, bias=1.0: math.fsum(x) * scale + bias
    """,
}

EDITS = [("* self.__scale", "/ self.__scale"), ("math.sqrt(4.0)", "math.sqrt(9.0)"),
         ("v > 0", "v >= 0"), ("key=None", "key"), ("z * k", "z * offset"),
         ("total < 3", "total < 4"), ("break", "continue"), ("TypeError, ValueError", "TypeError"),
         ("bias=1.0", "bias"), ("math.fsum(x)", "math.prod(x)"),
         ("return value,", "value = value + 1\n            return value,")]


@pytest.fixture(autouse=True)
def _importable(tmp_path, monkeypatch):
    # no bytecode cache: an edit within the file's mtime second would be served stale by it
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.syspath_prepend(str(tmp_path))


def _write_module(folder, text):
    name = f"code_match_{uuid.uuid4().hex}"
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    return path, importlib.import_module(name)


def _definition(path, function):
    """The def or lambda at the function's first line in the file as it is now, the way the
    source pass reads it (a lambda as a def returning its body)."""
    line = function.__code__.co_firstlineno
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef) and node.lineno == line and \
                node.name == function.__name__:
            node.decorator_list = []
            return node
        if isinstance(node, ast.Lambda) and node.lineno == line and \
                function.__name__ == "<lambda>":
            where = {name: getattr(node, name) for name in node._attributes}
            return ast.FunctionDef("_lambda", node.args, [ast.Return(node.body, **where)], [],
                                   None, **where)
    return None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_the_imported_text_is_the_code(tmp_path, name):
    path, module = _write_module(tmp_path, MODULES[name])
    assert same_code(_definition(path, module.target), module.target)


@pytest.mark.parametrize("name, old, new", [
    (name, old, new) for name in sorted(MODULES) for old, new in EDITS
    if old in textwrap.dedent(MODULES[name])])
def test_an_edited_text_is_not_the_code(tmp_path, name, old, new):
    text = textwrap.dedent(MODULES[name])
    path, module = _write_module(tmp_path, MODULES[name])
    path.write_text(text.replace(old, new))
    definition = _definition(path, module.target)
    assert definition is None or not same_code(definition, module.target)


BLOCK_SOURCE = """
    from ast_hybrid.gluon import nn

    class Scaled(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            return F.relu(x) * 2
"""


def _edited_block_module(tmp_path):
    path, module = _write_module(tmp_path, BLOCK_SOURCE)
    path.write_text(textwrap.dedent(BLOCK_SOURCE).replace("* 2", "* 3"))
    return path, module


def test_a_block_whose_file_was_edited_after_import_runs_the_imported_code(tmp_path):
    import ast_hybrid as mx
    path, module = _edited_block_module(tmp_path)
    x = mx.nd.array(np.array([[-1.0, 2.0]], dtype=np.float32))
    net = module.Scaled()
    net.hybridize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with mx.autograd.record():
            x.attach_grad()
            y = net(x)
        y.backward()
    assert np.array_equal(y.asnumpy(), [[0.0, 4.0]])           # the imported `* 2`
    assert np.array_equal(x.grad.asnumpy(), [[0.0, 2.0]])
    messages = [str(w.message) for w in caught
                if isinstance(w.message, mx.errors.HybridizeFallbackWarning)]
    assert len(messages) == 1, messages
    assert f"{path}:5" in messages[0]
    assert "source file changed after it was imported" in messages[0]


def test_an_edited_file_is_an_error_without_fallback_and_reload_compiles_the_new_text(tmp_path):
    import ast_hybrid as mx
    path, module = _edited_block_module(tmp_path)
    x = mx.nd.array(np.array([[-1.0, 2.0]], dtype=np.float32))
    net = module.Scaled()
    net.hybridize(fallback=False)
    with pytest.raises(mx.errors.UnsupportedConstruct, match="changed after it was imported"):
        net(x)
    reloaded = importlib.reload(module)
    fresh = reloaded.Scaled()
    fresh.hybridize(fallback=False)
    assert np.array_equal(fresh(x).asnumpy(), [[0.0, 6.0]])
