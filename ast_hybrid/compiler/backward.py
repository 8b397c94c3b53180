"""Backward programs: derived from a compiled forward program by the reverse-mode pass."""
import copy

import numpy as np

from ..base import garbage_collection_paused
from .backend import compile_program
from .origins import last_line
from .optimize import OptimizeInfo, constant_fold, cse, dce, optimize, specialize_kernels
from .passes import reach, reverse
from .passes.errors import UnsupportedConstruct

# the forward program's optimizations that reuse no buffers: the stack and the values a
# backward program reads hold the recording's arrays as they were computed
PASSES = (constant_fold, specialize_kernels, cse, dce)


class DifferentiatedProgram:
    """A recording forward and its backward program, compiled together in one module.

    record(*arrays) -> (result, stack, values); backward(stack, values, result_gradient)
    -> one gradient (or None) per argument of the forward program."""

    @garbage_collection_paused()
    def __init__(self, forward):
        definition = forward.differentiable
        namer = copy.deepcopy(forward.namer)
        namespace = {k: v for k, v in forward.namespace.items() if k != "__builtins__"}
        filename = forward.origins and next(iter(forward.origins.values()))[0]
        optimizer = None
        if forward.optimized:
            info = OptimizeInfo(dict(forward.kernel_ops), namespace, namer,
                                imperative_layouts=True)

            def optimizer(definition):
                return optimize(definition, info, PASSES)
        recording, backward = reverse.transform(definition, forward.kernel_ops, namer, namespace,
                                                filename or forward.filename,
                                                forward.maybe_unbound, optimizer)
        label = forward.label + " backward"
        self.program = compile_program([recording, backward], namespace, label)
        self.record = self.program.namespace[recording.name]
        self.backward = self.program.namespace[backward.name]
        self.reach = reach.OutputReach(definition, forward.kernel_ops, namespace)
        self._decided = set()       # the `needs` whose outputs' attachment is known
        self._single = {}           # needs -> attachment of a result that is one array
        self._return_line = last_line(definition.body) or (filename or forward.filename, 0)

    def check_decided(self, needs):
        """Refuse a call whose outputs imperative mode may or may not attach to the graph,
        depending on how it runs; `needs` is a tuple of whether each input needs a gradient."""
        if needs in self._decided:
            return
        if not self.reach.decided(needs):
            raise UnsupportedConstruct(
                "an output that, depending on the run, is computed from an input needing a "
                "gradient or from outside the graph (asnumpy, detach, nd.array, constants)",
                *self._return_line)
        self._decided.add(needs)

    def attached(self, needs, result):
        """reach.attached for a call whose inputs need gradients as `needs` (a tuple); for
        a result of one array it depends on `needs` alone, so it is kept."""
        if type(result) is not np.ndarray:
            return self.reach.attached(needs, result)
        known = self._single.get(needs)
        if known is None:
            known = self._single[needs] = self.reach.attached(needs, result)
        return known

    @property
    def source(self):
        return self.program.source
