"""cos_sin, apply_rope and rotation_matrix in both precisions against mpmath at 60 digits, with the exact
frequencies of spec_tests/mp_variants.py, at positions near 2^k +- 1 (exactly at 2^k the float64 product is
exact and would hide the angle's error), integer and real."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from mpmath import mpf

import refrope
from spec_tests import mp_variants as R
from spec_tests.strategies import VARIANT_NAMES, thetas, variant_params

U = 2.0**-53
SMALL = 2.0**-42  # below this (relative to m, or to m r) the exact mode's bound is absolute: 2^-95


@st.composite
def cases(draw, max_exponent: int = 40):
    """A variant's Frequencies, its exact omega (mpf), and positions at 2^k - 1, 2^k + 1 and 2^k + a fraction."""
    name = draw(st.sampled_from(VARIANT_NAMES), label="variant")
    d = draw(st.sampled_from([2, 4, 6, 8, 12, 16]), label="rotary_dim")
    theta = draw(thetas, label="theta")
    params = draw(variant_params(name, d), label="params")
    exact, choices = R.reference(name, d, theta, params)
    assume(R.choices_agree_with_float64(choices, name, d, theta, params))
    k = draw(st.integers(1, max_exponent), label="k")
    fraction = draw(st.floats(0.0, 1.0, exclude_max=True), label="fraction")
    positions = np.array([2.0**k - 1, 2.0**k + 1, 2.0**k + fraction * (k < 45)])
    return refrope.inv_freq(name, d, theta=theta, **params), exact, positions


def _within_exact_bound(got: float, want, scale) -> bool:
    """[P-EXACT-3]/[P-EXACT-4]: one ulp of ``want`` where |want| >= 2^-42 scale, else 2^-95 scale (+ 4 eta)."""
    if abs(want) >= SMALL * scale:
        return R.ulps(got, want) <= 1.0
    return abs(mpf(got) - want) <= mpf(2) ** -95 * scale + 4 * mpf(2) ** -1074


