"""[A-SCORE-1] to [A-NUM-1]: attention against its definition; the methods agree (docs/spec/attention.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import refrope
from refrope import relpos as rp
from spec_tests.attn_strategies import (
    MAP_NAMES,
    METHODS,
    assert_close,
    attention_cases,
    bounds,
    expected,
    maps,
    row_factors,
)
from spec_tests.bounds import EPS
from spec_tests.strategies import vectors


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_every_method_matches_the_definition(method, data):
    """[A-SCORE-1] [A-OUT-1] [A-PROBS-1] [A-NUM-1] [A-METHOD-1] [A-METHOD-2] [A-METHOD-3] [A-METHOD-4] [A-PASS-1]
    [A-MASK-1] [A-MASK-2] [A-MASK-3] [A-POS-1] Scores, weights and output of every method equal the definition
    written pair by pair with rotation_matrix, within the stated bound, over every map, layout, mask and scale."""
    case = data.draw(attention_cases(offsets=True), label="case")
    want_s, want_p, want_o = expected(case)
    tol = bounds(case)
    assert_close(case.call(refrope.attention_scores, method=method), want_s, tol.logits, "scores")
    assert_close(case.call(refrope.attention_probs, method=method), want_p, tol.probs, "probs")
    assert_close(case.call(method=method), want_o, tol.output, "output")


@pytest.mark.parametrize("name", MAP_NAMES)
@given(data=st.data())
def test_methods_agree_with_each_other(name, data):
    """[A-METHOD-1] [A-METHOD-2] [A-METHOD-3] [A-METHOD-4] [A-NUM-1] direct == two_pass == decode == auto, for every
    map (both causal and not), every layout and prefix, within the bound of [A-NUM-1]."""
    case = data.draw(attention_cases(relpos=name, max_n=7, offsets=True), label="case")
    tol = bounds(case)
    reference = case.call(method="direct")
    scores = case.call(refrope.attention_scores, method="direct")
    for method in ("auto", "two_pass", "decode"):
        assert_close(case.call(method=method), reference, tol.output, f"output of {method}")
        assert_close(case.call(refrope.attention_scores, method=method), scores, tol.logits, f"scores of {method}")


@given(data=st.data())
def test_probs_times_values_is_the_output(data):
    """[A-PROBS-1] attention_probs rows sum to 1 (0 when all masked) and probs @ v equals attention."""
    case = data.draw(attention_cases(), label="case")
    probs = case.call(refrope.attention_probs)
    sums = probs.sum(-1)
    assert np.all((np.abs(sums - 1) <= 1e-13) | (sums == 0))
    group = case.q.shape[-3] // case.k.shape[-3]
    got = probs @ np.repeat(case.v, group, axis=-3)
    assert_close(case.call(), got, bounds(case).output, "probs @ v")


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_grouped_query_equals_repeated_heads(method, data):
    """[A-GQA-1] Query head h uses kv head h // group: equal bit for bit to k, v repeated (transformers repeat_kv)."""
    case = data.draw(attention_cases(), label="case")
    group = case.q.shape[-3] // case.k.shape[-3]
    repeated = refrope.attention(case.q, np.repeat(case.k, group, axis=-3), np.repeat(case.v, group, axis=-3),
                                 case.freqs, method=method, **case.kwargs)
    assert np.array_equal(case.call(method=method), repeated)


def test_heads_must_divide():
    """[A-GQA-1] heads_q not a multiple of heads_kv is a ValueError naming both."""
    with pytest.raises(ValueError, match="heads_q must be a multiple of heads_kv.*heads_q=3.*heads_kv=2"):
        refrope.attention(np.ones((3, 2, 4)), np.ones((2, 2, 4)), np.ones((2, 2, 4)), [1.0, 0.1])


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data(), shift=st.integers(-2**16, 2**20))
def test_common_shift_of_positions_changes_nothing(method, data, shift):
    """[A-SHIFT-1] Without a query scale attention is invariant to a common shift: bit for bit for direct and decode
    with integer positions, within [A-NUM-1] otherwise (relative positions only: [R-PROP-2])."""
    case = data.draw(attention_cases(explicit_positions=True), label="case").with_kwargs(query_scale=None)
    pq, pk = case.positions()
    integer = np.all(pq == np.round(pq)) and np.all(pk == np.round(pk))
    moved = case.with_kwargs(positions_q=pq + shift, positions_k=pk + shift)
    got, want = moved.call(method=method), case.call(method=method)
    if method in ("direct", "decode") and integer:
        assert np.array_equal(got, want)
    else:
        assert_close(got, want, bounds(moved).output + bounds(case).output, "shifted")


