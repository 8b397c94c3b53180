"""Inlining support: frames for inlined bodies, argument binding, and returns moved to the tail.

A call to a child block or a helper method is replaced by the callee's own specialized body.
Before that, `transform` rewrites the body so that every `return` is the last statement on its
path (`if c: return a` followed by more code becomes an if/else), which lets a return become an
assignment to the call's result.
"""
import ast
import copy

from .values import Static


def always_returns(statements):
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return always_returns(last.body) and always_returns(last.orelse)
    return False


def _contains_return(statements):
    return any(isinstance(node, ast.Return) for s in statements for node in ast.walk(s))


def _tail_returns(statements):
    result = []
    for index, statement in enumerate(statements):
        if isinstance(statement, ast.If) and _contains_return([statement]):
            rest = statements[index + 1:]
            statement = copy.copy(statement)
            body, orelse = _tail_returns(statement.body), _tail_returns(statement.orelse)
            if rest:
                if not always_returns(body):
                    body = body + copy.deepcopy(rest)
                if not always_returns(orelse):
                    orelse = orelse + copy.deepcopy(rest)
                statement.body, statement.orelse = _tail_returns(body), _tail_returns(orelse)
            else:
                statement.body, statement.orelse = body, orelse
            result.append(statement)
            return result
        result.append(statement)
        if isinstance(statement, (ast.Return, ast.Raise)):
            return result
    return result


def transform(function_node):
    """A copy of `function_node` whose returns all sit at the tail of their paths."""
    node = copy.copy(function_node)
    node.body = _tail_returns(list(function_node.body))
    return node


def bind_arguments(parsed, values, keywords, skip_self):
    """{parameter name: value} for a call, following Python's rules for defaults and *args."""
    arguments = parsed.node.args
    names = [a.arg for a in arguments.args]
    if skip_self:
        names = names[1:]
    default_values = parsed.default_values
    if default_values is None:
        default_values = [Static(d) for d in parsed.function.__defaults__ or ()]
    with_defaults = [a.arg for a in arguments.args][len(arguments.args) - len(arguments.defaults):]
    defaults = dict(zip(with_defaults, default_values))
    bound = {}
    positional = list(values)
    for name in names:
        if positional:
            bound[name] = positional.pop(0)
    extra_positional = positional
    extra_keywords = {}
    for key, value in keywords.items():
        if key in names:
            if key in bound:
                raise TypeError(f"{parsed.node.name}() got multiple values for argument {key!r}")
            bound[key] = value
        else:
            extra_keywords[key] = value
    for name in names:
        if name not in bound:
            if name not in defaults:
                raise TypeError(f"{parsed.node.name}() missing required argument {name!r}")
            bound[name] = defaults[name]
    if arguments.vararg is not None:
        bound[arguments.vararg.arg] = extra_positional
    elif extra_positional:
        raise TypeError(f"{parsed.node.name}() takes {len(names)} positional arguments but "
                        f"{len(names) + len(extra_positional)} were given")
    if arguments.kwarg is not None:
        bound[arguments.kwarg.arg] = extra_keywords
    elif extra_keywords:
        raise TypeError(f"{parsed.node.name}() got unexpected keyword arguments "
                        f"{', '.join(extra_keywords)}")
    return bound
