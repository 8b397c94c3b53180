"""Multi-head attention's contrib operators: div_sqrt_dim and the interleaved matmuls."""
import numpy as np

from . import attrs as A
from .registry import Op, register
from .shapes import known, require


def _div_sqrt_dim(data):
    return data / np.sqrt(np.asarray(data.shape[-1], dtype=data.dtype))


def _div_sqrt_dim_grad(attrs, inputs, outputs, out_grads):
    return [_div_sqrt_dim(out_grads[0].astype(inputs[0].dtype, copy=False))]


def _div_sqrt_dim_shape(attrs, in_shapes):
    data = known("_contrib_div_sqrt_dim", in_shapes)[0]
    require(len(data) >= 1, "_contrib_div_sqrt_dim", "data must have a last axis", in_shapes)
    return [data], [data]


register(Op("_contrib_div_sqrt_dim", _div_sqrt_dim, _div_sqrt_dim_shape,
            grad=_div_sqrt_dim_grad))


# MXNet 1.9.1's layouts (src/operator/contrib/transformer.cc): projections are (sequence,
# batch, heads * parts * head_dim), each head's `parts` projections (queries, keys, values;
# or keys, values) next to each other; attention maps are (batch * heads, query steps, key
# steps), batch-major.


def _head_dim(op_name, shape, heads, parts, shapes):
    """The per-head size of a projection tensor interleaving `parts` projections."""
    require(len(shape) == 3, op_name, "projections must be 3-d (sequence, batch, features)",
            shapes)
    require(heads > 0 and shape[2] % (heads * parts) == 0, op_name,
            f"the last dimension must be a multiple of heads * {parts} = {heads * parts}", shapes)
    return shape[2] // (heads * parts)


def _split_heads(projections, heads, parts, part):
    """Projection `part` of each head: (batch * heads, sequence, head_dim)."""
    steps, batch, _ = projections.shape
    chosen = projections.reshape(steps, batch, heads, parts, -1)[:, :, :, part]
    return chosen.transpose(1, 2, 0, 3).reshape(batch * heads, steps, -1)


def _merge_heads(per_head, batch, heads):
    """(batch * heads, sequence, head_dim) back to (sequence, batch, heads * head_dim)."""
    _, steps, size = per_head.shape
    return per_head.reshape(batch, heads, steps, size).transpose(2, 0, 1, 3).reshape(
        steps, batch, heads * size)