def _pairs(d: int, layout: str):
    """(input a, input b, output a, output b) coordinates of each pair, from docs/spec/layouts.md."""
    half = [(i, i + d // 2, i, i + d // 2) for i in range(d // 2)]
    inter = [(2 * i, 2 * i + 1, 2 * i, 2 * i + 1) for i in range(d // 2)]
    mixed = [(2 * i, 2 * i + 1, i, i + d // 2) for i in range(d // 2)]
    return {"half": half, "interleaved": inter, "interleaved_to_half": mixed}[layout]


@given(case=cases())
def test_exact_cos_sin_within_one_ulp(case):
    """[P-EXACT-3] Exact mode: every entry of cos_sin is within one ulp of m cos(p omega_i) (m sin) with omega_i
    the formula's exact value, for every variant and positions up to 2^40, integer and real."""
    f, exact, positions = case
    c, s = refrope.cos_sin(positions, f, precision="exact")
    n, m = len(exact), mpf(f.attention_factor)
    with mpmath.workdps(R.DPS):
        for a, p in enumerate(positions):
            for i, w in enumerate(exact):
                phi = mpf(p) * w
                for got, want in ((c[a, i], m * mpmath.cos(phi)), (c[a, i + n], m * mpmath.cos(phi)),
                                  (s[a, i], m * mpmath.sin(phi))):
                    assert _within_exact_bound(got, want, m), (p, i, got, want)


@given(case=cases(), layout=st.sampled_from(refrope.LAYOUTS), data=st.data())
def test_exact_apply_rope_within_one_ulp(case, layout, data):
    """[P-EXACT-4] Exact mode: every rotated coordinate of apply_rope is within one ulp of m(a cos - b sin)
    (m(b cos + a sin)) at the formula's exact angle, in every layout; the coordinates outside the rotary slice
    are the input."""
    f, exact, positions = case
    d = 2 * len(exact)
    x = np.array(data.draw(st.lists(st.floats(-4, 4), min_size=3 * (d + 1), max_size=3 * (d + 1)), label="x"))
    x = x.reshape(3, d + 1)
    y = refrope.apply_rope(x, positions, f, layout=layout, precision="exact")
    assert np.array_equal(y[:, d], x[:, d])
    m = mpf(f.attention_factor)
    with mpmath.workdps(R.DPS):
        for row, p in enumerate(positions):
            for i, (ia, ib, oa, ob) in enumerate(_pairs(d, layout)):
                phi = mpf(p) * exact[i]
                a, b = mpf(x[row, ia]), mpf(x[row, ib])
                r = mpmath.sqrt(a * a + b * b)
                for got, want in ((y[row, oa], m * (a * mpmath.cos(phi) - b * mpmath.sin(phi))),
                                  (y[row, ob], m * (b * mpmath.cos(phi) + a * mpmath.sin(phi)))):
                    assert _within_exact_bound(got, want, m * r), (p, i, got, want)


@given(case=cases(), layout=st.sampled_from(refrope.LAYOUTS))
def test_exact_rotation_matrix_within_one_ulp(case, layout):
    """[P-EXACT-3] Exact mode: the entries of rotation_matrix are within one ulp of +-cos, +-sin of the exact
    angle, and the matrix is laid out as in fast mode (the same nonzero pattern)."""
    f, exact, positions = case
    p = float(positions[0])
    got = refrope.rotation_matrix(p, f, layout=layout, precision="exact")
    fast = refrope.rotation_matrix(p, f, layout=layout)
    assert np.array_equal(got != 0, fast != 0)
    inter = refrope.rotation_matrix(p, f, layout="interleaved", precision="exact")
    with mpmath.workdps(R.DPS):
        for i, w in enumerate(exact):
            c, s = mpmath.cos(mpf(p) * w), mpmath.sin(mpf(p) * w)
            block = inter[2 * i:2 * i + 2, 2 * i:2 * i + 2]
            for g, want in ((block[0, 0], c), (block[1, 1], c), (block[0, 1], -s), (block[1, 0], s)):
                assert _within_exact_bound(g, want, 1)


def test_exact_mode_refuses_angles_beyond_its_domain():
    """[P-EXACT-3] An angle |p omega| above 2^41 is a ValueError in exact mode (fast mode still answers); 2^40
    with omega = 1 is accepted."""
    f = refrope.inv_freq("default", 8)
    refrope.cos_sin([2.0**40], f, precision="exact")
    for call in (lambda: refrope.cos_sin([2.0**42], f, precision="exact"),
                 lambda: refrope.apply_rope(np.ones((1, 8)), [2.0**42], f, precision="exact"),
                 lambda: refrope.rotation_matrix(2.0**42, f, precision="exact")):
        with pytest.raises(ValueError, match=r"precision='exact' needs every angle"):
            call()
    assert np.all(np.isfinite(refrope.cos_sin([2.0**42], f)[0]))


@pytest.mark.parametrize("position", [2.0**31 + 1, 2.0**40 - 1, -(2.0**40) - 1])
def test_exact_mode_golden_long_positions(position):
    """[P-EXACT-3] Golden: default, d = 128, theta = 500000 at long positions: every cos and sin entry is
    mpmath's value of the exact angle, correctly rounded (0.5 ulp)."""
    f = refrope.inv_freq("default", 128, theta=500000.0)
    c, s = refrope.cos_sin([position], f, precision="exact")
    exact, _ = R.reference("default", 128, 500000.0, {})
    with mpmath.workdps(R.DPS):
        want_c = [mpmath.cos(mpf(position) * w) for w in exact]
        want_s = [mpmath.sin(mpf(position) * w) for w in exact]
    assert max(R.ulps(g, w) for g, w in zip(c[0, :64], want_c)) <= 0.5 + 2.0**-40
    assert max(R.ulps(g, w) for g, w in zip(s[0, :64], want_s)) <= 0.5 + 2.0**-40


@given(case=cases(), data=st.data())
def test_fast_rotation_within_its_stated_bound(case, data):
    """[N-FAST-2] Fast mode: with eps_i the relative error of the stored omega_i, cos_sin entries are within
    m((eps_i + u)|phi| + 3u), rotation_matrix entries within (eps_i + u)|phi| + 2u, and apply_rope coordinates
    within m r((eps_i + u)|phi| + 8u) + 4 eta of the exact values (phi the exact angle, eta = 2^-1074)."""
    f, exact, positions = case
    d = 2 * len(exact)
    c, s = refrope.cos_sin(positions, f)
    x = np.array(data.draw(st.lists(st.floats(-4, 4), min_size=3 * d, max_size=3 * d), label="x")).reshape(3, d)
    y = refrope.apply_rope(x, positions, f)
    matrix = refrope.rotation_matrix(float(positions[0]), f, layout="interleaved")
    m = mpf(f.attention_factor)
    with mpmath.workdps(R.DPS):
        for row, p in enumerate(positions):
            for i, w in enumerate(exact):
                eps = abs(mpf(f.inv_freq[i]) - w) / w if w else mpf(0)
                phi = mpf(p) * w
                angle = (eps + U) * abs(phi)
                cos, sin = mpmath.cos(phi), mpmath.sin(phi)
                assert abs(mpf(c[row, i]) - m * cos) <= m * (angle + 3 * U)
                assert abs(mpf(s[row, i]) - m * sin) <= m * (angle + 3 * U)
                a, b = mpf(x[row, i]), mpf(x[row, i + d // 2])
                r = mpmath.sqrt(a * a + b * b)
                bound = m * r * (angle + 8 * U) + 4 * mpf(2) ** -1074
                assert abs(mpf(y[row, i]) - m * (a * cos - b * sin)) <= bound
                assert abs(mpf(y[row, i + d // 2]) - m * (b * cos + a * sin)) <= bound
                if row == 0:
                    assert abs(mpf(matrix[2 * i + 1, 2 * i]) - sin) <= angle + 2 * U
                    assert abs(mpf(matrix[2 * i, 2 * i]) - cos) <= angle + 2 * U
