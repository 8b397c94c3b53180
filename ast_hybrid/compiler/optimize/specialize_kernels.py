"""Kernel specialization: a kernel call with literal attributes becomes a call of the kernel its
operator binds to those attributes (Op.specialize): Activation(x, act_type='relu') -> relu(x)."""
import ast

from .analysis import kernel_op


def _calls(node, found):
    """Every Call under `node`, appended to `found` in post-order (a call after its arguments,
    as ast.NodeTransformer visits them), without the transformer's dispatch on every node."""
    for field in node._fields:
        value = getattr(node, field, None)
        if value.__class__ is list:
            for item in value:
                if isinstance(item, ast.AST):
                    _calls(item, found)
        elif isinstance(value, ast.AST):
            _calls(value, found)
    if node.__class__ is ast.Call:
        found.append(node)
    return found


class _Specializer:
    def __init__(self, info):
        self.info = info
        self.bound = {}            # (operator name, attrs) -> identifier of the bound kernel
        self.by_kernel = {}        # id(bound kernel) -> identifier (one name per function)

    def named_already(self, kernel):
        """The name the namespace already gives `kernel` (a program derived from one that
        calls it: a recording), or None."""
        return next((name for name, value in self.info.namespace.items() if value is kernel),
                    None)

    def specialize(self, node):
        """Make the call `node` one of its operator's bound kernel, where it has one."""
        op = kernel_op(node, self.info)
        if op is None or op.specialize is None or \
                (op.specialized_layout and self.info.imperative_layouts) or \
                any(isinstance(a, ast.Starred) for a in node.args):
            return
        try:
            attrs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        except (ValueError, TypeError, SyntaxError):
            return                        # an attribute known only at run time
        if None in attrs:                 # **kwargs
            return
        key = (op.name, repr(sorted(attrs.items())))
        name = self.bound.get(key)
        if name is None:
            try:
                kernel = op.specialized_kernel(op.parse_attrs(attrs))
            except Exception:             # attributes the kernel itself would reject
                kernel = None
            if kernel is None:
                self.bound[key] = False
                return
            name = self.by_kernel.get(id(kernel)) or self.named_already(kernel)
            if name is None:
                name = self.info.namer.fresh(getattr(kernel, "__name__", op.name).lstrip("_"))
                self.by_kernel[id(kernel)] = name
            self.info.namespace[name] = kernel
            self.info.kernel_ops[name] = op
            self.bound[key] = name
        if name:
            node.func = ast.copy_location(ast.Name(name, ast.Load()), node.func)
            node.keywords = []


def transform(function_def, info):
    specializer = _Specializer(info)
    for call in _calls(function_def, []):
        specializer.specialize(call)
    return function_def