def test_logn_breaks_shift_invariance():
    """[G-LOGN-3] [A-SHIFT-1] With logn the factor depends on the absolute position: a shift changes the output."""
    rng = np.random.default_rng(7)
    q, k, v = rng.standard_normal((1, 4, 4)), rng.standard_normal((1, 4, 4)), rng.standard_normal((1, 4, 2))
    kw = dict(query_scale=refrope.query_scale.logn(8))
    base = refrope.attention(q, k, v, [1.0, 0.01], positions_q=np.arange(4), positions_k=np.arange(4), **kw)
    moved = refrope.attention(q, k, v, [1.0, 0.01], positions_q=np.arange(4) + 100, positions_k=np.arange(4) + 100,
                              **kw)
    assert np.abs(base - moved)[0, 1:].max() > 1e-3          # rows with two or more keys differ
    plain = [refrope.attention(q, k, v, [1.0, 0.01], positions_q=np.arange(4) + t, positions_k=np.arange(4) + t)
             for t in (0, 100)]
    np.testing.assert_allclose(plain[0], plain[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_rerope_with_a_window_beyond_every_distance_is_rope(method, data):
    """[A-RERO-1] [L-MAP-3] ReRoPE with w > every distance equals RoPE attention bit for bit
    (kexue.fm/archives/9708 §8.1)."""
    case = data.draw(attention_cases(relpos="rope", explicit_positions=True), label="case")
    pq, pk = case.positions()
    reach = np.abs(pq[..., :, None] - pk[..., None, :]).max()
    w = data.draw(st.floats(float(reach), float(reach) + 100.0, exclude_min=True), label="window")
    assert np.array_equal(case.call(method=method, relpos=rp.rerope(w)), case.call(method=method))
    scores = case.call(refrope.attention_scores, method=method)
    assert np.array_equal(case.call(refrope.attention_scores, method=method, relpos=rp.rerope(w)), scores)


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_rerope_scores_beyond_the_window_do_not_depend_on_distance(method, data):
    """[A-RERO-2] [A-PASS-1] The same key at every distance r >= w gets the same logit (kexue.fm/archives/9708 §8.1):
    bit for bit in direct and decode, within one dot product's rounding in auto and two_pass (BLAS summation order)."""
    w = data.draw(st.integers(0, 6), label="window")
    n = data.draw(st.integers(w + 2, w + 10), label="n")
    d = 2 * data.draw(st.integers(1, 3), label="pairs")
    layout = data.draw(st.sampled_from(refrope.LAYOUTS), label="layout")
    start = data.draw(st.integers(0, 2**17), label="start")
    q, key = data.draw(vectors(d), label="q")[None, None], data.draw(vectors(d), label="key")
    k = np.tile(key, (1, n, 1))
    scores = refrope.attention_scores(q, k, refrope.inv_freq("default", d), relpos=rp.rerope(w), layout=layout,
                                      positions_q=[start + n - 1], positions_k=start + np.arange(n), method=method,
                                      block_size=data.draw(st.integers(1, 4), label="block_size"))[0, 0]
    far = scores[: n - w]                   # distances n-1 down to w
    if method in ("direct", "decode"):
        assert np.all(far == far[0])
    else:
        tol = 2 * d * EPS * np.linalg.norm(q) * np.linalg.norm(key) / math.sqrt(d)
        assert np.abs(far - far[0]).max() <= tol


@given(f=maps("linear"), data=st.data())
def test_linear_map_is_rope_at_divided_positions(f, data):
    """[L-MAP-2] Attention logits with linear(k) equal RoPE logits with every position divided by k
    (PI, arXiv:2306.15595; kexue.fm/archives/9708 §8.1)."""
    case = data.draw(attention_cases(relpos=f, explicit_positions=True, masks=False), label="case")
    case = case.with_kwargs(query_scale=None)
    pq, pk = case.positions()
    divided = case.with_kwargs(relpos="rope", positions_q=pq / f.factor, positions_k=pk / f.factor)
    assert_close(case.call(refrope.attention_scores), divided.call(refrope.attention_scores),
                 bounds(case).logits + bounds(divided).logits, "linear(k) vs positions / k")


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_magnitude_scales_the_rotated_part_by_its_square(method, data):
    """[A-MAG-1] [A-SCORE-1] m multiplies the rotated part of each logit by m^2, not the pass-through part: with
    m = 2 a fully rotary head gets exactly 4x the logits, and rows with two or more keys get softmax(4x)."""
    case = data.draw(attention_cases(masks=False).filter(lambda c: rp.resolve(c.kwargs["relpos"]).name != "none"),
                     label="case")  # NoPE has no magnitude: [A-NOPE-1]
    d_rot = case.freqs.rotary_dim
    one, two = (case.with_kwargs(method=method) for _ in range(2))
    one.freqs, two.freqs = (refrope.Frequencies(case.freqs.inv_freq, attention_factor=a) for a in (1.0, 2.0))
    s1, s2 = one.call(refrope.attention_scores), two.call(refrope.attention_scores)
    group = case.q.shape[-3] // case.k.shape[-3]
    passing = np.einsum("...id,...jd->...ij", case.q[..., d_rot:], np.repeat(case.k[..., d_rot:], group, axis=-3))
    passing = passing * row_factors(case)[..., None, :, None]
    want = np.where(np.isfinite(s1), 4 * s1 - 3 * passing, -np.inf)
    if case.q.shape[-1] == d_rot:
        assert np.array_equal(s2, 4 * s1)
    assert_close(s2, want, 8 * bounds(two).logits, "logits with m = 2")
    rows = np.isfinite(s1).sum(-1) >= 2
    assume(rows.any())
    chosen = want[rows]
    e = np.exp(chosen - chosen.max(-1, keepdims=True))
    probs = two.call(refrope.attention_probs)[rows]
    assert_close(probs, e / e.sum(-1, keepdims=True), bounds(two).probs, "softmax of 4x logits")
