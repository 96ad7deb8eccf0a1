"""[F-NTKAWARE-*], [F-NTKBASE-*], [F-NTKFIXED-*], [F-NTKMIXED-*], [F-MIXEDRADIX-*], [F-DYN-*]
(docs/spec/frequencies.md).

Expected values are computed here from the articles' formulas (base-rewrite forms, mpmath), not from refrope.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from spec_tests.bounds import EPS
from spec_tests.strategies import factors, lengths, rotary_dims, thetas

ks = factors


def _rtol(theta, k=1.0):
    """pow() with a rounded exponent: relative error up to a few eps times |exponent * ln(base)|."""
    return 16 * EPS * (1.0 + math.log(theta) + abs(math.log(k)) * 2)


def _default(d, theta):
    return refrope.inv_freq("default", d, theta=theta).inv_freq


@given(d=rotary_dims.filter(lambda d: d > 2), theta=thetas, k=ks)
def test_ntk_aware_is_base_times_k_power(d, theta, k):
    """[F-NTKAWARE-1] omega'_i = (theta k^(d/(d-2)))^(-2i/d): bloc97's base rewrite, evaluated as written."""
    base = theta * k ** (d / (d - 2))
    want = base ** (-np.arange(0, d, 2) / d)
    got = refrope.inv_freq("ntk_aware", d, theta=theta, factor=k).inv_freq
    np.testing.assert_allclose(got, want, rtol=_rtol(theta, k))


@given(d=rotary_dims, theta=thetas, k=ks)
def test_ntk_aware_endpoints(d, theta, k):
    """[F-NTKAWARE-2] omega'_0 = 1 exactly and the lowest frequency equals PI's (bloc97's lambda = k^(2/(d-2)),
    kexue.fm/archives/9675)."""
    got = refrope.inv_freq("ntk_aware", d, theta=theta, factor=k).inv_freq
    assert got[0] == 1.0
    if d > 2:
        np.testing.assert_allclose(got[-1], _default(d, theta)[-1] / k, rtol=_rtol(theta, k))


@given(d=rotary_dims, theta=thetas, k=ks)
def test_ntk_base_is_base_times_k(d, theta, k):
    """[F-NTKBASE-1] NTK-RoPE-old: omega'_i = (theta k)^(-2i/d)."""
    got = refrope.inv_freq("ntk_base", d, theta=theta, factor=k).inv_freq
    np.testing.assert_allclose(got, (theta * k) ** (-np.arange(0, d, 2) / d), rtol=_rtol(theta * k))


