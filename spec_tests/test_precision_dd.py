"""The double-double building blocks for exact attention (refrope.precision.dd and the unrounded rotation) against
mpmath at 80 digits."""

from __future__ import annotations

import mpmath
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mpmath import mpf

from refrope.precision.dd import exp_dd, log_dd, matmul_dd, sum_dd
from refrope.precision.exact import rotate_words_dd
from refrope.precision.multi import Multi
from refrope.precision.trig import cos_sin_dd, steps_per_radian

DPS = 80
entries = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False).map(lambda v: 0.0 if abs(v) < 1e-200 else v)


@given(k=st.integers(1, 160), scale=st.floats(-30, 30), data=st.data())
def test_matmul_dd_is_exact_to_double_double(k, scale, data):
    """[P-DD-1] matmul_dd returns a @ b as a double-double within 2^-104 k max|a_i.| max|b_.l| of the exact
    product (the slice products are exact in float64, whatever order BLAS sums them in), with hi the float64
    rounding of hi + lo; entries of very different magnitudes (scaled by 2^(+-30)) included."""
    a = data.draw(hnp.arrays(np.float64, (3, k), elements=entries), label="a")
    a = a * np.ldexp(1.0, np.round(np.linspace(-scale, scale, k)).astype(int))
    b = data.draw(hnp.arrays(np.float64, (k, 2), elements=entries), label="b")
    hi, lo = matmul_dd(a, b)
    with mpmath.workdps(DPS):
        for i in range(3):
            for j in range(2):
                exact = mpmath.fsum(mpf(a[i, t]) * mpf(b[t, j]) for t in range(k))
                bound = mpf(2) ** -104 * k * max(abs(a[i])) * max(abs(b[:, j])) + mpf(2) ** -106 * abs(exact)
                assert abs(mpf(hi[i, j]) + mpf(lo[i, j]) - exact) <= bound
                assert hi[i, j] == float(mpf(hi[i, j]) + mpf(lo[i, j]))


def test_sum_dd_cancels_exactly():
    """[P-DD-1] sum_dd adds float64 arrays error-free: 1 + 2^-60 - 1 leaves 2^-60 exactly."""
    hi, lo = sum_dd([np.array([1.0, 3.0]), np.array([2.0**-60, 0.1]), np.array([-1.0, -3.0])])
    assert hi.tolist() == [2.0**-60, 0.1] and lo.tolist() == [0.0, 0.0]


@given(x=st.floats(-650.0, 709.0), tiny=st.floats(-1.0, 1.0))
def test_exp_dd_within_2_to_minus_100(x, tiny):
    """[P-DD-1] exp_dd of a double-double x >= -650 is within 2^-100 relative of e^x, hi its float64 rounding."""
    x_lo = x * 2.0**-55 * tiny
    hi, lo = exp_dd(np.array([x]), np.array([x_lo]))
    with mpmath.workdps(DPS):
        want = mpmath.exp(mpf(x) + mpf(x_lo))
        assert abs(mpf(hi[0]) + mpf(lo[0]) - want) <= mpf(2) ** -100 * want
        assert hi[0] == float(mpf(hi[0]) + mpf(lo[0]))


@given(x=st.floats(1e-300, 1e300), tiny=st.floats(-1.0, 1.0))
def test_log_dd_within_2_to_minus_98(x, tiny):
    """[P-DD-1] log_dd of a positive double-double is within 2^-98 of ln x (relative where |ln x| >= 1)."""
    x_lo = x * 2.0**-55 * tiny
    hi, lo = log_dd(np.array([x]), np.array([x_lo]))
    with mpmath.workdps(DPS):
        want = mpmath.log(mpf(x) + mpf(x_lo))
        assert abs(mpf(hi[0]) + mpf(lo[0]) - want) <= mpf(2) ** -98 * max(abs(want), 1)


def test_exp_dd_limits():
    """[P-DD-1] exp_dd: e^-inf = 0 (a masked logit), e^inf = inf, NaN stays NaN, below -745 it is 0 and above
    709.8 inf (far beyond too: -1024 was once a negative subnormal), with no warning."""
    hi, lo = exp_dd(np.array([-np.inf, np.inf, np.nan, -746.0, 710.0, 0.0, -1024.0, -1e6, 1024.0, 1e6]))
    assert hi[:2].tolist() == [0.0, np.inf] and np.isnan(hi[2])
    assert hi[3:].tolist() == [0.0, np.inf, 1.0, 0.0, 0.0, np.inf, np.inf]
    assert lo[[0, 1, *range(3, 10)]].tolist() == [0.0] * 9


@given(a=st.floats(-4, 4), b=st.floats(-4, 4), p=st.integers(0, 2**40), omega=st.floats(1e-6, 1.0),
       magnitude=st.sampled_from([1.0, 1.1386294361119891, 0.7]))
def test_unrounded_rotation_is_within_2_to_minus_95(a, b, p, omega, magnitude):
    """[P-DD-1] rotate_words_dd gives m(a cos - b sin) and m(b cos + a sin) as double-doubles within
    2^-95 m ||(a, b)|| + 4 eta of the exact values (eta the smallest subnormal; what exact attention rotates q and
    k with)."""
    words = cos_sin_dd(np.array([float(p)]), steps_per_radian(Multi.of(np.array([omega]), 3)))
    (fh, fl), (sh, sl) = rotate_words_dd(np.array([a]), np.array([b]), [w[0] for w in words], magnitude)
    with mpmath.workdps(DPS):
        phi = mpf(p) * mpf(omega)
        c, s, m = mpmath.cos(phi), mpmath.sin(phi), mpf(magnitude)
        r = mpmath.sqrt(mpf(a) ** 2 + mpf(b) ** 2)
        bound = mpf(2) ** -95 * m * r + 4 * mpf(2) ** -1074
        assert abs(mpf(fh[0]) + mpf(fl[0]) - m * (a * c - b * s)) <= bound
        assert abs(mpf(sh[0]) + mpf(sl[0]) - m * (b * c + a * s)) <= bound
