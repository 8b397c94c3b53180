"""HybridBlock.export_onnx: trace a block on example inputs and write its ONNX model."""
from ..compiler.trace import flatten_inputs, trace
from .export_model import export_model


def export_onnx(block, path, *example_inputs, **options):
    """Write `block` as an ONNX model at `path`, traced on `example_inputs` (NDArrays, whose
    shapes and types the model's inputs take; by default their first axis is left free);
    `options` are export_model's. Returns `path`."""
    block(*example_inputs)      # finishes deferred initialization, as export's call does
    traced = trace(block, list(example_inputs))
    arrays = dict(zip(traced.data_names, flatten_inputs(list(example_inputs))[0]))
    used = set(traced.symbol.list_inputs())
    names = [name for name in traced.symbol.list_inputs() if name in arrays]
    unused = [name for name in arrays if name not in used]
    if unused:
        raise ValueError(f"export_onnx: the graph does not use the inputs {', '.join(unused)}")
    params = {name: param.data() for name, param in traced.params.items()}
    return export_model(traced.symbol, params, in_shapes=[arrays[n].shape for n in names],
                        in_types=[arrays[n].dtype for n in names], onnx_file_path=path,
                        **options)
