"""Run a block through trace mode's recording forward/backward programs (imported as `tracegrad`),
as dispatch does once wired: one custom autograd node per call."""
from ast_hybrid.compiler.trace import trace
from ast_hybrid.compiler.trace_backward import make_trace_backward


class TraceRunner:
    def __init__(self, block, *args):
        self.block = block
        traced = trace(block, args)
        self.traced = traced
        self.backward = make_trace_backward(traced.outputs, traced.data_names + list(traced.params),
                                            type(block).__name__)

    def __call__(self, *args):
        inputs = list(args) + [p.data() for p in self.traced.params.values()]
        outputs = self.backward.call_recording(inputs)
        if self.traced.structure is None:
            return outputs[0]
        return self.traced.structure(outputs)
