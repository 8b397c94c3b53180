"""SymbolBlock: a block made from a graph (an exported `-symbol.json`), runnable, hybridizable."""
from .. import autograd
from .. import symbol as sym
from ..base import garbage_collection_paused
from ..compiler.entry import CompiledEntry
from ..limits import LoadLimits
from ..symbol.executor import evaluate
from ..symbol.shape_inference import declared_shape
from ..symbol.symbol import Symbol
from .block import HybridBlock
from .parameter import ParameterDict


class SymbolBlock(HybridBlock):
    """A block computing the graph `outputs` of the variables `inputs`; its other variables
    are its parameters, named as in the graph (no prefix), taken from `params` (a
    ParameterDict) where it has them."""

    def __init__(self, outputs, inputs, params=None):
        super().__init__()      # counted (`symbolblock0` is its name), but no prefix:
        self._prefix = ""       # the graph's names are the parameters' full names
        self._params = ParameterDict("", params)
        if isinstance(outputs, (list, tuple)):
            outputs = sym.Group(outputs)
        if isinstance(inputs, Symbol):
            inputs = [inputs]
        self._graph = outputs
        self._input_names = []
        for item in inputs:
            if not isinstance(item, Symbol) or item._outputs[0][0].op is not None:
                raise TypeError("SymbolBlock inputs must be variables (sym.var)")
            self._input_names.append(item.name)
        variables, aux = outputs.variable_nodes()
        known = {node.name for node in variables}
        missing = [n for n in self._input_names if n not in known]
        if missing:
            raise ValueError(f"SymbolBlock: the graph has no input named {', '.join(missing)}; "
                             f"its variables are {', '.join(sorted(known))}")
        # arguments, then auxiliary states, as MXNet lists them
        for node in sorted(variables, key=lambda node: id(node) in aux):
            if node.name in self._input_names or self._params._existing(node.name):
                continue
            # a weight whose shape the graph declares can be initialized before any call
            self._params.get(node.name, grad_req="null" if id(node) in aux else "write",
                             shape=declared_shape(node.extra), allow_deferred_init=True)

    @staticmethod
    def imports(symbol_file, input_names, param_file=None, ctx=None, allow_missing=False,
                ignore_extra=False, **limits):
        """A block from an exported graph and (optionally) its parameters file; a params
        file that was not exported with the graph raises LoadError ('mismatched pair').
        `limits` raise those of ast_hybrid.limits.LoadLimits for both files."""
        from ..model_pair import params_file_for
        from ..symbol.json_graph import read_graph_file
        if isinstance(input_names, str):
            input_names = [input_names]
        load_limits = LoadLimits.given(limits)
        with garbage_collection_paused():
            outputs, recorded = read_graph_file(symbol_file, load_limits)
            block = SymbolBlock(outputs, [sym.var(n) for n in input_names])
        if param_file is not None:
            param_file = params_file_for(symbol_file, recorded, param_file)
            block.collect_params().load(param_file, ctx=ctx, allow_missing=allow_missing,
                                        ignore_extra=ignore_extra, **limits)
        return block

    def _arguments(self, args):
        if len(args) != len(self._input_names):
            raise TypeError(f"SymbolBlock takes {len(self._input_names)} inputs "
                            f"({', '.join(self._input_names)}), got {len(args)}")
        return dict(zip(self._input_names, args))

    def _outputs_as(self, results):
        return results[0] if len(results) == 1 else results

    def _call_imperative(self, *args):
        values = self._arguments(args)
        if any(param._deferred_init is not None for param in self._params.values()):
            self.infer_and_initialize(args)
        for key, param in self._params.items():
            values[key] = param.data()
        return self._outputs_as(evaluate(self._graph, values))

    def _call_symbolic(self, *args):
        from ..symbol.substitute import substitute
        values = self._arguments(args)
        for key, param in self._params.items():
            values[key] = param.var()
        return self._outputs_as(substitute(self._graph, values))

    def _build_program(self, args):
        from ..compiler.graph_program import (PLANNED_GRAPH_NODES, compile_graph,
                                              operator_node_count, plan_graph)
        from ..compiler.trace import is_array
        self._arguments(args)
        params = list(self._params.items())
        names = self._input_names + [k for k, _ in params]
        count = len(self._graph)
        structure = None if count == 1 else (list, [None] * count)
        positions = [i for i, a in enumerate(args) if is_array(a)]
        if operator_node_count(self._graph._outputs) > PLANNED_GRAPH_NODES:
            return PlannedEntry(plan_graph(self._graph._outputs, names, "SymbolBlock"),
                                [p for _, p in params], positions, structure, "graph", self)
        program = compile_graph(self._graph._outputs, names, "SymbolBlock")
        return CompiledEntry(program, [p for _, p in params], positions, structure, "graph")


class PlannedEntry(CompiledEntry):
    """The entry of a graph too large to compile (see plan_graph): it runs the plan, and
    records gradients imperatively, node by node, since a plan has no program to
    differentiate."""
    __slots__ = ()

    def __call__(self, args):
        if autograd.is_recording():
            return self.block._call_imperative(*args)
        return super().__call__(args)
