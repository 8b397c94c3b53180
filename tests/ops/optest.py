"""Helpers shared by the operator tests (imported as `optest`): run an operator through its declaration."""
import re

import numpy as np
import pytest

from ast_hybrid.ops import VARIADIC, OpError, get


def run_op(name, *arrays, training=None, **attrs):
    """Parse attrs, infer shapes, call the kernel; check what every operator must satisfy.

    Checks: attributes survive a round trip through their JSON strings; the shape rule's output
    shapes equal the kernel's; float32 inputs give float32 outputs (unless a dtype is asked for).
    Returns the kernel's outputs as a list.
    """
    op = get(name)
    if op.inputs == VARIADIC:
        attrs.setdefault("num_args", len(arrays))
    parsed = op.parse_attrs(attrs)
    assert op.parse_attrs(op.format_attrs(parsed)) == parsed
    assert all(isinstance(v, str) for v in op.format_attrs(parsed).values())
    in_shapes, out_shapes = op.infer_shape(parsed, [a.shape for a in arrays])
    assert [tuple(s) for s in in_shapes] == [a.shape for a in arrays]
    kwargs = dict(parsed)
    if op.mode_dependent:
        kwargs["training"] = bool(training)
    result = op.kernel(*arrays, **kwargs)
    outputs = list(result) if isinstance(result, tuple) else [result]
    assert len(outputs) == op.output_count(parsed)
    assert [o.shape for o in outputs] == [tuple(s) for s in out_shapes]
    if arrays and all(a.dtype == np.float32 for a in arrays) and "dtype" not in attrs:
        assert all(o.dtype == np.float32 for o in outputs), [o.dtype for o in outputs]
    return outputs


def infer(name, in_shapes, **attrs):
    op = get(name)
    if op.inputs == VARIADIC:
        attrs.setdefault("num_args", len(in_shapes))
    return op.infer_shape(op.parse_attrs(attrs), in_shapes)


def shape_fails(name, in_shapes, pattern=None, **attrs):
    """Assert that inferring shapes raises OpError naming the operator and the input shapes."""
    shown = next((s for s in in_shapes if s is not None), None)
    expected = re.escape(name) + ".*" + (re.escape(str(tuple(shown))) if shown else "")
    with pytest.raises(OpError, match=expected) as info:
        infer(name, in_shapes, **attrs)
    if pattern:
        assert re.search(pattern, str(info.value)), str(info.value)
    return info.value


def rand(*shape, low=-1.0, high=1.0, seed=0):
    return np.random.default_rng(seed + len(shape)).uniform(low, high, shape).astype(np.float32)

