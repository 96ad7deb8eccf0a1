"""[B-DIGITS-*], [B-ANGLE-1], [B-RADICES-1]: the β-base view of RoPE (docs/spec/beta.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope import beta
from spec_tests.bounds import EPS
from spec_tests.strategies import factors, rotary_dims, thetas


def test_digit_examples_from_the_article():
    """[B-DIGITS-1] 759 -> (9, 5, 7) in base 10; 1749 -> (5, 13, 6) in base 16; 16^3 - 1 = 4095;
    ceil(2000^(1/3)) = 13."""
    assert beta.digits(759, 10, 3).tolist() == [9, 5, 7]
    assert beta.digits(1749, 16, 3).tolist() == [5, 13, 6]
    assert beta.digits(4095, 16, 3).tolist() == [15, 15, 15] and beta.digits(4096, 16, 4).tolist() == [0, 0, 0, 1]
    assert math.ceil(2000 ** (1 / 3)) == 13 and 13**3 == 2197 >= 2000 > 12**3
    assert beta.digits(1999, 13, 3).max() <= 12 and beta.from_digits(beta.digits(1999, 13, 3), 13) == 1999


@given(n=st.integers(0, 2**40), base=st.integers(2, 1000))
def test_integer_digits_match_python(n, base):
    """[B-DIGITS-1] digit_m = floor(n / base^(m-1)) mod base, least significant first (checked with Python ints)."""
    got = beta.digits(n, base, 8)
    want, rest = [], n
    for _ in range(8):
        rest, r = divmod(rest, base)
        want.append(r)
    assert got.tolist() == want


@given(d=rotary_dims, theta=thetas, n=st.integers(0, 2**20))
def test_real_base_digits_are_in_range(d, theta, n):
    """[B-DIGITS-1] For RoPE's real base beta = theta^(2/d) every digit lies in [0, beta)."""
    b = theta ** (2 / d)
    got = beta.digits(n, b, d // 2)
    assert np.all(got >= 0) and np.all(got < b)


def test_mixed_radix_seconds_example():
    """[B-DIGITS-2] 100000 s in radices (60, 60, 24, 7) is 40 s, 46 min, 3 h, 1 day (9706 eq. 7)."""
    assert beta.mixed_radix_digits(100000, [60, 60, 24, 7]).tolist() == [40, 46, 3, 1]
    assert beta.mixed_radix_digits([0, 59, 60], [60, 60]).tolist() == [[0, 0], [59, 0], [0, 1]]


@given(radices=st.lists(st.integers(2, 60), min_size=1, max_size=6), data=st.data())
def test_round_trip(radices, data):
    """[B-DIGITS-3] from_digits(mixed_radix_digits(n)) == n for every n below the product of the radices."""
    n = data.draw(st.integers(0, math.prod(radices) - 1), label="n")
    dig = beta.mixed_radix_digits(n, radices)
    assert beta.from_digits(dig, radices) == n
    again = beta.mixed_radix_digits(beta.from_digits(dig, radices), radices)
    assert np.array_equal(again, dig)


@given(d=rotary_dims, theta=thetas, n=st.integers(0, 2**20))
def test_rope_angle_is_the_beta_base_quantity(d, theta, n):
    """[B-ANGLE-1] The angle of pair m at position n is n / beta^(m-1), beta = theta^(2/d)
    (kexue.fm/archives/9675 eq. 2)."""
    b = theta ** (2 / d)
    omega = refrope.inv_freq("default", d, theta=theta).inv_freq
    m = np.arange(1, d // 2 + 1)
    np.testing.assert_allclose(n * omega, n / b ** (m - 1.0), rtol=16 * EPS * d * (1 + math.log(theta)))


@pytest.mark.parametrize("variant, extra", [("default", {}), ("linear", {}), ("ntk_aware", {}), ("ntk_base", {}),
                                            ("ntk_fixed", {}), ("ntk_mixed", {"b": 0.625}), ("ntk_mixed", {"b": 0.3})])
@given(d=rotary_dims, theta=thetas, k=factors)
def test_radices_reproduce_the_variant(variant, extra, d, theta, k):
    """[B-RADICES-1] omega_m = beta^-(m-1) / (lambda_1...lambda_m) reproduces inv_freq; prod lambda = k
    (k^(1-2/d) for ntk_base)."""
    params = {} if variant == "default" else {"factor": k, **extra}
    lam = beta.radices(variant, d, **params)
    b = theta ** (2 / d)
    m = np.arange(1, d // 2 + 1)
    rebuilt = b ** (-(m - 1.0)) / np.cumprod(lam)
    want = refrope.inv_freq(variant, d, theta=theta, **params).inv_freq
    np.testing.assert_allclose(rebuilt, want, rtol=16 * EPS * d * (1 + math.log(theta) + math.log(k)))
    expected_product = {"default": 1.0, "ntk_base": k ** (1 - 2 / d)}.get(variant, k)
    if variant == "ntk_aware" and d == 2:
        expected_product = 1.0  # a single pair: omega_0 = 1 is never scaled
    assert math.isclose(float(np.prod(lam)), expected_product, rel_tol=64 * EPS * d)


def test_radices_rejects_other_variants_and_parameters():
    """[B-RADICES-1] Only the NTK family has radices; unknown or missing parameters are errors naming them."""
    with pytest.raises(ValueError, match="yarn"):
        beta.radices("yarn", 8, factor=2.0)
    with pytest.raises(TypeError, match="factor"):
        beta.radices("ntk_fixed", 8)
    with pytest.raises(TypeError, match="bogus"):
        beta.radices("ntk_fixed", 8, factor=2.0, bogus=1)
    with pytest.raises(ValueError, match="radices"):
        beta.radices("mixed_radix", 4, radices=[1.0, 2.0])
