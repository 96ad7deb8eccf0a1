"""[DCA-POS-1] [DCA-BOUND-1] [DCA-ATTN-1] [DCA-ROPE-1]: dual-chunk attention (docs/spec/schemes.md).

The relative positions are checked against vLLM's construction written out here (keys at t mod c, queries at
three positions, the part chosen by the chunk distance), attention against a pair-by-pair definition with
refrope.rotation_matrix and math.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope.dual_chunk import dual_chunk_positions
from spec_tests.attn_strategies import assert_close
from spec_tests.bounds import EPS
from spec_tests.strategies import LAYOUTS, vectors


@st.composite
def sizes(draw):
    local = draw(st.integers(0, 6), label="local_size")
    chunk = draw(st.integers(2 * local + 1, 2 * local + 12), label="chunk_size")
    return chunk, local


def vllm_positions(p: int, t: int, chunk: int, local: int) -> int:
    """vLLM DualChunkRotaryEmbedding: q at intra / succ / inter positions, k at t mod c, chosen by chunk distance."""
    c = chunk - local
    q_intra, q_succ, q_inter = p % c, min(p % c + c, chunk), min(2 * c - 1, chunk)
    block_q, block_k = p // c, t // c
    q = q_intra if block_q == block_k else q_succ if block_q == block_k + 1 else q_inter
    return q - t % c


@given(size=sizes(), n=st.integers(1, 80))
def test_relative_positions_are_vllms(size, n):
    """[DCA-POS-1] M(p, t) equals vLLM's query position (intra, successive or inter) minus the key's t mod c, for every
    t <= p."""
    chunk, local = size
    m = dual_chunk_positions(np.arange(n), np.arange(n), chunk_size=chunk, local_size=local)
    for p in range(n):
        for t in range(p + 1):
            assert m[p, t] == vllm_positions(p, t, chunk, local)


@given(size=sizes(), n=st.integers(1, 120))
def test_relative_positions_stay_within_the_chunk_and_keep_local_distances(size, n):
    """[DCA-BOUND-1] 0 <= M <= min(p - t, chunk_size), and M = p - t when p - t <= local_size + 1."""
    chunk, local = size
    m = dual_chunk_positions(np.arange(n), np.arange(n), chunk_size=chunk, local_size=local)
    p, t = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    causal = t <= p
    assert np.all(m[causal] >= 0) and np.all(m[causal] <= np.minimum(p - t, chunk)[causal])
    near = causal & (p - t <= local + 1)
    assert np.array_equal(m[near], (p - t)[near])


def _definition(q, k, v, freqs, chunk, local, layout, scale):
    """Causal DCA pair by pair: logit scale [m^2 q_rot . R(-M w) k_rot + q_pass . k_pass], one softmax."""
    heads_q, n_q, d = q.shape
    n_k, group, dr, m = k.shape[1], q.shape[0] // k.shape[0], freqs.rotary_dim, freqs.attention_factor
    out = np.zeros((heads_q, n_q, v.shape[-1]))
    for h in range(heads_q):
        for i in range(n_q):
            p = n_k - n_q + i
            logits = []
            for t in range(p + 1):
                turn = refrope.rotation_matrix(-vllm_positions(p, t, chunk, local), freqs, layout=layout)
                qi, kt = q[h, i], k[h // group, t]
                logits.append(scale * (m * m * (qi[:dr] @ turn @ kt[:dr]) + qi[dr:] @ kt[dr:]))
            top = max(logits)
            weights = [math.exp(x - top) for x in logits]
            out[h, i] = np.array(weights) @ v[h // group, : p + 1] / math.fsum(weights)
    return out


@pytest.mark.parametrize("layout", ["half", "interleaved"])
@given(data=st.data())
def test_attention_matches_the_definition(layout, data):
    """[DCA-ATTN-1] dual_chunk_attention equals the pair-by-pair definition (GQA, pass-through coordinates, YaRN
    magnitude, queries at the last n_q positions), within the rounding of a rotation and a softmax."""
    chunk, local = data.draw(sizes(), label="sizes")
    heads_kv, group = data.draw(st.integers(1, 2), label="heads_kv"), data.draw(st.integers(1, 2), label="group")
    n_k = data.draw(st.integers(1, 3 * chunk), label="n_k")
    n_q = data.draw(st.integers(1, n_k), label="n_q")
    pairs, extra = data.draw(st.integers(1, 3), label="pairs"), data.draw(st.integers(0, 2), label="extra")
    d = 2 * pairs + extra
    freqs = refrope.inv_freq("yarn", 2 * pairs, factor=8.0, original_max_position_embeddings=16)
    q = data.draw(vectors(d, rows=heads_kv * group * n_q), label="q").reshape(heads_kv * group, n_q, d)
    k = data.draw(vectors(d, rows=heads_kv * n_k), label="k").reshape(heads_kv, n_k, d)
    v = data.draw(vectors(2, rows=heads_kv * n_k), label="v").reshape(heads_kv, n_k, 2)
    scale = data.draw(st.none() | st.floats(0.1, 2.0), label="scale")
    got = refrope.dual_chunk_attention(q, k, v, freqs, chunk_size=chunk, local_size=local, layout=layout, scale=scale)
    lam = 1 / math.sqrt(d) if scale is None else scale
    want = _definition(q, k, v, freqs, chunk, local, layout, lam)
    size = lam * (1 + freqs.attention_factor**2) * d * 16
    assert_close(got, want, 64 * EPS * (1 + size * (d + chunk)) * n_k * max(1.0, np.abs(v).max()), "DCA")


@pytest.mark.parametrize("layout", LAYOUTS)
@given(data=st.data())
def test_within_one_chunk_it_is_plain_rope_attention(layout, data):
    """[DCA-ROPE-1] For n_k <= chunk_size, dual-chunk attention equals causal RoPE attention (refrope.attention)."""
    chunk, local = data.draw(sizes(), label="sizes")
    n_k = data.draw(st.integers(1, chunk), label="n_k")
    n_q = data.draw(st.integers(1, n_k), label="n_q")
    d = 2 * data.draw(st.integers(1, 4), label="pairs")
    freqs = refrope.inv_freq("default", d, theta=data.draw(st.sampled_from([10.0, 1e4]), label="theta"))
    q = data.draw(vectors(d, rows=n_q), label="q")[None]
    k, v = data.draw(vectors(d, rows=n_k), label="k")[None], data.draw(vectors(1, rows=n_k), label="v")[None]
    got = refrope.dual_chunk_attention(q, k, v, freqs, chunk_size=chunk, local_size=local, layout=layout)
    want = refrope.attention(q, k, v, freqs, layout=layout)
    assert_close(got, want, 256 * EPS * d * 16 * (n_k + chunk) * max(1.0, np.abs(v).max()), "DCA vs RoPE")


def test_beyond_the_chunk_it_differs_from_rope():
    """[DCA-ATTN-1] With n_k > chunk_size far keys are seen at M < p - t: the result differs from RoPE attention."""
    rng = np.random.default_rng(5)
    q, k, v = rng.standard_normal((1, 4, 4)), rng.standard_normal((1, 12, 4)), rng.standard_normal((1, 12, 2))
    freqs = refrope.inv_freq("default", 4, theta=10.0)
    got = refrope.dual_chunk_attention(q, k, v, freqs, chunk_size=4, local_size=1)
    assert np.abs(got - refrope.attention(q, k, v, freqs)).max() > 1e-3


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(chunk_size=4, local_size=2), ValueError, "2 \\* local_size < chunk_size"),
    (dict(chunk_size=4, local_size=-1), ValueError, "local_size must be >= 0"),
    (dict(chunk_size=0, local_size=0), ValueError, "chunk_size must be >= 1"),
    (dict(chunk_size=4.0, local_size=1), TypeError, "chunk_size must be an integer"),
])
def test_bad_sizes_are_rejected(kwargs, error, match):
    """[DCA-POS-1] local_size < 0, 2 local_size >= chunk_size and non-integers raise, naming them."""
    with pytest.raises(error, match=match):
        refrope.dual_chunk_attention(np.ones((1, 2, 2)), np.ones((1, 3, 2)), np.ones((1, 3, 1)), [1.0], **kwargs)


def test_more_queries_than_keys_is_rejected():
    """[DCA-ATTN-1] n_q > n_k raises naming both shapes (queries sit at the last n_q key positions)."""
    with pytest.raises(ValueError, match="n_q <= n_k"):
        refrope.dual_chunk_attention(np.ones((1, 4, 2)), np.ones((1, 3, 2)), np.ones((1, 3, 1)), [1.0],
                                     chunk_size=4, local_size=1)


def test_frequencies_are_required():
    """[DCA-ATTN-1] [A-NOPE-1] freqs=None (NoPE's convention) is a TypeError naming freqs: dual-chunk attention is
    RoPE attention."""
    with pytest.raises(TypeError, match="freqs is None"):
        refrope.dual_chunk_attention(np.ones((1, 2, 2)), np.ones((1, 3, 2)), np.ones((1, 3, 1)), None,
                                     chunk_size=4, local_size=1)
