"""The callee decision: what compiled code does with each kind of call, as one typed result."""
import ast
import math
import os

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import gluon, nd
from ast_hybrid.compiler.passes import specialize_calls
from ast_hybrid.compiler.passes.callee import CalleeKind, decide
from ast_hybrid.compiler.passes.values import (ANY, ARRAY, Dynamic, FRef, Local, Seq, Static,
                                               Table)

ARRAY_VALUE = Dynamic(ast.Name("x", ast.Load()), ARRAY)
RUN_TIME_VALUE = Dynamic(ast.Name("n", ast.Load()), ANY)
OUTSIDE = [1, 2]


def users_helper(F, x):
    return F.relu(x)


class Hybrid(gluon.HybridBlock):
    def hybrid_forward(self, F, x):
        return self.helper(F, x)

    def helper(self, F, x):
        return x


@pytest.mark.parametrize("callee, args, kwargs, kind, path", [
    (FRef("relu"), [ARRAY_VALUE], {}, CalleeKind.OPERATOR, "relu"),
    (Static(nd.relu), [ARRAY_VALUE], {}, CalleeKind.OPERATOR, "relu"),
    (Static(nd.random.normal), [Static(0), RUN_TIME_VALUE], {}, CalleeKind.OPERATOR,
     "random.normal"),
    (Static(nd.array), [RUN_TIME_VALUE], {}, CalleeKind.ND_ARRAY, None),
    (Local(None, None), [], {}, CalleeKind.LOCAL_FUNCTION, None),
    (RUN_TIME_VALUE, [ARRAY_VALUE], {}, CalleeKind.RUN_TIME_CALLEE, None),
    (Static(print), [ARRAY_VALUE], {}, CalleeKind.PRINT, None),
    (Static(super), [], {}, CalleeKind.ZERO_ARGUMENT_SUPER, None),
    (Static(OUTSIDE.append), [Static(3)], {}, CalleeKind.OUTSIDE_MUTATION, None),
    (Static(getattr), [FRef("contrib"), Static("div_sqrt_dim")], {}, CalleeKind.F_ATTRIBUTE,
     "contrib.div_sqrt_dim"),
    (Static(users_helper), [FRef(), ARRAY_VALUE], {}, CalleeKind.USER_FUNCTION, None),
    (Static(len), [Seq([ARRAY_VALUE, ARRAY_VALUE], list)], {}, CalleeKind.KNOWN_LENGTH, None),
    (Static(np.sum), [ARRAY_VALUE], {}, CalleeKind.NUMPY_ON_ARRAY, None),
    (Static(abs), [ARRAY_VALUE], {}, CalleeKind.BUILTIN_ON_ARRAYS, None),
    (Static(max), [ARRAY_VALUE, ARRAY_VALUE], {}, CalleeKind.BUILTIN_ON_ARRAYS, None),
    (Static(isinstance), [Seq([ARRAY_VALUE], list), Static(list)], {},
     CalleeKind.KNOWN_ISINSTANCE, None),
    (Static(math.sqrt), [Static(4.0)], {}, CalleeKind.EVALUATED_NOW, None),
    (Static(len), [Static((1, 2))], {}, CalleeKind.EVALUATED_NOW, None),
    (Static(nd.relu), [Static(nd.ones((2,)))], {}, CalleeKind.RUN_TIME_CALL, None),
    (Static(sorted), [Seq([Seq([Static("b"), ARRAY_VALUE], tuple),
                           Seq([Static("a"), ARRAY_VALUE], tuple)], list)], {},
     CalleeKind.SORTED_PAIRS, None),
    (Static(dict), [Table({"a": ARRAY_VALUE})], {}, CalleeKind.DICT_COPY, None),
    (Static(sorted), [Table({"a": ARRAY_VALUE})], {}, CalleeKind.KEYS_OF_DICT, None),
    (Static(tuple), [Seq([ARRAY_VALUE], list)], {}, CalleeKind.SEQUENCE_COPY, None),
    (Static(zip), [Seq([ARRAY_VALUE], list), Seq([Static(1)], list)], {},
     CalleeKind.SEQUENCE_BUILTIN, None),
    (Static(os.path.join), [RUN_TIME_VALUE, Static("a")], {}, CalleeKind.RUN_TIME_CALL, None),
])
def test_each_kind_of_call_is_told_apart(callee, args, kwargs, kind, path):
    decided = decide(callee, args, kwargs)
    assert decided.kind is kind
    assert decided.path == path


def test_blocks_and_their_methods():
    block = Hybrid()
    assert decide(Static(block), [ARRAY_VALUE], {}).kind is CalleeKind.HYBRID_BLOCK
    assert decide(Static(gluon.nn.Sequential()), [ARRAY_VALUE], {}).kind \
        is CalleeKind.OTHER_BLOCK
    method = decide(Static(block.helper), [FRef(), ARRAY_VALUE], {})
    assert method.kind is CalleeKind.BLOCK_METHOD
    assert method.owner is block and method.function is Hybrid.helper
    dense = gluon.nn.Dense(2)
    data = decide(Static(dense.weight.data), [], {})
    assert data.kind is CalleeKind.PARAMETER_DATA and data.owner is dense.weight


def test_a_hybrid_function_is_inlined_given_f():
    @ast_hybrid.hybrid
    def scaled(F, x):
        return F.relu(x) * 2

    decided = decide(Static(scaled), [ARRAY_VALUE], {})
    assert decided.kind is CalleeKind.HYBRID_FUNCTION and decided.function is scaled


def test_every_kind_has_the_method_that_makes_its_call():
    for kind in CalleeKind:
        assert callable(getattr(specialize_calls.CallSpecializer,
                                specialize_calls._HANDLERS[kind]))
