"""[R-PROP-1] to [R-PROP-6]: the algebra of the rotation (norm, relative position, position 0, group law, scalar
scaling, complex form and long-range decay) on apply_rope's results (docs/spec/rotary.md)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from spec_tests.bounds import EPS, angle_bound, max_angle
from spec_tests.strategies import LAYOUTS, frequencies, positions, rotary_dims, small_floats, vectors


@pytest.mark.parametrize("layout", LAYOUTS)
@given(f=frequencies(), p=positions(), data=st.data())
def test_norm_preserved_per_pair_times_magnitude(layout, f, p, data):
    """[R-PROP-1] Each pair's norm is multiplied by the magnitude m exactly up to rounding."""
    x = data.draw(vectors(f.rotary_dim), label="x")
    y = refrope.apply_rope(x, p, f, layout=layout)
    a, b = (x[: f.rotary_dim // 2], x[f.rotary_dim // 2:]) if layout == "half" else (x[0::2], x[1::2])
    ya, yb = y[: f.rotary_dim // 2], y[f.rotary_dim // 2:]
    if layout == "interleaved":
        ya, yb = y[0::2], y[1::2]
    np.testing.assert_allclose(np.hypot(ya, yb), f.attention_factor * np.hypot(a, b),
                               rtol=8 * EPS, atol=8 * EPS * f.attention_factor * np.abs(x).max(initial=1.0))


@pytest.mark.parametrize("layout", LAYOUTS)
@given(f=frequencies(), data=st.data())
def test_scores_depend_only_on_relative_position(layout, f, data):
    """[R-PROP-2] <R(p+t)q, R(p'+t)k> == <R(p)q, R(p')k> for every variant's (fixed) frequencies."""
    p, p2, t = (data.draw(positions(2**18), label=name) for name in ("p", "p'", "shift"))
    q, k = data.draw(vectors(f.rotary_dim), label="q"), data.draw(vectors(f.rotary_dim), label="k")
    base = refrope.apply_rope(q, p, f, layout=layout) @ refrope.apply_rope(k, p2, f, layout=layout)
    shifted = refrope.apply_rope(q, p + t, f, layout=layout) @ refrope.apply_rope(k, p2 + t, f, layout=layout)
    angle = max_angle([p + t, p2 + t], f.inv_freq)
    bound = 4 * angle_bound(angle, f.attention_factor**2 * np.linalg.norm(q) * np.linalg.norm(k))
    assert abs(base - shifted) <= bound, (base, shifted, bound)


@given(f=frequencies(), data=st.data())
def test_position_zero_is_identity_times_magnitude(f, data):
    """[R-PROP-3] At position 0 every layout returns m * x (m * the de-interleaved x for interleaved_to_half)."""
    x = data.draw(vectors(f.rotary_dim), label="x")
    perm = refrope.interleave_permutation(f.rotary_dim)
    for layout, want in (("half", x), ("interleaved", x), ("interleaved_to_half", x[perm])):
        assert np.array_equal(refrope.apply_rope(x, 0, f, layout=layout), f.attention_factor * want)


@pytest.mark.parametrize("layout", ["half", "interleaved"])
@given(f=frequencies(), a=st.floats(-1e5, 1e5), b=st.floats(-1e5, 1e5))
def test_group_law_transpose_and_orthogonality(layout, f, a, b):
    """[R-PROP-4] R(0) = I, R(a) R(b) = R(a + b) for real a, b, R(p)^T = R(-p), R^T R = I."""
    ra, rb = (refrope.rotation_matrix(v, f, layout=layout) for v in (a, b))
    d = f.rotary_dim
    assert np.array_equal(refrope.rotation_matrix(0, f, layout=layout), np.eye(d))
    bound = 4 * angle_bound(max_angle([abs(a) + abs(b)], f.inv_freq))
    np.testing.assert_allclose(ra @ rb, refrope.rotation_matrix(a + b, f, layout=layout), rtol=0, atol=bound)
    np.testing.assert_allclose(ra.T, refrope.rotation_matrix(-a, f, layout=layout), rtol=0, atol=bound)
    np.testing.assert_allclose(ra.T @ ra, np.eye(d), rtol=0, atol=8 * EPS)


@given(f=frequencies(), p=positions(), s=small_floats, data=st.data())
def test_scalar_scaling_commutes_with_rotation(f, p, s, data):
    """[R-PROP-5] Scaling q by s before or after RoPE gives the same result (logn placement: bojone/rerope
    `rerope_patch.py` scales q before, `ntk_patch.py` after)."""
    x = data.draw(vectors(f.rotary_dim), label="x")
    before = refrope.apply_rope(s * x, p, f)
    after = s * refrope.apply_rope(x, p, f)
    np.testing.assert_allclose(before, after, rtol=0, atol=4 * EPS * abs(s) * f.attention_factor
                               * np.abs(x).max(initial=1.0) * 2)


@given(d=rotary_dims, m=positions(4096), n=positions(4096), data=st.data())
def test_complex_form_abel_summation_and_decay_bound(d, m, n, data):
    """[R-PROP-6] Complex form, Abel summation and the long-range decay bound of RoFormer
    (arXiv:2104.09864; kexue.fm/archives/8265)."""
    theta = refrope.inv_freq("default", d).inv_freq
    q, k = data.draw(vectors(d), label="q"), data.draw(vectors(d), label="k")
    real = refrope.apply_rope(q, m, theta, layout="interleaved") @ refrope.apply_rope(k, n, theta, layout="interleaved")
    h = (q[0::2] + 1j * q[1::2]) * np.conj(k[0::2] + 1j * k[1::2])
    phase = np.exp(1j * (m - n) * theta)
    scale = np.linalg.norm(q) * np.linalg.norm(k)
    assert abs(real - np.sum(h * phase).real) <= 4 * angle_bound(max_angle([m, n], theta), scale)
    s = np.concatenate([[0], np.cumsum(phase)])            # S_0 .. S_{d/2}
    h_ext = np.concatenate([h, [0]])                        # h_{d/2} = 0
    lhs = np.sum(h * (s[1:] - s[:-1]))
    rhs = -np.sum(s[1:] * (h_ext[1:] - h_ext[:-1]))
    assert abs(lhs - rhs) <= 64 * EPS * d * scale
    bound = np.max(np.abs(h_ext[1:] - h_ext[:-1])) * np.sum(np.abs(s[1:]))
    assert abs(lhs) <= bound * (1 + 64 * EPS * d) + 64 * EPS * d * scale


def test_decay_curve_trends_down_but_is_not_monotone():
    """[R-PROP-6] The RoPE decay curve (1/(d/2)) sum_j |S_j| for d = 128 falls overall from r = 0 to 256 but not
    monotonically."""
    theta = refrope.inv_freq("default", 128).inv_freq
    r = np.arange(257)
    curve = np.abs(np.cumsum(np.exp(1j * r[:, None] * theta), axis=1)).mean(axis=1)
    assert curve[0] == pytest.approx(np.mean(np.arange(1, 65)))  # |S_j| = j at r = 0
    assert curve[-1] < 0.5 * curve[0]
    assert np.any(np.diff(curve) > 0)

