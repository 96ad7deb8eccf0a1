"""[P-ATTN-1] [P-ATTN-2]: attention, its logits and weights with precision="exact" against mpmath at 60 digits, and
the precision keyword of every attention function (docs/spec/precision.md)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import refrope
from refrope import relpos as rp
from refrope.budgets import logit_multiplier
from spec_tests import mp_attention as MA
from spec_tests.attn_precision import (
    ETA,
    U,
    angle_limit_ok,
    logit_scale,
    long_cases,
    mp_errors,
    ulps_of,
    value_scale,
)
from spec_tests.attn_strategies import attention_cases

FUNCTIONS = (refrope.attention, refrope.attention_scores, refrope.attention_probs)


@given(drawn=long_cases())
def test_exact_attention_within_two_ulps(drawn):
    """[P-ATTN-1] Exact mode: every output element within 2 ulp(t) + 2u max|v| of the exact output t (mpmath, 60
    digits), every finite logit within ulp(s) + 2^-59 S_ij, every weight within ulp(p) + 2 eta, masked logits -inf
    and their weights 0 exactly; for every map, layout, mask, chunk size, bias, query scale, magnitude and head
    grouping, at positions 2^k +- 1 up to 2^40, with logits up to about 10^4."""
    case, omega = drawn
    assume(angle_limit_ok(case))
    want_s, want_p, want_o = MA.problem(case, omega)
    out = case.call(precision="exact")
    assert np.all(mp_errors(out, want_o) <= 2 * ulps_of(want_o) + 2 * U * value_scale(case))
    scores = case.call(refrope.attention_scores, precision="exact")
    masked = want_s == None  # noqa: E711 (elementwise on an object array)
    assert np.array_equal(np.isneginf(scores), masked)
    assert np.all(mp_errors(scores, want_s) <= ulps_of(want_s) + 2.0**-59 * logit_scale(case))
    probs = case.call(refrope.attention_probs, precision="exact")
    assert np.all(probs[masked] == 0.0)
    assert np.all(mp_errors(probs, want_p) <= ulps_of(want_p) + 2 * ETA)


@given(data=st.data())
def test_exact_mode_does_not_depend_on_method_or_block_size(data):
    """[P-ATTN-2] [A-METHOD-1] In exact mode one algorithm serves every method and block size: the results are equal
    bit for bit; decode_attention equals attention(..., method="decode") bit for bit, and token-by-token decoding
    equals the rows of the whole sequence within the exact bound."""
    case = data.draw(attention_cases(schemes=True), label="case").with_kwargs(precision="exact", block_size=None)
    method = data.draw(st.sampled_from(["direct", "two_pass", "decode"]), label="method")
    block = data.draw(st.integers(1, 4), label="block_size")
    for function in (refrope.attention, refrope.attention_scores, refrope.attention_probs):
        assert np.array_equal(case.call(function, method=method, block_size=block), case.call(function))
    keywords = {key: value for key, value in case.kwargs.items() if key not in ("positions_q", "positions_k")}
    pq, pk = case.positions()
    cache = refrope.KVCache().append(case.k, case.v, pk)
    whole = case.call()
    tol = 4 * U * value_scale(case) + 4 * np.spacing(np.abs(whole))
    for i, position in enumerate(pq):
        row = refrope.decode_attention(case.q[..., i:i + 1, :], cache, case.freqs, position=position, **keywords)
        assert np.array_equal(row, refrope.attention(case.q[..., i:i + 1, :], case.k, case.v, case.freqs,
                                                     positions_q=[position], positions_k=pk, method="decode",
                                                     **keywords))
        assert np.all(np.abs(row[..., 0, :] - whole[..., i, :]) <= tol[..., i, :])


@given(data=st.data())
def test_fast_is_the_default_bit_for_bit(data):
    """[P-ATTN-2] precision="fast" gives bit for bit what omitting it gives, in every attention function and method
    (and in decode_attention and attention_vjp)."""
    case = data.draw(attention_cases(schemes=True), label="case")
    method = data.draw(st.sampled_from(["auto", "direct", "two_pass", "decode"]), label="method")
    for function in FUNCTIONS:
        assert np.array_equal(case.call(function, method=method, precision="fast"), case.call(function, method=method))
    grad = np.ones(case.call().shape)
    plain = refrope.attention_vjp(grad, case.q, case.k, case.v, case.freqs, **case.kwargs)
    fast = refrope.attention_vjp(grad, case.q, case.k, case.v, case.freqs, precision="fast", **case.kwargs)
    assert all(np.array_equal(a, b) for a, b in zip(plain, fast))


@pytest.mark.parametrize("precision", ["Exact", "double", None, 1, ""])
def test_unknown_precision_is_a_value_error_naming_it(precision):
    """[P-ATTN-2] An unknown precision raises ValueError naming it, in every attention function."""
    q = np.ones((1, 2, 2))
    cache = refrope.KVCache().append(q, q, [0, 1])
    calls = [lambda f=f: f(q, q, [1.0], precision=precision)
             for f in (refrope.attention_scores, refrope.attention_probs)]
    calls += [lambda: refrope.attention(q, q, q, [1.0], precision=precision),
              lambda: refrope.decode_attention(q[:, :1], cache, [1.0], position=1, precision=precision),
              lambda: refrope.attention_vjp(q, q, q, q, [1.0], precision=precision)]
    for call in calls:
        with pytest.raises(ValueError, match=f"precision must be one of .*got {precision!r}"):
            call()


def test_exact_mode_refusals():
    """[P-ATTN-2] [P-EXACT-5] Exact mode refuses, with a ValueError: attention_vjp (no exact gradients), an angle
    beyond 2^41 (with the map's slope), and a hand-made Frequencies under a registry name."""
    q = np.ones((1, 2, 8))
    f = refrope.inv_freq("default", 8)
    with pytest.raises(ValueError, match="attention_vjp has no exact mode"):
        refrope.attention_vjp(q, q, q, q, f, precision="exact")
    with pytest.raises(ValueError, match=r"precision='exact' needs every angle"):
        refrope.attention(q, q, q, f, positions_q=[2.0**42, 2.0**42 + 1], positions_k=[0.0, 1.0], precision="exact")
    with pytest.raises(ValueError, match=r"precision='exact' needs every angle"):
        refrope.attention(q, q, q, f, positions_q=[2.0**40, 2.0**40 + 1], positions_k=[0.0, 1.0],
                          relpos=rp.inv_leaky_rerope(2, 0.25), precision="exact")
    forged = refrope.Frequencies(f.inv_freq * 1.01, variant="default", params={"theta": 10000.0})
    with pytest.raises(ValueError, match="is not the formula of variant 'default'"):
        refrope.attention(q, q, q, forged, precision="exact")


def test_exact_golden_at_long_positions():
    """[P-ATTN-1] Golden: default frequencies, d = 128, theta = 500000, 8 tokens at 2^40 - 1 ... 2^40 + 6, causal
    ReRoPE(3) and Leaky ReRoPE(3, 16): the exact output is mpmath's, correctly rounded (0.5 ulp) where fast mode's
    old absolute-position rotation was off by 10^10 u max|v|."""
    rng = np.random.default_rng(11)
    q, k, v = (rng.standard_normal((1, 8, 128)) for _ in range(3))
    f = refrope.inv_freq("default", 128, theta=500000.0)
    pos = 2.0**40 - 1 + np.arange(8.0)
    omega = MA.exact_omega(f)
    for relpos in (rp.rerope(3), rp.leaky_rerope(3, 16)):
        got = refrope.attention(q, k, v, f, positions_q=pos, positions_k=pos, relpos=relpos, precision="exact")
        factor = logit_multiplier(f, pos, 128)  # 1/sqrt(128) as float64: the input the exact output is of
        _, _, want = MA.head(q[0], k[0], v[0], omega, 1.0, pos, pos, factor, relpos=relpos)
        assert np.all(MA.errors(got[0], want) <= 0.5 * np.vectorize(MA.ulp)(np.array(want, dtype=float)))


def _peak_bytes(n: int) -> int:
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, n, 8)) for _ in range(3))
    f = refrope.inv_freq("default", 8)
    tracemalloc.start()
    refrope.attention(q, k, v, f, precision="exact")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_exact_memory_stays_in_tiles():
    """[P-ATTN-1] [A-MEM-1] Exact attention works tile by tile: its peak does not grow from n = 512 to n = 2048
    (d = 8; measured 12 MiB at both) and stays below half the n x n matrix of float64 at 2048 (32 MiB)."""
    _peak_bytes(64)  # tables built once
    small, large = _peak_bytes(512), _peak_bytes(2048)
    assert large < 1.25 * small
    assert large < 2048 * 2048 * 8 / 2
