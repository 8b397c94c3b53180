"""Record MXNet 1.9.1's outputs and gradients of a GluonNLP-style Transformer encoder and a
BERT-style encoder, written here as GluonNLP v0.10 writes its blocks.

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_transformer_reference.py \\
        tests/data/mxnet_transformer_reference.json
(see tools/mxnet_reference.py for installing it). tests/gluon/test_transformer_blocks.py
imports `run_case` and passes ast_hybrid in place of mxnet, imperatively, in AST mode and in
trace mode.

The blocks use what such code uses: masks from `valid_length` through `contrib.arange_like`
and broadcast comparisons, multi-head attention by reshapes and `batch_dot`, `softmax` with
`length=`, `SequenceMask`, `LayerNorm`, GELU, embeddings of tokens, segments and positions.
Weights come from a seeded rule of each parameter's structural name, so both libraries start
from the same values.
"""
import json
import sys
import zlib

import numpy as np

UNITS, HEADS, HIDDEN, VOCAB, MAX_LENGTH = 8, 2, 16, 11, 6
BATCH, LENGTH = 3, 5
VALID_LENGTH = [5, 3, 1]
GRADIENT_OF = ("cells.0.attention.proj_query.weight", "cells.1.ffn.ffn_1.weight",
               "word_embed.weight")


