"""[N-FAST-3]: fast mode's attention against the exact output (mpmath at 60 digits), at positions near 2^k +- 1 up to
2^40, for every method (docs/spec/numerics.md)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import refrope
from refrope import relpos as rp
from spec_tests import mp_attention as MA
from spec_tests.attn_precision import U, fast_logit_bound, long_cases, mp_errors, value_scale
from spec_tests.attn_strategies import METHODS


@pytest.mark.parametrize("method", METHODS)
@given(drawn=long_cases())
def test_fast_attention_within_its_stated_bound(method, drawn):
    """[N-FAST-3] Fast mode, every method: each logit within Delta_ij = |c_i|[m^2 Q_i K_j((eps + 3u) Omega |f(r_ij)|
    + (d + 16)u) + Q'_i K'_j (d + 2)u] + 2u|b_ij| of the exact logit (eps the stored frequencies' relative error),
    each weight within p_ij(2 Delta_i + (n_k + 8)u) + u, each output element within
    2 V Delta_i + (2 n_k + 16) u V (Delta_i = max_j Delta_ij over the visible keys); the error depends on the
    distance f(r), not on the absolute position. Masks are those of the exact relative positions."""
    case, omega = drawn
    want_s, want_p, want_o = MA.problem(case, omega)
    delta = fast_logit_bound(case, omega)
    masked = want_s == None  # noqa: E711 (elementwise on an object array)
    scores = case.call(refrope.attention_scores, method=method)
    assert np.array_equal(np.isneginf(scores), masked)
    assert np.all(mp_errors(scores, want_s) <= np.where(masked, 0.0, delta))
    row = np.where(masked, 0.0, delta).max(axis=-1, keepdims=True)
    n_k, v = case.k.shape[-2], value_scale(case)
    weights = np.vectorize(lambda p: float(p), otypes=[float])(want_p)
    probs = case.call(refrope.attention_probs, method=method)
    assert np.all(mp_errors(probs, want_p) <= weights * (2 * row + (n_k + 8) * U) + U)
    out = case.call(method=method)
    assert np.all(mp_errors(out, want_o) <= 2 * v * row + (2 * n_k + 16) * U * v)


@pytest.mark.parametrize("method", ["auto", "two_pass"])
@pytest.mark.parametrize("relpos", ["rope", rp.rerope(5), rp.leaky_rerope(4, 16)], ids=["rope", "rerope", "leaky"])
def test_pre_rotated_methods_keep_distance_accuracy_far_out(method, relpos):
    """[N-FAST-3] The pre-rotated methods at 10^6 - 1 and 2^40 + 1 (d = 64, 16 tokens, block size 4) are within
    8 u max|v| of the exact output, as at position 0 and as "direct" (measured: 4.3 and 2.1 at most): rotating at the
    absolute position with a float64 angle was off by 5.7e4 u max|v| at 10^6 and 3.7e10 u max|v| at 2^40."""
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal((1, 16, 64)) for _ in range(3))
    f = refrope.inv_freq("default", 64)
    omega = MA.exact_omega(f)
    for start in (1e6 - 1, 2.0**40 + 1):
        pos = start + np.arange(16.0)
        got = refrope.attention(q, k, v, f, positions_q=pos, positions_k=pos, relpos=relpos, method=method,
                                block_size=4)[0]
        factor = refrope.budgets.logit_multiplier(f, pos, 64)
        _, _, want = MA.head(q[0], k[0], v[0], omega, 1.0, pos, pos, factor, relpos=relpos)
        assert MA.errors(got, want).max() <= 8 * U * np.abs(v).max(), start


@pytest.mark.parametrize("relpos", ["rope", rp.leaky_rerope(4, 16)], ids=["rope", "leaky"])
def test_beyond_the_two_word_range_the_float64_angle_is_kept(relpos):
    """[N-FAST-3] [A-NUM-1] Beyond |P omega| = 2^45 the pre-rotated methods fall back to the float64 angle: at
    2^50 they still answer, finite, and agree with "direct" within [A-NUM-1] (whose bound grows with the position)."""
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((1, 6, 8)) for _ in range(3))
    f = refrope.inv_freq("default", 8)
    pos = 2.0**50 + np.arange(6.0)
    kw = dict(positions_q=pos, positions_k=pos, relpos=relpos)
    direct = refrope.attention(q, k, v, f, method="direct", **kw)
    s = np.linalg.norm(q, axis=-1).max() * np.linalg.norm(k, axis=-1).max() / np.sqrt(8.0)  # S of [A-NUM-1]
    delta = 8 * 2 * U * s * (2 + 8 + 2 * 2.0**50 + 8)  # [A-NUM-1]: 8 eps S (2 + d + A), A = Omega (2P + 2w)
    for method in ("auto", "two_pass"):
        got = refrope.attention(q, k, v, f, method=method, **kw)
        assert np.all(np.isfinite(got))
        assert np.abs(got - direct).max() <= np.abs(v).max() * (4 * delta + 16 * 2 * U * (6 + s + 1))
