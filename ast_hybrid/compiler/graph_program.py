"""Graph -> program: one statement per operator node, each a direct kernel call on numpy arrays.

Used by trace mode and by blocks imported from JSON; identifiers come from the Namer, so node
names read from a file are only hints for readable names, never code.
"""
import ast

from ..base import garbage_collection_paused
from .. import autograd
from ..symbol.symbol import Symbol
from .backend import Program, compile_program, constant
from .origins import chain, set_origin
from .naming import Namer
from .toolkit import name as _name


def _read_training_flag(namer, namespace):
    """`training = is_training()`: train/predict mode is read on every call, never frozen."""
    variable, reader = namer.fresh("training"), namer.fresh("is_training")
    namespace[reader] = autograd.is_training
    return variable, ast.Assign([_name(variable, True)], ast.Call(_name(reader), [], []))


def _argument_of(variable, arguments):
    """What stands for a variable node of the graph: its entry in `arguments` by name."""
    if variable.name not in arguments:
        raise ValueError(f"the graph needs variable {variable.name!r}, which is neither an "
                         "input nor a parameter")
    return arguments[variable.name]


def build_graph_function(outputs, argument_names, function_name, namer):
    """(FunctionDef, namespace, kernel_ops) computing `outputs` [(node, index)] from the
    variables named `argument_names`, which become the function's parameters in that order;
    kernel_ops maps each kernel's identifier to its operator."""
    function_name = namer.fresh(function_name)
    namespace, kernel_names, values, kernel_ops = {}, {}, {}, {}
    identifiers = {name: namer.fresh(name) for name in argument_names}
    arguments = [ast.arg(identifiers[name]) for name in argument_names]
    body = []
    nodes = Symbol(outputs).topological_nodes()
    training, training_setup = None, None
    for node in nodes:
        if node.is_variable:
            values[(id(node), 0)] = _argument_of(node, identifiers)
            continue
        op = node.op
        if op.name not in kernel_names:
            kernel_names[op.name] = namer.fresh(op.name.lstrip("_"))
            namespace[kernel_names[op.name]] = op.kernel
            kernel_ops[kernel_names[op.name]] = op
        call_args = [_name(values[(id(parent), index)]) for parent, index in node.inputs]
        keywords = [ast.keyword(key, constant(value)) for key, value in node.attrs.items()]
        if op.mode_dependent:
            if training is None:
                training, training_setup = _read_training_flag(namer, namespace)
            keywords.append(ast.keyword("training", _name(training)))
        call = ast.Call(_name(kernel_names[op.name]), call_args, keywords)
        count = node.output_count()
        targets = [namer.fresh(node.name if count == 1 else f"{node.name}_{i}")
                   for i in range(count)]
        for index, target in enumerate(targets):
            values[(id(node), index)] = target
        target = (_name(targets[0], True) if count == 1 else
                  ast.Tuple([_name(t, True) for t in targets], ast.Store()))
        body.append(set_origin(ast.Assign([target], call),
                               None if node.location is None else chain(*node.location)))
    if training_setup is not None:
        body.insert(0, training_setup)
    results = [_name(values[(id(node), index)]) for node, index in outputs]
    body.append(ast.Return(results[0] if len(results) == 1 else ast.Tuple(results, ast.Load())))
    function = ast.FunctionDef(function_name, ast.arguments([], arguments, None, [], [], None, []),
                               body, [], None)
    return function, namespace, kernel_ops


def compile_graph(outputs, argument_names, label):
    namer = Namer()
    with garbage_collection_paused():
        function, namespace, kernel_ops = build_graph_function(outputs, argument_names, label,
                                                               namer)
        return compile_program([function], namespace, label, kernel_ops=kernel_ops, namer=namer)


# Above this many operator nodes a graph runs as a plan of kernel calls, not as a generated
# program: rendering and compiling one statement per node costs about 50 us a node and its
# source and code stay in memory, more than the Python a program saves over a plan.
PLANNED_GRAPH_NODES = 20_000


def operator_node_count(outputs):
    return sum(1 for node in Symbol(outputs).topological_nodes() if not node.is_variable)


def plan_graph(outputs, argument_names, label):
    """A Program whose function computes `outputs` from arrays for `argument_names` by
    calling each node's kernel in order, freeing each value after its last use; no source
    is generated, so its cost is linear in the nodes, and nothing from the graph is code."""
    with garbage_collection_paused():
        return _plan_graph(outputs, argument_names, label)


def _plan_graph(outputs, argument_names, label):
    slot_of = {}
    for name in argument_names:
        slot_of[name] = len(slot_of)
    argument_count = len(slot_of)
    steps, values, last_use, slot_count = [], {}, {}, argument_count
    for node in Symbol(outputs).topological_nodes():
        if node.is_variable:
            values[(id(node), 0)] = _argument_of(node, slot_of)
            continue
        inputs = [values[(id(parent), index)] for parent, index in node.inputs]
        for slot in inputs:
            last_use[slot] = len(steps)
        targets = list(range(slot_count, slot_count + node.output_count()))
        slot_count += len(targets)
        for index, slot in enumerate(targets):
            values[(id(node), index)] = slot
        steps.append((node.op.kernel, inputs, dict(node.attrs), targets, node.op.mode_dependent))
    results = [values[(id(node), index)] for node, index in outputs]
    for slot in results:
        last_use[slot] = len(steps)
    freed = [[] for _ in range(len(steps) + 1)]   # the last, for the results, is never run
    for slot, step in last_use.items():
        freed[step].append(slot)

    def run_plan(*arrays):
        slots = list(arrays) + [None] * (slot_count - argument_count)
        training = autograd.is_training()
        for (kernel, inputs, attrs, targets, mode_dependent), dead in zip(steps, freed):
            if mode_dependent:
                result = kernel(*[slots[i] for i in inputs], training=training, **attrs)
            else:
                result = kernel(*[slots[i] for i in inputs], **attrs)
            if len(targets) == 1:
                slots[targets[0]] = result
            else:
                for slot, value in zip(targets, result):
                    slots[slot] = value
            for slot in dead:
                slots[slot] = None
        found = [slots[i] for i in results]
        return found[0] if len(found) == 1 else tuple(found)

    source = (f"# {label}: a graph of {len(steps)} operator nodes, run as a plan of kernel "
              f"calls (more than {PLANNED_GRAPH_NODES} nodes are not compiled)\n")
    return Program(run_plan, source, f"{label} plan", label=label)
