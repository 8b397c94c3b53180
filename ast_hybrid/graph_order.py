"""Depth-first post order of a graph: each node after all the nodes it depends on."""


def post_order(roots, dependencies):
    """Every node reachable from `roots` through `dependencies(node)`, dependencies first,
    in first-visit order; iterative, so deep graphs do not hit the recursion limit."""
    order, seen = [], set()
    for root in roots:
        stack = [(root, False)]
        while stack:
            current, expanded = stack.pop()
            if expanded:
                order.append(current)
                continue
            if id(current) in seen:
                continue
            seen.add(id(current))
            stack.append((current, True))
            for dependency in reversed(dependencies(current)):
                if id(dependency) not in seen:
                    stack.append((dependency, False))
    return order
