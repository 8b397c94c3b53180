"""The contrib, attention, sequence and indexing operators inside hybridized blocks: AST mode
(fallback=False) and trace mode give imperative mode's outputs and gradients, and exported
graphs holding them load and run."""
import warnings

import numpy as np
import pytest

from ast_hybrid import autograd, nd
from ast_hybrid.compiler.dispatch import HybridizeFallbackWarning
from ast_hybrid.gluon import SymbolBlock, nn

from soundness import assert_results_equal, assert_sound, run_recorded

RNG = np.random.default_rng(5)
HEADS, HEAD_DIM, STEPS, BATCH = 2, 3, 4, 2


def uniform(*shape):
    return RNG.uniform(-1, 1, shape).astype(np.float32)


class SelfAttention(nn.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.proj = nn.Dense(3 * HEADS * HEAD_DIM, flatten=False)

    def hybrid_forward(self, F, x, lengths):
        qkv = self.proj(x)
        scores = F.contrib.interleaved_matmul_selfatt_qk(qkv, heads=HEADS)
        att = F.softmax(scores, F.reshape(F.repeat(lengths, repeats=HEADS * STEPS),
                                          shape=(-1, STEPS)), use_length=True)
        out = F.contrib.interleaved_matmul_selfatt_valatt(qkv, att, heads=HEADS)
        return F.erf(F.contrib.div_sqrt_dim(out))


class EncoderDecoder(nn.HybridBlock):
    def hybrid_forward(self, F, queries, keys_values):
        scores = F.contrib.interleaved_matmul_encdec_qk(queries, keys_values, heads=HEADS)
        att = F.log_softmax(scores, axis=-1).exp()
        return F.contrib.interleaved_matmul_encdec_valatt(keys_values, att, heads=HEADS)


class Sequences(nn.HybridBlock):
    def hybrid_forward(self, F, x, lengths):
        masked = F.SequenceMask(x, lengths, use_sequence_length=True, value=0.5)
        reversed_ = F.SequenceReverse(masked * 2, lengths, use_sequence_length=True)
        last = F.SequenceLast(reversed_, lengths, use_sequence_length=True)
        scores = F.log_softmax(last, length=F.ones_like(lengths) * 2, use_length=True)
        return last + F.SequenceLast(x) + scores + F.log_softmax(last, 0)


class Images(nn.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.conv = nn.Conv2D(2, 3, padding=1)

    def hybrid_forward(self, F, x):
        up = F.contrib.BilinearResize2D(self.conv(x), height=7, width=5, align_corners=False)
        pooled = F.contrib.AdaptiveAvgPooling2D(up, output_size=(3, 2))
        cut = F.slice_like(up, pooled, axes=(2, 3))
        flat = F.reshape_like(cut, F.zeros((1, 12)), lhs_begin=1, rhs_begin=1)
        ramp = F.contrib.arange_like(flat, axis=-1, start=0.5, step=0.25)
        wide = F.broadcast_like(F.sum(pooled, axis=1, keepdims=True), pooled, lhs_axes=(1,),
                                rhs_axes=(1,))
        return flat * ramp, F.erfinv(F.tanh(wide) * 0.5)


class Gathers(nn.HybridBlock):
    def hybrid_forward(self, F, x, indices):
        picked = F.gather_nd(x, indices)
        return F.scatter_nd(picked * picked, indices, shape=(3, 4))


SEQ_LENGTHS = np.array([3, 1], dtype=np.float32)
INDICES = np.array([[0, 2, 1], [3, 0, 1]], dtype=np.float32)
CASES = {
    "self-attention": (SelfAttention, [uniform(STEPS, BATCH, 5), np.array([4, 2], "float32")]),
    "encoder-decoder": (EncoderDecoder, [uniform(3, BATCH, HEADS * HEAD_DIM),
                                         uniform(STEPS, BATCH, 2 * HEADS * HEAD_DIM)]),
    "sequences": (Sequences, [uniform(STEPS, BATCH, 3), SEQ_LENGTHS]),
    "images": (Images, [uniform(1, 2, 4, 3)]),
    "gathers": (Gathers, [uniform(3, 4), INDICES]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ast_mode_equals_imperative(name):
    make, inputs = CASES[name]
    (want,) = assert_sound(make, inputs)
    assert not isinstance(want, Exception), want


@pytest.mark.parametrize("name", sorted(CASES))
def test_trace_mode_equals_imperative(name):
    make, inputs = CASES[name]
    block = make()
    block.initialize()
    want = run_recorded(block, inputs)
    assert not isinstance(want, Exception), want
    block.hybridize(mode="trace")
    for call in range(2):
        assert_results_equal(run_recorded(block, inputs), want, f"trace call {call}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_exported_graph_loads_and_runs(name, tmp_path):
    make, inputs = CASES[name]
    block = make()
    block.initialize()
    arrays = [nd.array(x) for x in inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("error", HybridizeFallbackWarning)
        block.hybridize()
        want = block(*arrays)
    block.export(str(tmp_path / name))
    names = ["data"] if len(inputs) == 1 else [f"data{i}" for i in range(len(inputs))]
    loaded = SymbolBlock.imports(str(tmp_path / f"{name}-symbol.json"), names,
                                 str(tmp_path / f"{name}-0000.params"))
    got = loaded(*arrays)
    for g, w in zip(got if isinstance(got, (list, tuple)) else [got],
                    want if isinstance(want, (list, tuple)) else [want]):
        np.testing.assert_allclose(g.asnumpy(), w.asnumpy(), rtol=1e-6, atol=1e-7)


def test_shape_array_leaves_the_graph_without_gradient():
    class Sizes(nn.HybridBlock):
        def hybrid_forward(self, F, x):
            return x * F.cast(F.shape_array(x), "float32").sum() + x.size_array().astype(
                "float32")

    x = uniform(2, 3)
    (_, grads, _), = assert_sound(Sizes, [x])
    np.testing.assert_allclose(grads[0], np.full_like(x, 5 * 1.5))
    block = Sizes()
    with autograd.record():
        out = block(nd.array(x))
    assert out.shape == (2, 3)
