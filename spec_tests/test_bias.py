"""[BIAS-EVEN-1] to [BIAS-SANDWICH-1]: the additive position biases (docs/spec/schemes.md).

Expected values are the papers' formulas written here with ``math`` (spec_tests.scheme_strategies.bias_expected),
the ALiBi paper's ``get_slopes`` written out below, and NoPE attention on concatenated vectors for Sandwich.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope import bias as bs
from spec_tests.attn_strategies import assert_close
from spec_tests.bounds import EPS
from spec_tests.scheme_strategies import _registry_draw, bias_expected
from spec_tests.strategies import vectors

NAMES = tuple(bs.BIASES)
distances = st.integers(-2**17, 2**17) | st.floats(-1e4, 1e4, allow_nan=False, allow_subnormal=False)


def paper_get_slopes(n: int) -> list[float]:
    """ofirpress/attention_with_linear_biases ``get_slopes``, written out from the paper's description."""
    def power_of_2(m: int) -> list[float]:
        start = 2 ** (-2 ** -(math.log2(m) - 3))
        return [start * start ** i for i in range(m)]
    if math.log2(n).is_integer():
        return power_of_2(n)
    closest = 2 ** math.floor(math.log2(n))
    return power_of_2(closest) + paper_get_slopes(2 * closest)[0::2][: n - closest]


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_biases_are_even_zero_at_zero_and_match_the_papers(name, data):
    """[BIAS-EVEN-1] [BIAS-ALIBI-1] [BIAS-KERPLE-1] [BIAS-KERPLE-2] [BIAS-SANDWICH-1] b(-r) = b(r) exactly,
    b(0) = +0, float64 of r's shape, and the values are the papers' formulas (rounding: a few eps |b|, Sandwich
    D/2 cosines of angles up to |r|)."""
    b = data.draw(_registry_draw(bs.BIASES[name], 4096), label="bias")
    r = np.array(data.draw(st.lists(distances, min_size=1, max_size=6), label="r"))
    got = b(r)
    assert got.dtype == np.float64 and got.shape == r.shape
    assert np.array_equal(b(-r), got)
    zero = b(np.zeros(1))
    assert zero[0] == 0 and math.copysign(1.0, zero[0]) == 1.0
    for x, value in zip(r, got):
        want = bias_expected(b, float(x), 0)
        slack = 8 * EPS * (abs(want) + getattr(b, "dim", 0) * float(getattr(b, "lam", 0.0)) * (1 + abs(x)))
        assert abs(value - want) <= slack + 8 * EPS * abs(value), (b, x, value, want)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_biases_are_immutable_values_with_a_registry_name(name, data):
    """[BIAS-EVEN-1] [M-REG-1] Each bias carries its registry name and class, is frozen, compares and hashes by
    value, and its repr rebuilds it."""
    b = data.draw(_registry_draw(bs.BIASES[name], 4096), label="bias")
    assert b.name == name and type(b) is bs.BIASES[name].cls and bs.name_of(b) == name
    rebuilt = eval(repr(b), vars(bs))
    assert rebuilt == b and hash(rebuilt) == hash(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(b, dataclasses.fields(b)[0].name, 1.0)


def test_per_head_parameters_act_on_axis_minus_three():
    """[BIAS-EVEN-1] A (heads,) parameter broadcasts as param.reshape(heads, 1, 1): r of shape (n_q, n_k) gives
    (heads, n_q, n_k), (B, 1, n_q, n_k) gives (B, heads, n_q, n_k); head(h) is the scalar bias of head h."""
    r = np.arange(6.0).reshape(2, 3) - 2
    b = bs.kerple_log([0.5, 1.0, 2.0], 3.0)
    out = b(r)
    assert out.shape == (3, 2, 3)
    for h, r1 in enumerate((0.5, 1.0, 2.0)):
        assert np.array_equal(out[h], bs.kerple_log(r1, 3.0)(r)) and b.head(h) == bs.kerple_log(r1, 3.0)
    assert b(r[None, None]).shape == (1, 3, 2, 3) and b.heads == 3 and bs.kerple_log(1.0, 2.0).heads is None


@pytest.mark.parametrize("n", list(range(1, 34)) + [48, 64, 80, 96, 112, 128])
def test_alibi_slopes_are_the_papers_get_slopes(n):
    """[BIAS-SLOPES-1] alibi_slopes(n) equals the paper's get_slopes for every head count (powers of two and not),
    within (n + 4) eps relative: the paper raises a rounded start to the i-th power (i rounding errors of it)."""
    np.testing.assert_allclose(bs.alibi_slopes(n), paper_get_slopes(n), rtol=(n + 4) * EPS, atol=0)
    assert bs.alibi_slopes(n).shape == (n,)


def test_alibi_slopes_for_twelve_heads_by_hand():
    """[BIAS-SLOPES-1] 12 heads: 2^-1 .. 2^-8, then 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5 (the paper's construction)."""
    want = [2.0**-k for k in range(1, 9)] + [2.0**-0.5, 2.0**-1.5, 2.0**-2.5, 2.0**-3.5]
    np.testing.assert_allclose(bs.alibi_slopes(12), want, rtol=4 * EPS, atol=0)


def test_kerple_power_with_exponent_one_is_alibi():
    """[BIAS-KERPLE-1] kerple_power(r1, 1) equals alibi(r1) bit for bit."""
    r = np.arange(-50.0, 51.0)
    assert np.array_equal(bs.kerple_power(0.3, 1.0)(r), bs.alibi(0.3)(r))


@given(lam=st.floats(0.01, 4.0), pairs=st.integers(1, 8), m=st.integers(0, 4096), n=st.integers(0, 4096),
       shift=st.integers(-4096, 4096))
def test_sandwich_is_a_function_of_the_difference_of_sinusoidal_encodings(lam, pairs, m, n, shift):
    """[BIAS-SANDWICH-1] lam (p_m . p_n - D/2) with p the sinusoidal encoding, a function of m - n only (S2)."""
    dim = 2 * pairs
    omega = 10000.0 ** (-np.arange(0, dim, 2) / dim)

    def p(x):
        return np.concatenate([np.sin(x * omega), np.cos(x * omega)])

    want = lam * (p(m) @ p(n) - dim / 2)
    moved = lam * (p(m + shift) @ p(n + shift) - dim / 2)
    got = bs.sandwich(lam, dim)(float(m - n))
    slack = 16 * EPS * lam * dim * (1 + 2 * (abs(m) + abs(n) + abs(shift)))
    assert abs(got - want) <= slack and abs(got - moved) <= slack


@pytest.mark.parametrize("method", ["auto", "direct", "two_pass", "decode"])
@given(data=st.data())
def test_sandwich_attention_is_nope_attention_on_concatenated_encodings(method, data):
    """[BIAS-SANDWICH-1] [A-BIAS-1] [A-NOPE-1] Identity S1: attention with sandwich(lam, D) at scale c equals NoPE
    attention on [q, sqrt(lam/c) p_m], [k, sqrt(lam/c) p_n] at scale c (the -D/2 cancels in the softmax)."""
    heads, n_k = data.draw(st.integers(1, 2), label="heads"), data.draw(st.integers(1, 6), label="n_k")
    d, dim = data.draw(st.integers(1, 4), label="d"), 2 * data.draw(st.integers(1, 4), label="pairs")
    lam, c = data.draw(st.floats(0.05, 2.0), label="lam"), data.draw(st.floats(0.1, 2.0), label="scale")
    start = data.draw(st.integers(0, 2**12), label="start")
    q = data.draw(vectors(d, rows=heads * n_k), label="q").reshape(heads, n_k, d)
    k = data.draw(vectors(d, rows=heads * n_k), label="k").reshape(heads, n_k, d)
    v = data.draw(vectors(2, rows=heads * n_k), label="v").reshape(heads, n_k, 2)
    pos = start + np.arange(n_k, dtype=float)
    omega = 10000.0 ** (-np.arange(0, dim, 2) / dim)
    enc = math.sqrt(lam / c) * np.concatenate([np.sin(pos[:, None] * omega), np.cos(pos[:, None] * omega)], -1)
    wide_q = np.concatenate([q, np.broadcast_to(enc, (heads, n_k, dim))], -1)
    wide_k = np.concatenate([k, np.broadcast_to(enc, (heads, n_k, dim))], -1)
    kw = dict(positions_q=pos, positions_k=pos, scale=c, method=method)
    got = refrope.attention(q, k, v, None, relpos="none", bias=bs.sandwich(lam, dim), **kw)
    want = refrope.attention(wide_q, wide_k, v, None, relpos="none", **kw)
    size = c * (np.abs(q).max() * np.abs(k).max() * d + lam * dim) + 1
    assert_close(got, want, 64 * EPS * size * (n_k + dim * (1 + 2 * start)) * max(1.0, np.abs(v).max()), "S1")


@pytest.mark.parametrize("call, error, match", [
    (lambda: bs.alibi(0.0), ValueError, "slopes must be > 0"),
    (lambda: bs.alibi(-1.0), ValueError, "slopes must be > 0"),
    (lambda: bs.alibi(math.nan), ValueError, "slopes must be finite"),
    (lambda: bs.alibi(True), TypeError, "slopes must be a real number"),
    (lambda: bs.alibi("0.5"), TypeError, "slopes must be a real number"),
    (lambda: bs.alibi([[0.5]]), TypeError, "slopes must be a real number or a 1-D array"),
    (lambda: bs.alibi([]), TypeError, "slopes must be a real number or a 1-D array"),
    (lambda: bs.kerple_power(1.0, 2.5), ValueError, "r2 must be <= 2.0"),
    (lambda: bs.kerple_power(1.0, 0.0), ValueError, "r2 must be > 0"),
    (lambda: bs.kerple_power(0.0, 1.0), ValueError, "r1 must be > 0"),
    (lambda: bs.kerple_log(1.0, 0.0), ValueError, "r2 must be > 0"),
    (lambda: bs.kerple_log(-1.0, 1.0), ValueError, "r1 must be > 0"),
    (lambda: bs.sandwich(1.0, 3), ValueError, "dim must be even"),
    (lambda: bs.sandwich(1.0, 0), ValueError, "dim must be >= 2"),
    (lambda: bs.sandwich(0.0, 4), ValueError, "lam must be > 0"),
    (lambda: bs.sandwich(1.0, 4, theta=0.0), ValueError, "theta must be > 0"),
    (lambda: bs.alibi(0.5)([0.0, math.inf]), ValueError, "r must be finite"),
    (lambda: bs.alibi_slopes(0), ValueError, "n_heads must be >= 1"),
    (lambda: bs.alibi_slopes(2.0), TypeError, "n_heads must be an integer"),
    (lambda: bs.kerple_log([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "per-head parameters of different lengths"),
])
def test_bad_parameters_are_rejected(call, error, match):
    """[BIAS-EVEN-1] Out-of-range, non-finite, bool, string and 2-D parameters raise, naming the parameter."""
    with pytest.raises(error, match=match):
        call()


def test_bias_budget_terms_bound_a_float32_evaluation():
    """[BIAS-NUM-1] Each bias evaluated in float32 from exact distances (slopes, exponents and frequencies rounded,
    every operation in float32) is within its stated rounding bound of the float64 value."""
    r = np.arange(0.0, 2**14, 37.0)
    u = ua = 2.0**-24
    f32 = np.float32
    cases = {
        "alibi": (bs.alibi(0.7071), lambda: -f32(0.7071) * np.abs(r).astype(f32)),
        "kerple_power": (bs.kerple_power(0.3, 1.7), lambda: -f32(0.3) * np.abs(r).astype(f32) ** f32(1.7)),
        "kerple_log": (bs.kerple_log(0.3, 0.9), lambda: -f32(0.3) * np.log1p(f32(0.9) * np.abs(r).astype(f32))),
        "sandwich": (bs.sandwich(0.5, 16), lambda: f32(0.5) * (np.cos(np.abs(r).astype(f32)[:, None] * (
            f32(10000.0) ** (-np.arange(0, 16, 2, dtype=f32) / f32(16)))).sum(-1, dtype=f32) - f32(8))),
    }
    assert set(cases) == set(bs.BIASES)
    for name, (b, low) in cases.items():
        err = np.abs(low().astype(np.float64) - b(r))
        assert np.all(err <= b.rounding(r, u, ua)), name
