"""[XPOS-SCALE-1] to [XPOS-RANGE-1]: xPos (docs/spec/schemes.md).

Expected values: the paper's zeta written with ``math``, identity X1 of kexue.fm/archives/9431 evaluated with
refrope.rotation_matrix pair by pair, and float64 overflow itself for the range clause.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope.layouts import pair_slices
from spec_tests.bounds import EPS
from spec_tests.strategies import LAYOUTS, vectors

LOG_MAX = math.log(np.finfo(np.float64).max)
bases = st.sampled_from([512.0]) | st.floats(1.0, 4096.0)
gammas = st.sampled_from([0.4]) | st.floats(0.01, 4.0)


@given(p=st.integers(-2**16, 2**16) | st.floats(-1e5, 1e5), pairs=st.integers(1, 16), base=bases, gamma=gammas)
def test_scale_is_zeta_to_the_position_over_the_base(p, pairs, base, gamma):
    """[XPOS-SCALE-1] xpos_scale = zeta_i^(p/B), zeta_i = (2i/d + gamma)/(1 + gamma), shape (..., d/2), zeta^0 = 1."""
    d = 2 * pairs
    zeta = [(2 * i / d + gamma) / (1 + gamma) for i in range(pairs)]
    exponents = [p / base * math.log(z) for z in zeta]
    if max(abs(e) for e in exponents) > LOG_MAX - 1:
        return
    got = refrope.xpos_scale([[p]], d, scale_base=base, gamma=gamma)
    assert got.shape == (1, 1, pairs)
    want = np.array([z ** (p / base) for z in zeta])
    np.testing.assert_allclose(got[0, 0], want, rtol=8 * EPS * (1 + max(abs(e) for e in exponents)), atol=0)
    assert np.array_equal(refrope.xpos_scale([0.0], d, scale_base=base, gamma=gamma), np.ones((1, pairs)))


def test_default_zeta_is_rotary_embedding_torchs():
    """[XPOS-SCALE-1] gamma = 0.4: zeta = (arange(0, d, 2) + 0.4 d) / (1.4 d) (rotary-embedding-torch 0.9.1)."""
    d = 64
    zeta = (np.arange(0, d, 2) + 0.4 * d) / (1.4 * d)
    np.testing.assert_allclose(refrope.xpos_scale([512.0], d)[0], zeta, rtol=4 * EPS, atol=0)


@pytest.mark.parametrize("layout", LAYOUTS)
@given(data=st.data())
def test_apply_xpos_is_rope_with_each_pair_scaled(layout, data):
    """[XPOS-APPLY-1] apply_xpos = apply_rope with output pair i times zeta_i^(+p/B) (q) or zeta_i^(-p/B) (k);
    pass-through coordinates equal the input bit for bit; the input is never modified."""
    pairs, extra = data.draw(st.integers(1, 6), label="pairs"), data.draw(st.integers(0, 3), label="extra")
    seq = data.draw(st.integers(1, 4), label="seq")
    x = data.draw(vectors(2 * pairs + extra, rows=seq), label="x")
    before = x.copy()
    positions = np.array(data.draw(st.lists(st.integers(-2**12, 2**12), min_size=seq, max_size=seq)), float)
    freqs = refrope.inv_freq("yarn", 2 * pairs, factor=4.0, original_max_position_embeddings=64)
    role = data.draw(st.sampled_from(["q", "k"]), label="role")
    got = refrope.apply_xpos(x, positions, freqs, role=role, layout=layout)
    rope = refrope.apply_rope(x, positions, freqs, layout=layout)
    scale = refrope.xpos_scale(positions if role == "q" else -positions, 2 * pairs)
    want = rope.copy()
    for out_slice in pair_slices(2 * pairs, layout, output=True):
        want[:, : 2 * pairs][:, out_slice] *= scale
    assert np.array_equal(x, before)
    assert np.array_equal(got[:, 2 * pairs:], x[:, 2 * pairs:])
    np.testing.assert_allclose(got, want, rtol=0, atol=8 * EPS * np.abs(want).max(initial=1.0) * (1 + 8))


@pytest.mark.parametrize("layout", ["half", "interleaved"])
@given(data=st.data())
def test_identity_x1_scores_decay_with_the_distance(layout, data):
    """[XPOS-X1-1] (xPos q at m) . (xPos k at n) = sum_i zeta_i^((m - n)/B) [pair i of q^T R(n - m) k], and it is
    unchanged by a common shift of m and n (kexue.fm/archives/9431, X1)."""
    pairs = data.draw(st.integers(1, 6), label="pairs")
    d = 2 * pairs
    q, k = data.draw(vectors(d), label="q"), data.draw(vectors(d), label="k")
    m, n = data.draw(st.integers(0, 4096), label="m"), data.draw(st.integers(0, 4096), label="n")
    shift = data.draw(st.integers(-4096, 4096), label="shift")
    freqs = refrope.inv_freq("default", d)
    base, gamma = 512.0, 0.4

    def score(a, b):
        xq = refrope.apply_xpos(q[None], [a], freqs, role="q", layout=layout)[0]
        xk = refrope.apply_xpos(k[None], [b], freqs, role="k", layout=layout)[0]
        return xq @ xk

    turn = refrope.rotation_matrix(n - m, freqs, layout=layout)
    first, second = pair_slices(d, layout)
    want = 0.0
    for i in range(pairs):
        zeta = (2 * i / d + gamma) / (1 + gamma)
        idx = [np.arange(d)[first][i], np.arange(d)[second][i]]
        want += zeta ** ((m - n) / base) * (q[idx] @ (turn @ k)[idx])
    size = np.linalg.norm(q) * np.linalg.norm(k) * max(1.0, (gamma / (1 + gamma)) ** (-abs(m - n) / base))
    bound = 64 * EPS * size * (1 + 2 * (abs(m) + abs(n) + abs(shift)))
    assert abs(score(m, n) - want) <= bound
    assert abs(score(m + shift, n + shift) - score(m, n)) <= 2 * bound


@given(pairs=st.integers(1, 16), base=bases, gamma=gammas, sign=st.sampled_from([1, -1]),
       factor=st.floats(0.5, 2.0))
def test_overflow_is_refused_exactly_at_the_float64_limit(pairs, base, gamma, sign, factor):
    """[XPOS-RANGE-1] A position p with |p|/B |log zeta_0| above log(max float64) ~ 709.78 is a ValueError naming
    positions (both roles); below it every scale and every xPos vector is finite."""
    d = 2 * pairs
    zeta0 = gamma / (1 + gamma)
    p = sign * factor * LOG_MAX * base / abs(math.log(zeta0))
    x = np.ones((1, d))
    if abs(p) / base * abs(math.log(zeta0)) > LOG_MAX * (1 + 1e-12):
        with pytest.raises(ValueError, match="positions"):
            refrope.xpos_scale([p], d, scale_base=base, gamma=gamma)
        for role in ("q", "k"):
            with pytest.raises(ValueError, match="positions"):
                refrope.apply_xpos(x, [p], np.full(pairs, 1e-3), role=role, scale_base=base, gamma=gamma)
    elif abs(p) / base * abs(math.log(zeta0)) < LOG_MAX * (1 - 1e-12):
        assert np.isfinite(refrope.xpos_scale([p], d, scale_base=base, gamma=gamma)).all()
        for role in ("q", "k"):
            out = refrope.apply_xpos(x * 1e-300, [p], np.full(pairs, 1e-3), role=role, scale_base=base, gamma=gamma)
            assert np.isfinite(out).all()


def test_a_product_that_overflows_names_x():
    """[XPOS-RANGE-1] A finite scale times a huge x that would overflow is a ValueError naming x, not positions."""
    with pytest.raises(ValueError, match="^x times the xPos scale"):
        refrope.apply_xpos([[1e308, 0.0]], [-512.0], [0.0], role="q", gamma=1.0)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(role="v"), ValueError, "role must be one of"),
    (dict(role="q", scale_base=0.0), ValueError, "scale_base must be > 0"),
    (dict(role="q", gamma=0.0), ValueError, "gamma must be > 0"),
    (dict(role="q", gamma=math.nan), ValueError, "gamma must be finite"),
    (dict(role="q", layout="neox"), ValueError, "layout"),
])
def test_bad_arguments_are_rejected(kwargs, error, match):
    """[XPOS-APPLY-1] [XPOS-SCALE-1] An unknown role or layout, scale_base <= 0, gamma <= 0 or NaN raise, naming
    them."""
    with pytest.raises(error, match=match):
        refrope.apply_xpos(np.ones((2, 4)), [0, 1], [1.0, 0.1], **kwargs)
