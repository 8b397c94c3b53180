"""An attribute's default is the operator table's: where a kernel also takes it by default,
the two agree, so a program that leaves the attribute out computes what the table says."""
import inspect

import pytest

from ast_hybrid import ops
from ast_hybrid.compiler.passes.lower import kernel_defaults

OPERATORS = sorted({op.name: op for op in ops.REGISTRY.values()}.items())


def _kernel_parameter_defaults(op):
    try:
        parameters = inspect.signature(op.kernel).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("name, op", OPERATORS, ids=[name for name, _ in OPERATORS])
def test_kernel_defaults_are_the_tables(name, op):
    in_kernel = _kernel_parameter_defaults(op)
    for key, spec in op.attrs.items():
        if key not in in_kernel:
            continue
        assert not spec.required, f"{name}.{key}: the table requires what the kernel defaults"
        table = spec.parse(spec.default) if spec.default is not None else None
        kernel = in_kernel[key]
        assert type(table) is type(kernel) and table == kernel, (
            f"{name}.{key}: the table says {table!r}, the kernel {kernel!r}")


def test_the_program_omits_exactly_the_table_defaults():
    dense = ops.get("FullyConnected")
    assert kernel_defaults(dense) == {"no_bias": False, "flatten": True}
    pooling = ops.get("Pooling")
    omitted = kernel_defaults(pooling)
    assert set(omitted) <= set(pooling.attrs)
    assert all(omitted[key] == pooling.attrs[key].parse(pooling.attrs[key].default)
               for key in omitted if pooling.attrs[key].default is not None)


def test_the_table_has_operators_whose_kernels_take_defaults():
    assert sum(len(_kernel_parameter_defaults(op).keys() & op.attrs.keys())
               for _, op in OPERATORS) > 100
