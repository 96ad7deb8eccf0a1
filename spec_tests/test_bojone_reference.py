"""[X-BOJONE-1] to [X-BOJONE-3]: an independent re-implementation of bojone/rerope (docs/spec/reference_impls.md).

The procedures of ``rerope_patch.py`` and ``leaky_rerope_patch.py`` (HEAD acfe788, transformers 4.31 LLaMA),
rewritten in NumPy step by step (kexue.fm/archives/9708 §8.2 gives the maths), share no code with refrope: HF's
``rotate_half`` and cos/sin tables indexed by integer positions, logn† on q, two attention matrices
combined by ``|pos_q - pos_k| < window``, the additive causal mask, softmax, ``repeat_kv`` for GQA, and the
``q_len == 1`` decode branch that rotates the unrotated cached keys by minus the rectified relative position.

Tolerance: both sides are float64 and the angles stay below a few hundred radians, so outputs (convex
combinations of v) agree to ~1e-15 relative; the tests assert 1e-12 * max(1, |v|).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope

BASE = 10000.0


# ----------------------------------------------------------------------------------------------
# The patches' building blocks (HF LLaMA, transformers 4.31)


def rotate_half(x):
    """HF ``rotate_half``: ``cat(-x2, x1)`` with ``x1, x2`` the two halves of the last axis."""
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def rotary_table(dim, seq_len, scaling_factor=1.0):
    """``LlamaRotaryEmbedding`` (or ``LlamaLinearScalingRotaryEmbedding``) cos/sin caches, rows t = 0..seq_len-1:
    ``inv_freq = 1 / base**(arange(0, dim, 2) / dim)``, ``t /= scaling_factor``, ``emb = cat(freqs, freqs)``."""
    inv_freq = 1.0 / BASE ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    t = np.arange(seq_len, dtype=np.float64) / scaling_factor
    emb = np.concatenate([np.outer(t, inv_freq)] * 2, axis=-1)
    return np.cos(emb), np.sin(emb)


def apply_rotary(x, cos, sin, position_ids):
    """``x * cos[position_ids] + rotate_half(x) * sin[position_ids]`` (``position_ids`` integers, one per row of x)."""
    return x * cos[position_ids] + rotate_half(x) * sin[position_ids]


def repeat_kv(x, n_rep):
    """HF ``repeat_kv``: key head h serves query heads h * n_rep .. h * n_rep + n_rep - 1."""
    return np.repeat(x, n_rep, axis=-3)


def logn_dagger(q, position_ids, training_length):
    """``q *= clip(log(position_ids + 1) / log(training_length), min=1)``, applied before any rotation."""
    return q * np.maximum(np.log(position_ids + 1.0) / np.log(training_length), 1.0)[:, None]


def softmax_rows(logits):
    logits = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def _finish(attn, v, pos_q, pos_k, n_rep):
    """Additive causal mask (HF: large negative where pos_k > pos_q), softmax in float64, then ``@ repeat_kv(v)``."""
    causal = np.where(pos_k[None, :] > pos_q[:, None], -np.inf, 0.0)
    return softmax_rows(attn + causal) @ repeat_kv(v, n_rep)


def patch_prefill(q, k, v, pos_q, pos_k, *, window, training_length, leaky_factor=None):
    """The ``q_len > 1`` branch of rerope_patch.py (``leaky_factor=None``) or leaky_rerope_patch.py.

    q ``(bs, heads, q_len, d)`` unrotated, k, v ``(bs, heads_kv, kv_len, d)`` unrotated (the cache),
    ``pos_q`` the last q_len entries of ``pos_k`` (integers).
    """
    d, kv_len, n_rep = q.shape[-1], k.shape[-2], q.shape[-3] // k.shape[-3]
    q = logn_dagger(q, pos_q, training_length)
    k, v = repeat_kv(k, n_rep), v
    if leaky_factor is None:
        cos, sin = rotary_table(d, max(kv_len, window + 1))
        q1, k1 = apply_rotary(q, cos, sin, pos_q), apply_rotary(k, cos, sin, pos_k)
        q2, k2 = apply_rotary(q, cos, sin, pos_q * 0 + window), k  # q at the constant position w, k unrotated
    else:
        offset = window * (leaky_factor - 1)
        cos, sin = rotary_table(d, kv_len)
        cos2, sin2 = rotary_table(d, kv_len + offset, scaling_factor=leaky_factor)
        q1, k1 = apply_rotary(q, cos, sin, pos_q), apply_rotary(k, cos, sin, pos_k)
        q2, k2 = apply_rotary(q, cos2, sin2, pos_q + offset), apply_rotary(k, cos2, sin2, pos_k)
    attn1 = q1 @ np.swapaxes(k1, -1, -2) / np.sqrt(d)
    attn2 = q2 @ np.swapaxes(k2, -1, -2) / np.sqrt(d)
    rectified = np.abs(pos_q[:, None] - pos_k[None, :]) < window
    return _finish(np.where(rectified, attn1, attn2), v, pos_q, pos_k, n_rep)


def patch_decode(q, k, v, pos_q, pos_k, *, window, training_length, leaky_factor=None):
    """The ``q_len == 1`` branch: keys rotated with ``(cos, -sin)`` at the rectified relative position, q unrotated."""
    d, kv_len, n_rep = q.shape[-1], k.shape[-2], q.shape[-3] // k.shape[-3]
    q = logn_dagger(q, pos_q, training_length)
    k = repeat_kv(k, n_rep)
    cos, sin = rotary_table(d, kv_len)
    if leaky_factor is None:
        rel = np.minimum(pos_q[-1:] - pos_k, window)  # (pos[:, -1:] - pos).clip(max=window)
    else:
        offset = window * (leaky_factor - 1)
        cos2, sin2 = rotary_table(d, kv_len + offset, scaling_factor=leaky_factor)
        cos = np.concatenate([cos[:window], cos2[window + offset:]])
        sin = np.concatenate([sin[:window], sin2[window + offset:]])
        rel = pos_q[-1:] - pos_k
    k = k * cos[rel] - rotate_half(k) * sin[rel]  # rotation by -angle: (cos, -sin)
    attn = q @ np.swapaxes(k, -1, -2) / np.sqrt(d)
    return _finish(attn, v, pos_q, pos_k, n_rep)


# ----------------------------------------------------------------------------------------------
# The checks


def _relpos(window, leaky_factor):
    if leaky_factor is None:
        return refrope.relpos.rerope(window)
    return refrope.relpos.leaky_rerope(window, leaky_factor)


def _tolerance(v):
    return 1e-12 * max(1.0, np.abs(v).max())


@st.composite
def bojone_cases(draw):
    """Small LLaMA-shaped problems: window w < training length L < sequence length, integer Leaky factor."""
    heads_kv = draw(st.integers(1, 2), label="heads_kv")
    heads_q = heads_kv * draw(st.integers(1, 2), label="group")
    d = draw(st.sampled_from([2, 4, 8]), label="head_dim")
    n = draw(st.integers(2, 14), label="sequence length")
    window = draw(st.integers(1, 6), label="window")
    training_length = draw(st.integers(2, 8), label="training_length")
    leaky = draw(st.sampled_from([None, 2, 4, 16]), label="leaky_factor")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    q = rng.standard_normal((1, heads_q, n, d))
    k, v = rng.standard_normal((2, 1, heads_kv, n, d))
    return q, k, v, window, training_length, leaky


@given(case=bojone_cases())
def test_prefill_matches_refrope_attention(case):
    """[X-BOJONE-1] The patches' prefill (two attention matrices, |dpos| < w mask, logn†, repeat_kv) equals
    refrope.attention with rerope(w) / leaky_rerope(w, k), logn_clipped(L), layout="half"."""
    q, k, v, window, training_length, leaky = case
    n = q.shape[-2]
    pos = np.arange(n)
    want = patch_prefill(q, k, v, pos, pos, window=window, training_length=training_length, leaky_factor=leaky)
    freqs = refrope.inv_freq("default", q.shape[-1], theta=BASE)
    got = refrope.attention(q, k, v, freqs, relpos=_relpos(window, leaky),
                            query_scale=refrope.query_scale.logn_clipped(training_length), layout="half")
    np.testing.assert_allclose(got, want, rtol=0, atol=_tolerance(v))


@given(case=bojone_cases(), data=st.data())
def test_decode_token_by_token_matches_refrope(case, data):
    """[X-BOJONE-2] Prefill of the first n0 tokens, then the q_len == 1 branch token by token (unrotated cached keys
    rotated by -rectified(rel), q unrotated) equals refrope.decode_attention with a KVCache, and the prefill rows."""
    q, k, v, window, training_length, leaky = case
    n = q.shape[-2]
    n0 = data.draw(st.integers(1, n - 1), label="prefill length")
    freqs = refrope.inv_freq("default", q.shape[-1], theta=BASE)
    same = dict(relpos=_relpos(window, leaky), query_scale=refrope.query_scale.logn_clipped(training_length),
                layout="half")
    pos = np.arange(n)
    full = patch_prefill(q, k, v, pos, pos, window=window, training_length=training_length, leaky_factor=leaky)
    cache = refrope.KVCache().append(k[..., :n0, :], v[..., :n0, :], pos[:n0])
    for t in range(n0, n):
        cache = cache.append(k[..., t:t + 1, :], v[..., t:t + 1, :], pos[t:t + 1])
        want = patch_decode(q[..., t:t + 1, :], k[..., :t + 1, :], v[..., :t + 1, :], pos[t:t + 1], pos[:t + 1],
                            window=window, training_length=training_length, leaky_factor=leaky)
        got = refrope.decode_attention(q[..., t:t + 1, :], cache, freqs, position=pos[t], **same)
        np.testing.assert_allclose(got, want, rtol=0, atol=_tolerance(v), err_msg=f"decode step t={t}")
        # [X-BOJONE-2]: the decode branch equals the last row of the prefill computation
        np.testing.assert_allclose(want, full[..., t:t + 1, :], rtol=0, atol=_tolerance(v), err_msg=f"t={t}")


@pytest.mark.parametrize("window", [1, 3, 8])
def test_pass_two_sign_follows_the_code_not_the_article_typo(window):
    """[X-BOJONE-3] Pass 2 of ReRoPE is (R^w q)^T k = q^T R^{-w} k (relative position +w), as the code computes and
    refrope scores; the article's printed q^T R^w k (kexue.fm/archives/9708 §8.2) is a typo and gives other scores."""
    rng = np.random.default_rng(window)
    d = 8
    q, k = rng.standard_normal((2, d))
    cos, sin = rotary_table(d, window + 1)
    code = apply_rotary(q, cos, sin, window) @ k                        # rerope_patch: q2 = q at w, k2 = k
    minus_w = q @ (k * cos[window] - rotate_half(k) * sin[window])     # q^T R(-w) k
    typo = q @ apply_rotary(k, cos, sin, window)                       # q^T R(+w) k, as printed
    assert abs(code - minus_w) <= 1e-14 * np.abs(q).sum() * np.abs(k).max()
    assert abs(code - typo) > 1e-3
    # refrope's score for a pair at relative position >= w (key at 0, query at w + 5)
    freqs = refrope.inv_freq("default", d, theta=BASE)
    scores = refrope.attention_scores(q[None, None, None], k[None, None, None], freqs, positions_q=[window + 5.0],
                                      positions_k=[0.0], relpos=refrope.relpos.rerope(window), scale=1.0)
    assert abs(scores[0, 0, 0, 0] - code) <= 1e-13 * np.abs(q).sum() * np.abs(k).max()