@given(d=rotary_dims, theta=thetas, k=ks)
def test_ntk_base_beta_identity(d, theta, k):
    """[F-NTKBASE-2] (theta k)^(2/d) = beta k^(2/d), so omega'_m = (beta lambda)^-(m-1), lambda = k^(2/d); omega'_0 = 1
    (kexue.fm/archives/9706 eq. 3-4)."""
    beta, lam = theta ** (2 / d), k ** (2 / d)
    assert math.isclose((theta * k) ** (2 / d), beta * lam, rel_tol=8 * EPS)
    assert math.isclose(lam ** (d / 2), k, rel_tol=8 * EPS * d)
    got = refrope.inv_freq("ntk_base", d, theta=theta, factor=k).inv_freq
    m = np.arange(1, d // 2 + 1)
    np.testing.assert_allclose(got, (beta * lam) ** (-(m - 1.0)), rtol=_rtol(theta, k) * d)
    assert got[0] == 1.0


@given(d=rotary_dims, theta=thetas, k=ks)
def test_ntk_fixed_formula(d, theta, k):
    """[F-NTKFIXED-1] omega_m = 1 / (lambda (beta lambda)^(m-1)), lambda = k^(2/d) (9706 eq. 6)."""
    beta, lam = theta ** (2 / d), k ** (2 / d)
    m = np.arange(1, d // 2 + 1)
    want = 1.0 / (lam * (beta * lam) ** (m - 1.0))
    got = refrope.inv_freq("ntk_fixed", d, theta=theta, factor=k).inv_freq
    np.testing.assert_allclose(got, want, rtol=_rtol(theta, k) * d)


@given(d=rotary_dims, theta=thetas, k=ks)
def test_ntk_fixed_endpoints(d, theta, k):
    """[F-NTKFIXED-2] omega'_1 = k^(-2/d); omega'_{d/2} = PI's lowest frequency exactly up to rounding
    (kexue.fm/archives/9706 eq. 6)."""
    got = refrope.inv_freq("ntk_fixed", d, theta=theta, factor=k).inv_freq
    assert math.isclose(got[0], k ** (-2 / d), rel_tol=8 * EPS)
    np.testing.assert_allclose(got[-1], _default(d, theta)[-1] / k, rtol=_rtol(theta, k))


@given(d=rotary_dims, theta=thetas, k=ks, b=st.floats(0.0, 1.0))
def test_ntk_mixed_formula(d, theta, k, b):
    """[F-NTKMIXED-1] omega_m = beta^-(m-1) exp(-a m^b), a = ln k / (d/2)^b, m = 1..d/2 (9706 eq. 10-13)."""
    a = math.log(k) / (d / 2) ** b
    want = [theta ** (-2 * (m - 1) / d) * math.exp(-a * m**b) for m in range(1, d // 2 + 1)]
    got = refrope.inv_freq("ntk_mixed", d, theta=theta, factor=k, b=b).inv_freq
    np.testing.assert_allclose(got, want, rtol=_rtol(theta, k))
    assert refrope.VARIANTS["ntk_mixed"].params[1].default == 0.625


@given(d=rotary_dims, theta=thetas, k=ks)
def test_ntk_mixed_endpoints_b(d, theta, k):
    """[F-NTKMIXED-2] b = 1 is NTK-RoPE-fixed and b = 0 is PI (kexue.fm/archives/9706 eq. 12)."""
    one = refrope.inv_freq("ntk_mixed", d, theta=theta, factor=k, b=1.0).inv_freq
    zero = refrope.inv_freq("ntk_mixed", d, theta=theta, factor=k, b=0.0).inv_freq
    np.testing.assert_allclose(one, refrope.inv_freq("ntk_fixed", d, theta=theta, factor=k).inv_freq,
                               rtol=_rtol(theta, k))
    np.testing.assert_allclose(zero, refrope.inv_freq("linear", d, theta=theta, factor=k).inv_freq,
                               rtol=_rtol(theta, k))


@given(d=rotary_dims, theta=thetas, k=ks, b=st.floats(0.0, 1.0))
def test_ntk_mixed_radices_product_and_lowest_frequency(d, theta, k, b):
    """[F-NTKMIXED-3] prod lambda_m = k, lambda non-increasing and >= 1, omega_{d/2} = PI's for every b
    (kexue.fm/archives/9706 eq. 11-13)."""
    lam = refrope.beta.radices("ntk_mixed", d, factor=k, b=b)
    assert math.isclose(float(np.prod(lam)), k, rel_tol=64 * EPS * d)
    assert np.all(lam >= 1 - 8 * EPS) and np.all(np.diff(lam) <= 8 * EPS * lam[:-1])
    got = refrope.inv_freq("ntk_mixed", d, theta=theta, factor=k, b=b).inv_freq
    np.testing.assert_allclose(got[-1], _default(d, theta)[-1] / k, rtol=_rtol(theta, k))


def test_ntk_mixed_worked_numbers_9706():
    """[F-NTKMIXED-3] Numbers worked from kexue.fm/archives/9706 eq. 13: d=128, k=8, b=0.625: a=0.1545554,
    lambda_1=1.16714, lambda_64=1.02058; b=0.75: a=0.0918992."""
    from refrope.frequencies.ntk import ntk_mixed_a

    assert round(ntk_mixed_a(128, 8.0, 0.625), 7) == 0.1545554
    assert round(ntk_mixed_a(128, 8.0, 0.75), 7) == 0.0918992
    lam = refrope.beta.radices("ntk_mixed", 128, factor=8.0, b=0.625)
    assert round(lam[0], 5) == 1.16714 and round(lam[63], 5) == 1.02058
    assert math.isclose(float(np.prod(lam)), 8.0, rel_tol=1e-12)


def test_ntk_mixed_reproduces_ntk_patch():
    """[F-NTKMIXED-4] k = 12, b = 0.75, d = 128, base 1e4 reproduces bojone/rerope ntk_patch.py's inv_freq.

    The patch computes ``base**(-arange(0, dim, 2)/dim) * exp(-a * arange(1, dim//2 + 1)**b)`` with
    ``a = log(k) / (dim/2)**b`` (its replacement ``LlamaRotaryEmbedding.__init__``); evaluated here at 40 digits.
    """
    dim, k, b = 128, 12, 0.75
    with mpmath.workdps(40):
        a = mpmath.log(k) / mpmath.mpf(dim / 2) ** mpmath.mpf(b)
        want = [float(mpmath.mpf(10000) ** (-mpmath.mpf(j) / dim) * mpmath.exp(-a * mpmath.mpf(m) ** mpmath.mpf(b)))
                for j, m in zip(range(0, dim, 2), range(1, dim // 2 + 1))]
    got = refrope.inv_freq("ntk_mixed", dim, factor=k, b=b).inv_freq
    np.testing.assert_allclose(got, want, rtol=64 * EPS)


@given(d=rotary_dims, theta=thetas, data=st.data())
def test_mixed_radix_formula_and_validation(d, theta, data):
    """[F-MIXEDRADIX-1] omega_m = beta^-(m-1) / (lambda_1...lambda_m); radices validated (length, >= 1, non-increasing,
    product)."""
    lam = sorted(data.draw(st.lists(st.floats(1.0, 3.0), min_size=d // 2, max_size=d // 2), label="radices"),
                 reverse=True)
    got = refrope.inv_freq("mixed_radix", d, theta=theta, radices=lam).inv_freq
    want = [theta ** (-2 * (m - 1) / d) / math.prod(lam[:m]) for m in range(1, d // 2 + 1)]
    np.testing.assert_allclose(got, want, rtol=_rtol(theta) * d)
    refrope.inv_freq("mixed_radix", d, theta=theta, radices=lam, factor=math.prod(lam))
    with pytest.raises(ValueError, match="radices"):
        refrope.inv_freq("mixed_radix", d, theta=theta, radices=lam + [1.0])
    with pytest.raises(ValueError, match="radices"):
        refrope.inv_freq("mixed_radix", d, theta=theta, radices=[0.5] + lam[1:])
    if d >= 4 and lam[0] != lam[-1]:
        with pytest.raises(ValueError, match="non-increasing"):
            refrope.inv_freq("mixed_radix", d, theta=theta, radices=lam[::-1])
    with pytest.raises(ValueError, match="factor"):
        refrope.inv_freq("mixed_radix", d, theta=theta, radices=lam, factor=math.prod(lam) * 1.5 + 1)


@pytest.mark.parametrize("variant, params", [("default", {}), ("linear", {"factor": 8.0}),
                                             ("ntk_fixed", {"factor": 8.0}), ("ntk_mixed", {"factor": 8.0}),
                                             ("ntk_mixed", {"factor": 12.0, "b": 0.75})])
@given(d=rotary_dims, theta=thetas)
def test_mixed_radix_reproduces_family(variant, params, d, theta):
    """[F-MIXEDRADIX-2] mixed_radix(radices(v)) reproduces variant v (those with valid non-increasing radices)."""
    lam = refrope.beta.radices(variant, d, **params)
    got = refrope.inv_freq("mixed_radix", d, theta=theta, radices=lam).inv_freq
    want = refrope.inv_freq(variant, d, theta=theta, **params).inv_freq
    np.testing.assert_allclose(got, want, rtol=_rtol(theta, 12.0) * d)


@given(d=rotary_dims.filter(lambda d: d > 2), theta=thetas, k=ks, length=lengths, data=st.data())
def test_dynamic_ntk_hf_formula(d, theta, k, length, data):
    """[F-DYN-1] s = max(seq_len, L), theta' = theta (k s / L - (k - 1))^(d/(d-2)), omega = theta'^(-2i/d) (HF)."""
    seq = data.draw(st.integers(0, 8 * length), label="seq_len")
    s = max(seq, length)
    base = theta * (k * s / length - (k - 1)) ** (d / (d - 2))
    want = base ** (-np.arange(0, d, 2) / d)
    got = refrope.inv_freq("dynamic_ntk", d, theta=theta, factor=k, original_max_position_embeddings=length,
                           seq_len=seq)
    np.testing.assert_allclose(got.inv_freq, want, rtol=_rtol(base))
    assert got.attention_factor == 1.0


@given(d=rotary_dims, theta=thetas, k=ks, length=lengths, data=st.data())
def test_dynamic_ntk_short_is_default_monotone_and_stateless(d, theta, k, length, data):
    """[F-DYN-2] seq_len <= L is default exactly; frequencies non-increasing in seq_len; no state between calls."""
    short = data.draw(st.integers(0, length), label="short")
    a, b = sorted(data.draw(st.lists(st.integers(length, 16 * length), min_size=2, max_size=2), label="long"))
    dyn = lambda n: refrope.inv_freq("dynamic_ntk", d, theta=theta, factor=k,  # noqa: E731
                                     original_max_position_embeddings=length, seq_len=n).inv_freq
    fresh_short = dyn(short)
    assert np.array_equal(fresh_short, _default(d, theta))
    assert np.all(dyn(b) <= dyn(a))
    dyn(16 * length)                       # a long call (transformers#27033: the base leaked into later calls)
    assert np.array_equal(dyn(short), fresh_short)
