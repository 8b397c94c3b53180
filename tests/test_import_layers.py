"""The package's layers depend one way (design.md): no import cycle, no import from a lower layer
to a higher one, and every subpackage importable on its own, in any order."""
import ast
import pathlib
import pkgutil
import subprocess
import sys

import pytest

import ast_hybrid

PACKAGE = pathlib.Path(ast_hybrid.__file__).parent

# each top-level module or subpackage of ast_hybrid, by layer: a module may import from its
# own layer and those below it, never from one above. The operator table and autograd's
# tape (which knows arrays only as TapeArray) are below the arrays and symbols, which the
# compiler lowers to, which gluon's blocks ask for programs; the package's face, its test
# helpers and the benchmark sit on top. A unit not named here is not checked until it is.
LAYERS = [
    {"base", "program_files", "files", "limits", "graph_order", "name", "context"},
    {"ops", "autograd"},
    {"ndarray", "symbol", "random", "initializer", "model_pair"},
    {"compiler"},
    {"gluon", "optimizer", "optimizer_states", "lr_scheduler", "metric", "errors", "contrib", "util", "kvstore", "onnx", "viz"},
    {"test_utils", "bench", "__init__"},
]
LAYER_OF = {unit: level for level, units in enumerate(LAYERS) for unit in units}


def _modules():
    """{dotted name: (path, is a package)} for every module of ast_hybrid."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


MODULES = _modules()


def _known(name):
    """`name`, or the nearest enclosing module of it (`pkg.mod.function` -> `pkg.mod`)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _targets(module, is_package, node):
    """The modules of ast_hybrid an import statement in `module` imports."""
    if isinstance(node, ast.Import):
        return [_known(alias.name) for alias in node.names if alias.name.startswith("ast_hybrid")]
    if node.level:
        base = module.split(".")[:None if is_package else -1]
        base = base[:len(base) - node.level + 1]
        source = ".".join(base + ([node.module] if node.module else []))
    elif (node.module or "").startswith("ast_hybrid"):
        source = node.module
    else:
        return []
    return [_known(f"{source}.{alias.name}") for alias in node.names]


def _imports(at_module_level):
    """{module: modules it imports}: at module level (what importing it runs) or anywhere.
    Importing `a.b.c` also runs the packages `a.b` and `a` not enclosing the importer."""
    graph = {}
    for module, (path, is_package) in MODULES.items():
        found = set()
        _collect(ast.parse(path.read_text()), module, is_package, at_module_level, found)
        for target in list(found):
            parts = target.split(".")
            found.update(".".join(parts[:i]) for i in range(1, len(parts))
                         if not module.startswith(".".join(parts[:i]) + "."))
        found.discard(module)
        graph[module] = found
    return graph


def _collect(node, module, is_package, at_module_level, found):
    for child in ast.iter_child_nodes(node):
        if at_module_level and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                  ast.Lambda)):
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found.update(_targets(module, is_package, child))
        _collect(child, module, is_package, at_module_level, found)


def _cycle(graph):
    """One import cycle of `graph` as a list of modules, or None."""
    state, path = {}, []

    def visit(module):
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        state[module] = "done"
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def _unit(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_module_level_imports_have_no_cycle():
    cycle = _cycle(_imports(at_module_level=True))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_import_reaches_a_higher_layer():
    # imports inside functions count too: they are how a cycle hides
    upward = sorted(f"{module} imports {target}"
                    for module, targets in _imports(at_module_level=False).items()
                    for target in targets
                    if _unit(module) in LAYER_OF and _unit(target) in LAYER_OF
                    and LAYER_OF[_unit(target)] > LAYER_OF[_unit(module)])
    assert not upward, "\n".join(upward)


def test_the_compiler_imports_nothing_from_gluon():
    reaching = sorted(module for module, targets in _imports(at_module_level=False).items()
                      if module.startswith("ast_hybrid.compiler")
                      and any(t.startswith("ast_hybrid.gluon") for t in targets))
    assert not reaching


def test_the_walker_resolves_relative_imports_and_finds_a_cycle():
    node = ast.parse("from ...gluon.block import Block").body[0]
    assert _targets("ast_hybrid.compiler.passes.x", False, node) == ["ast_hybrid.gluon.block"]
    node = ast.parse("from . import nn, loss").body[0]
    assert _targets("ast_hybrid.gluon", True, node) == ["ast_hybrid.gluon.nn",
                                                         "ast_hybrid.gluon.loss"]
    graph = {"ast_hybrid.a": {"ast_hybrid.b"}, "ast_hybrid.b": {"ast_hybrid.a"}}
    assert _cycle(graph) == ["ast_hybrid.a", "ast_hybrid.b", "ast_hybrid.a"]


SUBPACKAGES = sorted(name for _, name, is_package in
                     pkgutil.walk_packages([str(PACKAGE)], "ast_hybrid.") if is_package)

# a bare parent package: `import ast_hybrid.compiler` then runs only what the compiler needs,
# not the package's __init__ (which imports every layer and would hide a missing import);
# the top layer may use the package's face (`from .. import nd`), so it is not run so
_BARE_PARENT = ("import sys, types; parent = types.ModuleType('ast_hybrid'); "
                f"parent.__path__ = [{str(PACKAGE)!r}]; sys.modules['ast_hybrid'] = parent; ")


def _runs(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, f"{code}\n{result.stderr[-2000:]}"


@pytest.mark.parametrize("first", SUBPACKAGES)
def test_each_subpackage_imports_first_then_the_rest_in_reverse(first):
    rest = [name for name in reversed(SUBPACKAGES) if name != first]
    _runs("; ".join(f"import {name}" for name in [first] + rest))


@pytest.mark.parametrize("name", [name for name in SUBPACKAGES
                                  if LAYER_OF.get(_unit(name)) != len(LAYERS) - 1])
def test_each_subpackage_below_the_top_imports_without_the_package_face(name):
    _runs(f"{_BARE_PARENT}import {name}")