def _place(gradients, shape, heads, parts):
    """Per-part gradients (batch * heads, sequence, head_dim), None for a part not read, as
    one gradient of the interleaved projections."""
    steps, batch, _ = shape
    out = np.zeros((steps, batch, heads, parts, shape[2] // (heads * parts)),
                   dtype=next(g for g in gradients if g is not None).dtype)
    for part, g in enumerate(gradients):
        if g is not None:
            out[:, :, :, part] = g.reshape(batch, heads, steps, -1).transpose(2, 0, 1, 3)
    return out.reshape(shape)


def _scale(head_dim, dtype):
    return np.asarray(1.0 / np.sqrt(np.float32(head_dim)), dtype=dtype)


_QK = "_contrib_interleaved_matmul_selfatt_qk"
_SELF_VAL = "_contrib_interleaved_matmul_selfatt_valatt"
_ENC_QK = "_contrib_interleaved_matmul_encdec_qk"
_ENC_VAL = "_contrib_interleaved_matmul_encdec_valatt"
_HEADS = {"heads": A.Int()}


def _selfatt_qk(queries_keys_values, *, heads):
    head_dim = _head_dim(_QK, queries_keys_values.shape, heads, 3, (queries_keys_values,))
    q = _split_heads(queries_keys_values, heads, 3, 0)
    k = _split_heads(queries_keys_values, heads, 3, 1)
    return np.matmul(q * _scale(head_dim, q.dtype), k.transpose(0, 2, 1))


def _selfatt_qk_shape(attrs, in_shapes):
    qkv = known(_QK, in_shapes)[0]
    _head_dim(_QK, qkv, attrs["heads"], 3, in_shapes)
    return [qkv], [(attrs["heads"] * qkv[1], qkv[0], qkv[0])]


def _selfatt_qk_grad(attrs, inputs, outputs, out_grads):
    qkv, heads = inputs[0], attrs["heads"]
    g = out_grads[0] * _scale(qkv.shape[2] // (3 * heads), qkv.dtype)
    q, k = _split_heads(qkv, heads, 3, 0), _split_heads(qkv, heads, 3, 1)
    return [_place([np.matmul(g, k), np.matmul(g.transpose(0, 2, 1), q), None], qkv.shape,
                   heads, 3)]


register(Op(_QK, _selfatt_qk, _selfatt_qk_shape, inputs=("queries_keys_values",),
            grad=_selfatt_qk_grad, attrs=dict(_HEADS)))


def _check_values_attention(op_name, projections, attention, heads, parts, shapes):
    """The value-attention operators' shapes; returns the output shape."""
    _head_dim(op_name, projections, heads, parts, shapes)
    require(len(attention) == 3 and attention[0] == projections[1] * heads
            and attention[2] == projections[0], op_name,
            f"attention must have shape ({projections[1] * heads}, query steps, "
            f"{projections[0]})", shapes)
    return (attention[1], projections[1], projections[2] // parts)


def _values_attention(op_name, parts):
    def kernel(projections, attention, *, heads):
        _check_values_attention(op_name, projections.shape, attention.shape, heads, parts,
                                (projections, attention))
        values = _split_heads(projections, heads, parts, parts - 1)
        return _merge_heads(np.matmul(attention, values), projections.shape[1], heads)

    def rule(attrs, in_shapes):
        projections, attention = known(op_name, in_shapes)
        return [projections, attention], [_check_values_attention(
            op_name, projections, attention, attrs["heads"], parts, in_shapes)]

    def grad(attrs, inputs, outputs, out_grads):
        projections, attention = inputs
        heads = attrs["heads"]
        values = _split_heads(projections, heads, parts, parts - 1)
        g = _split_heads(out_grads[0].astype(projections.dtype, copy=False), heads, 1, 0)
        d_values = np.matmul(attention.transpose(0, 2, 1), g)
        return [_place([None] * (parts - 1) + [d_values], projections.shape, heads, parts),
                np.matmul(g, values.transpose(0, 2, 1)).astype(attention.dtype, copy=False)]
    return kernel, rule, grad


for _name, _first, _parts in ((_SELF_VAL, "queries_keys_values", 3),
                              (_ENC_VAL, "keys_values", 2)):
    _kernel, _rule, _grad = _values_attention(_name, _parts)
    register(Op(_name, _kernel, _rule, inputs=(_first, "attention"), grad=_grad,
                attrs=dict(_HEADS)))


def _check_encdec_qk(queries, keys_values, heads, shapes):
    _head_dim(_ENC_QK, queries, heads, 1, shapes)
    _head_dim(_ENC_QK, keys_values, heads, 2, shapes)
    require(keys_values[2] == 2 * queries[2] and keys_values[1] == queries[1], _ENC_QK,
            "keys_values must have the queries' batch and twice their features", shapes)
    return (queries[1] * heads, queries[0], keys_values[0])


def _encdec_qk(queries, keys_values, *, heads):
    _check_encdec_qk(queries.shape, keys_values.shape, heads, (queries, keys_values))
    q = _split_heads(queries, heads, 1, 0)
    k = _split_heads(keys_values, heads, 2, 0)
    return np.matmul(q * _scale(q.shape[2], q.dtype), k.transpose(0, 2, 1))


def _encdec_qk_shape(attrs, in_shapes):
    queries, keys_values = known(_ENC_QK, in_shapes)
    return [queries, keys_values], [_check_encdec_qk(queries, keys_values, attrs["heads"],
                                                     in_shapes)]


def _encdec_qk_grad(attrs, inputs, outputs, out_grads):
    queries, keys_values = inputs
    heads = attrs["heads"]
    q, k = _split_heads(queries, heads, 1, 0), _split_heads(keys_values, heads, 2, 0)
    g = out_grads[0] * _scale(q.shape[2], queries.dtype)
    return [_place([np.matmul(g, k)], queries.shape, heads, 1),
            _place([np.matmul(g.transpose(0, 2, 1), q), None], keys_values.shape, heads, 2)]


register(Op(_ENC_QK, _encdec_qk, _encdec_qk_shape, inputs=("queries", "keys_values"),
            grad=_encdec_qk_grad, attrs=dict(_HEADS)))
