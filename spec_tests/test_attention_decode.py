"""[A-DECODE-1] [A-DECODE-2] [A-METHOD-4]: the KV cache and token-by-token decoding (docs/spec/attention.md)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope import KVCache
from spec_tests.attn_strategies import MAP_NAMES, assert_close, attention_cases, bounds


def _decode_keywords(case):
    return {key: value for key, value in case.kwargs.items()
            if key not in ("positions_q", "positions_k", "block_size", "relpos")}


@pytest.mark.parametrize("name", MAP_NAMES)
@given(data=st.data())
def test_token_by_token_decoding_equals_the_prefill_rows(name, data):
    """[A-DECODE-2] [A-DECODE-1] Appending one token at a time and decoding its query equals the rows of causal
    attention on the whole sequence (within [A-NUM-1]) and, bit for bit, method="decode" on the prefix
    (kexue.fm/archives/9708 §8.2)."""
    case = data.draw(attention_cases(relpos=name, causal=True, explicit_positions=False, max_n=6), label="case")
    n = case.k.shape[-2]
    case.q = case.q[..., -1:, :] if case.q.shape[-2] != n else case.q
    full = case.call()
    first = n - case.q.shape[-2]
    mask = case.kwargs.get("key_mask")
    cache = KVCache()
    for t in range(n):
        cache = cache.append(case.k[..., t:t + 1, :], case.v[..., t:t + 1, :], [t])
        if t < first:
            continue
        q_t = case.q[..., t - first:t - first + 1, :]
        kw = dict(_decode_keywords(case), key_mask=None if mask is None else mask[:t + 1])
        got = refrope.decode_attention(q_t, cache, case.freqs, position=t, relpos=case.kwargs["relpos"], **kw)
        prefix = refrope.attention(q_t, case.k[..., :t + 1, :], case.v[..., :t + 1, :], case.freqs,
                                   relpos=case.kwargs["relpos"], positions_q=[t], method="decode", **kw)
        assert np.array_equal(got, prefix)
        assert_close(got, full[..., t - first:t - first + 1, :], bounds(case).output, f"token {t}")


@given(data=st.data())
def test_decode_attention_is_the_decode_method(data):
    """[A-METHOD-4] decode_attention equals attention(..., method="decode") with the cache's keys and positions."""
    case = data.draw(attention_cases(explicit_positions=True), label="case")
    pq, pk = case.positions()
    cache = KVCache(case.k, case.v, pk)
    got = refrope.decode_attention(case.q, cache, case.freqs, position=pq, relpos=case.kwargs["relpos"],
                                   **_decode_keywords(case))
    assert np.array_equal(got, case.call(method="decode"))


def test_cache_holds_unrotated_keys_and_is_immutable():
    """[A-DECODE-1] The cache stores what it is given (unrotated), read-only; append returns a new cache."""
    k, v = np.arange(12.0).reshape(1, 3, 4), np.arange(6.0).reshape(1, 3, 2)
    empty = KVCache()
    assert len(empty) == 0 and empty.keys is None
    one = empty.append(k[:, :2], v[:, :2], [10, 11])
    two = one.append(k[:, 2:], v[:, 2:], 12)
    assert len(one) == 2 and len(two) == 3 and len(empty) == 0
    assert np.array_equal(two.keys, k) and np.array_equal(two.values, v)
    assert np.array_equal(two.positions, [10.0, 11.0, 12.0])
    for arr in (two.keys, two.values, two.positions):
        assert not arr.flags.writeable
    with pytest.raises(AttributeError):
        two.keys = k  # frozen


def test_decoding_rotates_the_keys_not_the_query():
    """[A-DECODE-1] The logit is q . (m^2 R(-f(r)) k) with the query unrotated (kexue.fm/archives/9708 §8.2), worked
    by hand: one pair with omega = pi/2, m = 2, rerope(1); key (1, 0) at distance 5 is seen at distance 1,
    R(-pi/2)(1, 0) = (0, -1); key (0, 1) at distance 0 stays; with q = (0, -1) the logits are 4 * 1 and 4 * (-1)."""
    f = refrope.Frequencies([np.pi / 2], attention_factor=2.0)
    cache = KVCache().append(np.array([[[1.0, 0.0], [0.0, 1.0]]]), np.zeros((1, 2, 1)), [0, 5])
    for method in ("decode", "direct", "two_pass", "auto"):
        logits = refrope.attention_scores(np.array([[[0.0, -1.0]]]), cache.keys, f, positions_q=[5],
                                          positions_k=cache.positions, relpos=refrope.relpos.rerope(1), scale=1.0,
                                          method=method)
        np.testing.assert_allclose(logits, [[[4.0, -4.0]]], rtol=0, atol=1e-14)


@pytest.mark.parametrize("args, error, match", [
    ((np.ones((1, 2, 4)), np.ones((1, 2, 3)), [0, 1, 2]), ValueError, "positions of shape"),
    ((np.ones((1, 2, 4)), np.ones((1, 3, 3)), [0, 1]), ValueError, "values must have the shape of keys"),
    ((np.ones((2, 4)), np.ones((2, 3)), [0, 1]), ValueError, "keys and values must have shape"),
    ((np.ones((1, 2, 4)), None, None), ValueError, "given together"),
    ((np.full((1, 1, 2), np.nan), np.ones((1, 1, 1)), [0]), ValueError, "keys must be finite"),
])
def test_bad_caches_are_rejected(args, error, match):
    """[A-DECODE-1] Inconsistent keys, values and positions raise, naming the problem."""
    with pytest.raises(error, match=match):
        KVCache(*args)


def test_append_must_match_the_cache():
    """[A-DECODE-1] append with another head count, head dimension or value dimension is a ValueError."""
    cache = KVCache().append(np.ones((2, 1, 4)), np.ones((2, 1, 3)), [0])
    for k, v in [(np.ones((1, 1, 4)), np.ones((1, 1, 3))), (np.ones((2, 1, 5)), np.ones((2, 1, 3))),
                 (np.ones((2, 1, 4)), np.ones((2, 1, 2)))]:
        with pytest.raises(ValueError, match="do not match the cache"):
            cache.append(k, v, [1])


def test_decode_attention_rejects_bad_calls():
    """[A-DECODE-1] An empty cache, a non-cache, or keywords the cache fixes (positions, method) raise."""
    q = np.ones((1, 1, 2))
    cache = KVCache().append(np.ones((1, 1, 2)), np.ones((1, 1, 1)), [0])
    with pytest.raises(ValueError, match="cache is empty"):
        refrope.decode_attention(q, KVCache(), [1.0], position=0)
    with pytest.raises(TypeError, match="cache must be a refrope.KVCache"):
        refrope.decode_attention(q, (np.ones((1, 1, 2)),), [1.0], position=0)
    for name in ("positions_q", "positions_k", "method"):
        with pytest.raises(TypeError, match=name):
            refrope.decode_attention(q, cache, [1.0], position=0, **{name: None})
