"""Copying a graph with some of its variables replaced by other symbols."""
from .symbol import Node, Symbol


def substitute(symbol, replacements):
    """`symbol` with each variable named in `replacements` replaced; returns a list of Symbols."""
    copies = {}
    for node in symbol.topological_nodes():
        if node.is_variable:
            replacement = replacements.get(node.name)
            copies[id(node)] = replacement._outputs[0] if replacement is not None else (node, 0)
            continue
        inputs = [copies[id(parent)] if parent.is_variable else (copies[id(parent)][0], index)
                  for parent, index in node.inputs]
        copies[id(node)] = (Node(node.op, node.name, node.attrs, inputs, node.extra,
                                 node.location), 0)
    return [Symbol([(copies[id(node)][0], index) if not node.is_variable else copies[id(node)]])
            for node, index in symbol._outputs]
