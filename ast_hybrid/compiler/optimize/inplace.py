"""In-place activations: relu of a temporary that the program itself just allocated, that nothing
else refers to and that is dead afterwards, overwrites it (`a = relu(t, out=t)`)."""
import ast

from ... import ops
from .analysis import Liveness, blocks, kernel_op, names_read, names_stored

# operators whose kernels always return an array no other value shares memory with
FRESH = {"FullyConnected", "Convolution", "Activation", "relu", "Pooling"}


def _in_place_kernels():
    """Kernels whose `out=` form computes what they compute, same dtype included."""
    return {ops.get("relu").kernel}


def _simple_assign(statement):
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
            isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id
    return None


def _candidate(statement, info, kernels):
    """The temporary `t` of `a = K(t)` with K a kernel that can run in place, or None."""
    if _simple_assign(statement) is None:
        return None
    call = statement.value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and kernel_op(call, info) is not None
            and info.namespace.get(call.func.id) in kernels
            and len(call.args) == 1 and isinstance(call.args[0], ast.Name)
            and not call.keywords):
        return None
    return call.args[0].id


def _fresh_producer(statements, index, name, info):
    """Whether `name` was last assigned, earlier in this run, by a kernel that allocates, and
    nothing read or rebound it since."""
    for j in range(index - 1, -1, -1):
        statement = statements[j]
        if _simple_assign(statement) == name:
            op = kernel_op(statement.value, info)
            return op is not None and op.name in FRESH and name not in names_read(statement.value)
        if name in names_read(statement) or name in names_stored(statement):
            return False
    return False


def transform(function_def, info):
    kernels = _in_place_kernels()
    liveness = Liveness(function_def.body)
    for statements in blocks(function_def):
        for index, statement in enumerate(statements):
            name = _candidate(statement, info, kernels)
            if name is None or name in info.arguments or name in liveness.after[id(statement)]:
                continue
            if not _fresh_producer(statements, index, name, info):
                continue
            statement.value.keywords = [ast.keyword("out", ast.Name(name, ast.Load()))]
    return function_def
