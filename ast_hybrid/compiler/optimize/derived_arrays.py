"""Derived parameter arrays: a kernel that runs faster on a rearranged weight gets it from a cache
that recomputes only when the parameter's data changes (Parameter.version)."""
import ast

from .analysis import nodes


class DerivedArray:
    """`prepare(array)` of one parameter's data, recomputed when the parameter's version moves
    (set_data, initialize, load, mark_changed -- the Trainer marks its in-place updates) or
    when the program is handed another array."""
    __slots__ = ("parameter", "prepare", "version", "source", "value")

    def __init__(self, parameter, prepare):
        self.parameter = parameter
        self.prepare = prepare
        self.version = None
        self.source = None
        self.value = None

    def __call__(self, array):
        version = self.parameter.version
        if array is self.source and version == self.version:
            return self.value
        value = self.prepare(array)
        self.value, self.source, self.version = value, array, version
        return value


def transform(function_def, info):
    made = {}                      # (parameter identifier, id(prepare)) -> derived identifier
    setup = []
    kernels = {}                   # id(prepared kernel) -> its identifier
    for statements in [function_def.body]:
        for node in (n for s in statements for n in nodes(s)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            kernel = info.namespace.get(node.func.id)
            prepared = getattr(kernel, "prepared", None)
            if prepared is None or node.func.id not in info.kernel_ops or node.keywords:
                continue
            index, prepare, prepared_kernel = prepared
            if len(node.args) <= index or not isinstance(node.args[index], ast.Name):
                continue
            parameter_name = node.args[index].id
            parameter = info.parameters.get(parameter_name)
            if parameter is None:
                continue
            key = (parameter_name, id(prepare))
            if key not in made:
                cache = info.namer.fresh(f"{parameter_name}_cache")
                info.namespace[cache] = DerivedArray(parameter, prepare)
                made[key] = info.namer.fresh(f"{parameter_name}_prepared")
                setup.append(ast.Assign([ast.Name(made[key], ast.Store())],
                                        ast.Call(ast.Name(cache, ast.Load()),
                                                 [ast.Name(parameter_name, ast.Load())], [])))
            kernel_name = kernels.get(id(prepared_kernel))
            if kernel_name is None:
                kernel_name = info.namer.fresh(getattr(prepared_kernel, "__name__", "prepared"))
                kernels[id(prepared_kernel)] = kernel_name
                info.namespace[kernel_name] = prepared_kernel
                info.kernel_ops[kernel_name] = info.kernel_ops[node.func.id]
            node.func = ast.Name(kernel_name, ast.Load())
            node.args[index] = ast.Name(made[key], ast.Load())
    function_def.body = setup + function_def.body
    return function_def
