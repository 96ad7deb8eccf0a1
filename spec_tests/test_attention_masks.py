"""[A-MASK-1] to [A-MASK-4]: causal, sliding-window and key-padding masks, and rows with no visible key."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import refrope
from refrope import relpos as rp
from spec_tests.attn_strategies import METHODS, assert_close, attention_cases, bounds


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_causal_is_by_position_not_index(method, data):
    """[A-MASK-1] With causal=True a key after the query (by position, in any order) gets probability exactly 0 and
    a -inf logit, and every other pair a finite logit; causal=False leaves every pair visible."""
    case = data.draw(attention_cases(explicit_positions=True, masks=False), label="case").with_kwargs(causal=True)
    pq, pk = case.positions()
    probs = case.call(refrope.attention_probs, method=method)
    later = pk[None, :] > pq[:, None]
    assert np.all(probs[..., later] == 0)
    scores = case.call(refrope.attention_scores, method=method)
    assert np.array_equal(np.isneginf(scores), np.broadcast_to(later, scores.shape))
    both = case.call(refrope.attention_scores, method=method, causal=False)
    assert np.isfinite(both).all()


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_sliding_window_keeps_the_last_n_positions(method, data):
    """[A-MASK-2] sliding_window=N keeps 0 <= p_q - p_k < N (causal) or |p_q - p_k| < N, and for one query equals
    attention over only the keys inside its window (the local super baseline)."""
    case = data.draw(attention_cases(explicit_positions=True, masks=False), label="case")
    n_window = data.draw(st.integers(1, 12) | st.floats(0.3, 12.0), label="N")
    pq, pk = case.positions()
    r = pq[:, None] - pk[None, :]
    inside = (r >= 0) & (r < n_window) if case.kwargs["causal"] else np.abs(r) < n_window
    probs = case.call(refrope.attention_probs, method=method, sliding_window=n_window)
    assert np.all(np.where(inside, 0.0, probs) == 0)
    i = data.draw(st.integers(0, len(pq) - 1), label="query")
    assume(inside[i].any())
    one = case.with_kwargs(positions_q=pq[i:i + 1], sliding_window=n_window)
    one.q = case.q[..., i:i + 1, :]
    kept = case.with_kwargs(positions_q=pq[i:i + 1], positions_k=pk[inside[i]], key_mask=None)
    kept.q, kept.k, kept.v = case.q[..., i:i + 1, :], case.k[..., inside[i], :], case.v[..., inside[i], :]
    if case.kwargs.get("key_mask") is not None:
        kept.kwargs["key_mask"] = case.kwargs["key_mask"][inside[i]]
    assert_close(one.call(method=method), kept.call(method=method), bounds(one).output + bounds(kept).output,
                 "window vs kept keys")


@given(data=st.data())
def test_a_window_beyond_every_distance_changes_nothing(data):
    """[A-MASK-2] N greater than every distance gives the same result, bit for bit (auto)."""
    case = data.draw(attention_cases(explicit_positions=True, masks=False), label="case")
    pq, pk = case.positions()
    reach = np.abs(pq[:, None] - pk[None, :]).max()
    assert np.array_equal(case.call(sliding_window=reach + 1.0), case.call())


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_masking_keys_equals_removing_them(method, data):
    """[A-MASK-3] key_mask (True = may attend) gives the same output as removing the masked keys and their
    positions; an all-True mask changes nothing (bit for bit)."""
    case = data.draw(attention_cases(explicit_positions=True, masks=False), label="case")
    n_k = case.k.shape[-2]
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=n_k, max_size=n_k), label="keep"))
    assume(keep.any())
    _, pk = case.positions()
    masked = case.with_kwargs(key_mask=keep)
    removed = case.with_kwargs(positions_k=pk[keep])
    removed.k, removed.v = case.k[..., keep, :], case.v[..., keep, :]
    assert_close(masked.call(method=method), removed.call(method=method),
                 bounds(masked).output + bounds(removed).output, "masked vs removed keys")
    assert np.array_equal(case.call(method=method, key_mask=np.ones(n_k, bool)), case.call(method=method))


def test_key_mask_broadcasts_over_batch_not_heads():
    """[A-MASK-3] A (batch, n_k) mask masks per batch element, for every head and query."""
    rng = np.random.default_rng(3)
    q, k, _ = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((2, 3, 4, 2))
    mask = np.array([[True, True, False, True], [False, True, True, True]])
    probs = refrope.attention_probs(q, k, [1.0, 0.1], key_mask=mask)
    assert np.all(probs[0, ..., 2] == 0) and np.all(probs[1, ..., 0] == 0)
    assert np.all(probs[0, :, 3, [0, 1, 3]] > 0) and np.all(probs[1, :, 3, 1:] > 0)


@pytest.mark.parametrize("bad", [np.ones(4), np.zeros(4, dtype=int), [1.0, 0.0, 1.0, 1.0]])
def test_key_mask_must_be_boolean(bad):
    """[A-MASK-3] A non-boolean key_mask (e.g. HF's additive 0/-inf mask) is a TypeError naming key_mask."""
    with pytest.raises(TypeError, match="key_mask must be a boolean"):
        refrope.attention(np.ones((1, 4, 2)), np.ones((1, 4, 2)), np.ones((1, 4, 2)), [1.0], key_mask=bad)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ["all keys masked", "every key after the query", "window below the gap",
                                  "padded prefix"])
def test_rows_with_no_visible_key_are_zero(method, name):
    """[A-MASK-4] A row with no visible key: scores all -inf, probabilities 0, output 0; never NaN, no warning."""
    rng = np.random.default_rng(11)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((1, 5, 4)), rng.standard_normal((1, 5, 3))
    kw = {"all keys masked": dict(key_mask=np.zeros(5, bool), positions_q=[2, 3, 4]),
          "every key after the query": dict(positions_q=[0, 1, 9], positions_k=[5, 6, 7, 8, 9]),
          "window below the gap": dict(positions_q=[20.5, 30.0, 4.0], sliding_window=0.5),
          "padded prefix": dict(key_mask=np.array([False, False, True, True, True]), positions_q=[0, 1, 2])}[name]
    kw = dict(kw, relpos=rp.leaky_rerope(1, 2), method=method, block_size=2)
    scores = refrope.attention_scores(q, k, [1.0, 0.5], **kw)
    probs = refrope.attention_probs(q, k, [1.0, 0.5], **kw)
    out = refrope.attention(q, k, v, [1.0, 0.5], **kw)
    empty = np.isneginf(scores).all(-1)
    assert empty.any()
    assert np.all(probs[empty] == 0) and np.all(out[empty] == 0)
    assert not np.isnan(out).any() and not np.isnan(probs).any()
    assert np.allclose(probs[~empty].sum(-1), 1.0, rtol=0, atol=1e-13)
