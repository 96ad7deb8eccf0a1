"""The arithmetic of exact mode (refrope.precision) against mpmath at 60+ digits: error-free transformations,
multi-word floats and their functions, the cos/sin table and the double-double cos/sin of p * omega."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mpmath import mpf

from refrope.precision import functions, trig
from refrope.precision.eft import split, two_prod, two_sum
from refrope.precision.multi import Multi

DPS = 80
finite = st.floats(-1e30, 1e30, allow_nan=False, allow_infinity=False, allow_subnormal=False).filter(
    lambda v: v == 0 or abs(v) > 1e-30)
positive = st.floats(1e-6, 1e6, allow_nan=False, allow_infinity=False)


def value(x: Multi, index=()) -> mpf:
    """The exact sum of a Multi's words at ``index``."""
    return sum(mpf(float(np.broadcast_to(w, x.shape)[index])) for w in x.words)


def relative(got: mpf, want: mpf) -> float:
    return float(abs(got - want) / abs(want)) if want else float(abs(got))


@given(a=finite, b=finite)
def test_two_sum_and_two_prod_are_error_free(a, b):
    """[P-EXACT-1] two_sum and two_prod return the rounded result and its exact error: s + e == a + b and
    p + e == a b exactly (checked in mpmath), with s and p the float64 sum and product."""
    with mpmath.workdps(DPS):
        s, e = two_sum(a, b)
        assert s == a + b and mpf(s) + mpf(e) == mpf(a) + mpf(b)
        p, f = two_prod(a, b)
        assert p == a * b and mpf(p) + mpf(f) == mpf(a) * mpf(b)
        h, low = split(a)
        assert mpf(h) + mpf(low) == mpf(a)


@pytest.mark.parametrize("words, bound", [(2, 2.0**-100), (3, 2.0**-148)])
@given(a=positive, b=positive, c=positive)
def test_multi_arithmetic_is_relatively_accurate(words, bound, a, b, c):
    """[P-EXACT-1] Sums, differences, products and quotients of multi-word values (a/3, b/7 and c, so that
    every operand fills its words) are within a relative 2^-100 (two words) and 2^-148 (three words) of the
    exact results."""
    x, y = Multi.of(a, words) / 3.0, Multi.of(b, words) / 7.0
    with mpmath.workdps(DPS):
        xe, ye = mpf(a) / 3, mpf(b) / 7
        assert relative(value(x), xe) <= bound and relative(value(y), ye) <= bound
        for got, want in ((x + y, xe + ye), (x * y, xe * ye), (x / y, xe / ye), (x * c, xe * mpf(c)),
                          (x - y, xe - ye)):
            if want and abs(want) > abs(xe) * 2.0**-20:  # a difference that cancels 20 bits loses them
                assert relative(value(got), want) <= bound * 2.0**2, (got, want)


@pytest.mark.parametrize("words, bound", [(2, 2.0**-90), (3, 2.0**-140)])
@given(x=st.floats(-60.0, 60.0), y=positive)
def test_exp_log_and_powers(words, bound, x, y):
    """[P-EXACT-1] exp, log, real and rational powers of multi-word values within a relative 2^-90 (two words)
    and 2^-140 (three words) of mpmath (log: absolute below 1, as Newton's iteration leaves it near x = 1); a
    rational power b^(p/q) never rounds p/q."""
    with mpmath.workdps(DPS):
        assert relative(value(functions.exp(Multi.of(x, words))), mpmath.exp(mpf(x))) <= bound
        want = mpmath.log(mpf(y))
        assert abs(value(functions.log(Multi.of(y, words))) - want) <= bound * max(abs(want), 1)
        want = mpf(y) ** (mpf(-2 * 7) / 96)
        assert relative(value(functions.rational_power(y, -14.0, 96.0, words)), want) <= bound
        assert relative(value(functions.power(y, 0.625, words)), mpf(y) ** mpf(0.625)) <= bound


def test_constants_and_prefix_products():
    """[P-EXACT-1] The words of pi and ln 2 are mpmath's to 212 bits, and a prefix product of three words is
    within 2^-148 of the exact products."""
    with mpmath.workdps(DPS):
        assert abs(sum(mpf(w) for w in functions.PI_WORDS) - mpmath.pi) < mpf(2) ** -212
        assert abs(sum(mpf(w) for w in functions.LN2_WORDS) - mpmath.log(2)) < mpf(2) ** -212
        radices = np.array([3.0, 2.5, 1.7, 1.3, 1.1, 1.01, 1.001])
        prod = functions.cumprod(Multi.of(radices, 3) / 3.0)
        exact = mpf(1)
        for i, r in enumerate(radices):
            exact *= mpf(r) / 3
            assert relative(value(prod, (i,)), exact) <= 2.0**-148


def test_cos_sin_table_is_double_double_accurate():
    """[P-EXACT-3] Every entry of the table of cos and sin at 2 pi j / N is within 2^-105 of mpmath (a
    double-double rounding), and exact (0, 1, -1) at the quarter turns."""
    c_hi, c_lo, s_hi, s_lo = trig.table()
    with mpmath.workdps(DPS):
        for j in range(0, trig.STEPS, 37):
            angle = 2 * mpmath.pi * j / trig.STEPS
            assert abs(mpf(c_hi[j]) + mpf(c_lo[j]) - mpmath.cos(angle)) < mpf(2) ** -105
            assert abs(mpf(s_hi[j]) + mpf(s_lo[j]) - mpmath.sin(angle)) < mpf(2) ** -105
    quarters = np.arange(4) * (trig.STEPS // 4)
    assert c_hi[quarters].tolist() == [1.0, 0.0, -1.0, 0.0] and s_hi[quarters].tolist() == [0.0, 1.0, 0.0, -1.0]
    assert not np.any(c_lo[quarters]) and not np.any(s_lo[quarters])


@given(exponent=st.integers(0, 40), offset=st.sampled_from([-1.0, 1.0, 0.5, 0.0]),
       omega=st.floats(2.0**-30, 2.0, allow_subnormal=False), data=st.data())
def test_cos_sin_words_are_within_2_to_minus_98(exponent, offset, omega, data):
    """[P-EXACT-3] cos and sin of p * omega as double-doubles, for positions at 2^k - 1, 2^k + 1 (and real
    ones), are within 2^-98 of the exact values (relatively, and absolutely below 1), for any float64 omega."""
    p = 2.0**exponent + offset + data.draw(st.floats(-0.25, 0.25), label="fraction") * (exponent < 30)
    nu = trig.steps_per_radian(Multi.of(np.array([omega]), 3))
    c_hi, c_lo, s_hi, s_lo = (w[0, 0] for w in trig.cos_sin_dd(np.array([p]), nu))
    with mpmath.workdps(DPS):
        phi = mpf(p) * mpf(omega)
        for hi, lo, want in ((c_hi, c_lo, mpmath.cos(phi)), (s_hi, s_lo, mpmath.sin(phi))):
            assert abs(mpf(hi) + mpf(lo) - want) <= mpf(2) ** -98 * max(abs(want), mpf(2) ** -60)
            assert hi == float(mpf(hi) + mpf(lo))  # the high word is the pair's rounding
