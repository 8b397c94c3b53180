"""Block.summary: MXNet 1.9.1's table of each block's output shape and parameter count."""
import collections


def block_summary(block, *inputs):
    """Run `block` on `inputs` (it must be initialized and not hybridized) and print, as
    MXNet's Block.summary does, a row per block called (children first, Sequential
    containers left out) and the parameter totals, shared parameters counted once."""
    from ..gluon.block import HybridBlock
    from ..gluon.nn.basic_layers import HybridSequential, Sequential
    rows = collections.OrderedDict()
    rows["Input"] = _row(_shapes_text(inputs), 0, 0, 0)
    seen, handles = set(), []

    def record(child, _, outputs):
        key = f"{type(child).__name__}-{len(rows)}"
        total = trainable = shared = 0
        for param in child.params.values():
            size = param.data().size
            total += size
            trainable += 0 if param.grad_req == "null" else size
            if id(param) in seen:
                shared += size
            seen.add(id(param))
        rows[key] = _row(_shapes_text(outputs), total, trainable, shared)

    def hook(child):
        if isinstance(child, HybridBlock) and child._active:
            raise AssertionError(f'"{child.name}" must not be hybridized to print summary.')
        if not isinstance(child, (Sequential, HybridSequential)):
            handles.append(child.register_forward_hook(record))

    try:
        block.apply(hook)
        block(*inputs)
        _print(rows)
    finally:
        for handle in handles:
            handle.detach()


def _row(shape, total, trainable, shared):
    return {"output_shape": shape, "n_params": total, "trainable": trainable, "shared": shared}


def _shapes_text(value):
    """Shapes as MXNet prints them: `(1, 512)`, a list's items joined with ', '; what is
    not an array (a symbol seen while shapes are inferred) as it prints."""
    shapes = _shapes(value)
    return str(shapes)[1:-1] if isinstance(shapes, list) else str(shapes)


def _shapes(value):
    if isinstance(value, (list, tuple)):
        return [_shapes(item) for item in value]
    shape = getattr(value, "shape", None)
    return shape if isinstance(shape, tuple) else value


def _print(rows):
    line = "{:>20}  {:>42} {:>15}"
    print("-" * 80)
    print(line.format("Layer (type)", "Output Shape", "Param #"))
    print("=" * 80)
    for key, row in rows.items():
        print(line.format(key, str(row["output_shape"]), row["n_params"]))
    total = sum(row["n_params"] for row in rows.values())
    trainable = sum(row["trainable"] for row in rows.values())
    shared = sum(row["shared"] for row in rows.values())
    print("=" * 80)
    print("Parameters in forward computation graph, duplicate included")
    print(f"   Total params: {total}")
    print(f"   Trainable params: {trainable}")
    print(f"   Non-trainable params: {total - trainable}")
    print(f"Shared params in forward computation graph: {shared}")
    print(f"Unique parameters in model: {total - shared}")
    print("-" * 80)
