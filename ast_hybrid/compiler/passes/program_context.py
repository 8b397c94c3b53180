"""What one program being built shares: names, constants, parameters, the training flag."""
import ast

from ..guards import Guards
from ... import autograd


class ProgramContext:
    """What the whole program shares: names, the constant pool, parameters, the training flag."""

    def __init__(self, namer, watch):
        self.namer = namer
        self.namespace = {}
        self._pooled = {}
        self.parameters = {}        # id(param) -> (identifier, param), in first-use order
        self.parameter_hints = {}
        self._training = None
        self.kernel_ops = {}        # identifier of a kernel in the program -> its operator
        self.watch = watch
        self.guards = Guards()
        self.maybe_unbound = set()  # variables some run-time path leaves unset
        self.unoptimizable = False  # it holds a `with` or `try`, which the optimizer leaves
        self.self_reference = None  # the name a weak reference to the program will have

    def constant_ref(self, value, hint):
        key = id(value)
        if key not in self._pooled:
            name = self.namer.fresh(hint)
            self.namespace[name] = value
            self._pooled[key] = (name, value)
        return ast.Name(self._pooled[key][0], ast.Load())

    def program_ref(self):
        """The name of a weak reference to the program being built (set once compiled)."""
        if self.self_reference is None:
            self.self_reference = self.namer.fresh("this_program")
        return ast.Name(self.self_reference, ast.Load())

    def kernel_ref(self, op, views=False):
        """The name a kernel is called by; the operator is remembered for differentiation."""
        name = self.constant_ref(op.view_kernel if views else op.kernel, op.name.lstrip("_"))
        self.kernel_ops[name.id] = op
        return name

    def parameter_ref(self, param):
        if id(param) not in self.parameters:
            hint = self.parameter_hints.get(id(param), param.name)
            self.parameters[id(param)] = (self.namer.fresh(hint), param)
        return ast.Name(self.parameters[id(param)][0], ast.Load())

    def training_flag(self):
        if self._training is None:
            self._training = self.namer.fresh("training")
        return ast.Name(self._training, ast.Load())

    def fresh_training_flag(self):
        """Inside a `with` that changes autograd's training mode, operators read a flag of
        their own; returns what restore_training_flag needs."""
        saved, self._training = self._training, None
        return saved

    def restore_training_flag(self, saved):
        """The statements that set the inner flag (none if nothing read it), the outer
        flag back in place."""
        setup = self.training_setup()
        self._training = saved
        return setup

    def training_setup(self):
        if self._training is None:
            return []
        reader = self.constant_ref(autograd.is_training, "is_training")
        return [ast.Assign([ast.Name(self._training, ast.Store())], ast.Call(reader, [], []))]