def define_blocks(mx):
    """The block classes, made with the library `mx` (MXNet or ast_hybrid)."""
    nn = mx.gluon.nn

    class MultiHeadAttention(mx.gluon.HybridBlock):
        """Scaled dot-product attention over HEADS heads; `mask` (B, Lq, Lk) of 0/1."""

        def __init__(self, use_length_softmax, **kwargs):
            super().__init__(**kwargs)
            self._use_length_softmax = use_length_softmax
            with self.name_scope():
                self.proj_query = nn.Dense(UNITS, flatten=False, use_bias=False)
                self.proj_key = nn.Dense(UNITS, flatten=False, use_bias=False)
                self.proj_value = nn.Dense(UNITS, flatten=False, use_bias=False)

        def _heads(self, F, x):
            x = F.reshape(x, shape=(0, 0, HEADS, -1))
            x = F.transpose(x, axes=(0, 2, 1, 3))
            return F.reshape(x, shape=(-1, 0, 0), reverse=True)

        def hybrid_forward(self, F, x, mask, valid_length):
            query = self._heads(F, self.proj_query(x))
            key = self._heads(F, self.proj_key(x))
            value = self._heads(F, self.proj_value(x))
            scores = F.batch_dot(query, key, transpose_b=True)
            scores = F.contrib.div_sqrt_dim(scores)
            if self._use_length_softmax:
                lengths = F.repeat(valid_length, repeats=HEADS, axis=0)
                lengths = F.broadcast_like(F.expand_dims(lengths, axis=1),
                                           F.sum(scores, axis=2), lhs_axes=(1,), rhs_axes=(1,))
                weights = F.softmax(scores, length=F.cast(lengths, dtype="int32"),
                                    use_length=True, axis=-1)
            else:
                head_mask = F.broadcast_axis(F.expand_dims(mask, axis=1), axis=1, size=HEADS)
                head_mask = F.reshape(head_mask, shape=(-1, 0, 0), reverse=True)
                scores = F.where(head_mask, scores, -1e18 * F.ones_like(scores))
                weights = F.softmax(scores, axis=-1) * head_mask
            context = F.batch_dot(weights, value)
            context = F.reshape(context, shape=(-1, HEADS, 0, 0), reverse=True)
            context = F.transpose(context, axes=(0, 2, 1, 3))
            return F.reshape(context, shape=(0, 0, -1))

    class PositionwiseFFN(mx.gluon.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.ffn_1 = nn.Dense(HIDDEN, flatten=False)
                self.activation = nn.GELU()
                self.ffn_2 = nn.Dense(UNITS, flatten=False)
                self.layer_norm = nn.LayerNorm(in_channels=UNITS)

        def hybrid_forward(self, F, x):
            return self.layer_norm(x + self.ffn_2(self.activation(self.ffn_1(x))))

    class EncoderCell(mx.gluon.HybridBlock):
        def __init__(self, use_length_softmax, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.attention = MultiHeadAttention(use_length_softmax)
                self.proj = nn.Dense(UNITS, flatten=False)
                self.layer_norm = nn.LayerNorm(in_channels=UNITS)
                self.ffn = PositionwiseFFN()

        def hybrid_forward(self, F, x, mask, valid_length):
            attended = self.proj(self.attention(x, mask, valid_length))
            return self.ffn(self.layer_norm(x + attended))

    class Encoder(mx.gluon.HybridBlock):
        """Token (and, BERT-style, segment) embeddings plus learned positions, two cells,
        and for BERT a tanh pooler of the first token."""

        def __init__(self, bert, use_length_softmax, **kwargs):
            super().__init__(**kwargs)
            self._bert = bert
            with self.name_scope():
                self.word_embed = nn.Embedding(VOCAB, UNITS)
                if bert:
                    self.token_type_embed = nn.Embedding(2, UNITS)
                self.position_weight = self.params.get("position_weight",
                                                       shape=(MAX_LENGTH, UNITS))
                self.layer_norm = nn.LayerNorm(in_channels=UNITS)
                self.cells = nn.HybridSequential()
                for _ in range(2):
                    self.cells.add(EncoderCell(use_length_softmax))
                if bert:
                    self.pooler = nn.Dense(UNITS, activation="tanh", flatten=False)

        def hybrid_forward(self, F, tokens, token_types, valid_length, position_weight):
            x = self.word_embed(tokens)
            if self._bert:
                x = x + self.token_type_embed(token_types)
            steps = F.contrib.arange_like(tokens, axis=1)
            positions = F.Embedding(steps, position_weight, input_dim=MAX_LENGTH,
                                    output_dim=UNITS)
            x = F.broadcast_add(x, F.expand_dims(positions, axis=0))
            x = self.layer_norm(x)
            valid = F.broadcast_lesser(F.reshape(steps, shape=(1, -1)),
                                       F.reshape(valid_length, shape=(-1, 1)))
            mask = F.broadcast_mul(F.expand_dims(valid, axis=1), F.expand_dims(valid, axis=2))
            for cell in self.cells:
                x = cell(x, mask, valid_length)
            x = F.SequenceMask(x, sequence_length=valid_length, use_sequence_length=True,
                               axis=1)
            if not self._bert:
                return x
            first = F.slice_axis(x, axis=1, begin=0, end=1)
            return x, self.pooler(F.reshape(first, shape=(0, -1)))

    return Encoder


CASES = {"transformer_masked": (False, False), "transformer_softmax_length": (False, True),
         "bert": (True, False)}


def _inputs(mx):
    rng = np.random.RandomState(5)
    tokens = rng.randint(0, VOCAB, (BATCH, LENGTH)).astype(np.float32)
    token_types = (rng.uniform(size=(BATCH, LENGTH)) > 0.5).astype(np.float32)
    return (mx.nd.array(tokens), mx.nd.array(token_types),
            mx.nd.array(np.array(VALID_LENGTH, dtype=np.float32)))


def _set_weights(mx, block):
    for name, param in block._collect_params_with_prefix().items():
        rng = np.random.RandomState(zlib.crc32(name.encode()))
        scale = 0.5 if param.shape[-1] > 1 else 0.1
        if name.endswith("gamma"):
            value = 1 + rng.uniform(-0.1, 0.1, param.shape)
        else:
            value = rng.uniform(-scale, scale, param.shape)
        param.set_data(mx.nd.array(value.astype(np.float32)))


def run_case(mx, name, hybridize=None):
    """Outputs, and gradients of GRADIENT_OF under a weighted sum of the outputs, of case
    `name`; `hybridize(block)` hybridizes the block (None: imperative)."""
    bert, use_length_softmax = CASES[name]
    block = define_blocks(mx)(bert, use_length_softmax)
    block.initialize()
    inputs = _inputs(mx)
    block(*inputs)                      # shapes are deferred until a first call
    _set_weights(mx, block)
    if hybridize is not None:
        hybridize(block)
    with mx.autograd.record():
        outputs = block(*inputs)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        loss = sum((out * mx.nd.array(np.linspace(-1, 1, out.size).reshape(out.shape))).sum()
                   for out in outputs)
    loss.backward()
    params = block._collect_params_with_prefix()
    return {"outputs": [out.asnumpy().tolist() for out in outputs],
            "gradients": {key: params[key].grad().asnumpy().tolist()
                          for key in GRADIENT_OF if key in params}}


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__,
                 "cases": {name: run_case(mx, name) for name in CASES},
                 "hybridized": {name: run_case(mx, name, lambda block: block.hybridize())
                                for name in CASES}}
    with open(path, "w") as stream:
        json.dump(reference, stream, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
