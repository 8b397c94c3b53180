"""Backward programs: derived from a compiled forward program by the reverse-mode pass."""
import copy

from .backend import compile_program
from .passes import reverse


class DifferentiatedProgram:
    """A recording forward and its backward program, compiled together in one module.

    record(*arrays) -> (result, stack, values); backward(stack, values, result_gradient)
    -> one gradient (or None) per argument of the forward program."""

    def __init__(self, forward):
        definition = forward.differentiable
        namer = copy.deepcopy(forward.namer)
        namespace = {k: v for k, v in forward.namespace.items() if k != "__builtins__"}
        filename = forward.origins and next(iter(forward.origins.values()))[0]
        recording, backward = reverse.transform(definition, forward.kernel_ops, namer, namespace,
                                                filename or forward.filename)
        label = forward.filename[len("<ast_hybrid: "):].rsplit(" #", 1)[0] + " backward"
        self.program = compile_program([recording, backward], namespace, label)
        self.record = self.program.namespace[recording.name]
        self.backward = self.program.namespace[backward.name]

    @property
    def source(self):
        return self.program.source
