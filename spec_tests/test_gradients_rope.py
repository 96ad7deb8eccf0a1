"""[D-ROPE-1] to [D-ROPE-4]: the gradient (VJP) of apply_rope (docs/spec/gradients.md).

Expected values come from the explicit matrix ``refrope.rotation_matrix`` (apply_rope's VJP is its transpose)
and from central finite differences of ``apply_rope`` itself; neither shares code with refrope.gradients.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from spec_tests.bounds import EPS, angle_bound, max_angle
from spec_tests.grad_references import _fd_grad
from spec_tests.strategies import LAYOUTS, frequencies, positions, vectors

# ----------------------------------------------------------------------------------------------
# apply_rope_vjp


@st.composite
def rope_vjp_cases(draw, arrays=1):
    """Frequencies, a rotary slice at an offset inside a longer head, long-context positions, and ``arrays``
    arrays of shape (seq, head_dim)."""
    f = draw(frequencies(), label="freqs")
    extra = draw(st.integers(0, 3), label="extra dims")
    offset = draw(st.integers(0, extra), label="rotary_offset")
    seq = draw(st.integers(1, 4), label="seq")
    pos = np.array(draw(st.lists(positions(), min_size=seq, max_size=seq), label="positions"))
    return f, offset, pos, [draw(vectors(f.rotary_dim + extra, rows=seq), label=f"array {i}") for i in range(arrays)]


@pytest.mark.parametrize("layout", LAYOUTS)
@given(case=rope_vjp_cases())
def test_rope_vjp_is_transpose_of_rotation_matrix(layout, case):
    """[D-ROPE-1] [D-ROPE-3] grad_x = m R(p)^T g on the slice (R from rotation_matrix), g elsewhere; a few ulps."""
    f, offset, pos, (g,) = case
    d = f.rotary_dim
    got = refrope.apply_rope_vjp(g, pos, f, layout=layout, rotary_offset=offset)
    want = g.copy()
    for row in range(len(pos)):
        r = refrope.rotation_matrix(pos[row], f, layout=layout)
        want[row, offset:offset + d] = f.attention_factor * (r.T @ g[row, offset:offset + d])
    # Same angle p*omega on both sides (cos(-x) = cos x, sin(-x) = -sin x exactly): only the products and one
    # addition per coordinate round, so the error is a few ulps of m * |pair|, independent of the angle.
    np.testing.assert_allclose(got, want, rtol=0, atol=4 * EPS * f.attention_factor * np.abs(g).max(initial=1.0))
    keep = np.r_[0:offset, offset + d:g.shape[-1]]
    assert np.array_equal(got[:, keep], g[:, keep])


@pytest.mark.parametrize("layout", LAYOUTS)
@given(case=rope_vjp_cases(arrays=2))
def test_rope_vjp_adjoint_identity(layout, case):
    """[D-ROPE-2] <y, apply_rope(x)> == <apply_rope_vjp(y), x> within the stated rounding bound."""
    f, offset, pos, (x, y) = case
    lhs = np.sum(y * refrope.apply_rope(x, pos, f, layout=layout, rotary_offset=offset))
    rhs = np.sum(refrope.apply_rope_vjp(y, pos, f, layout=layout, rotary_offset=offset) * x)
    # Each rotated coordinate is off by angle_bound (1 + |phi|) eps m |pair|; the two sums of seq * (d + extra)
    # products add at most one eps per term.
    terms = x.size
    size = (1 + f.attention_factor) * np.abs(x).max(initial=1.0) * np.abs(y).max(initial=1.0)
    bound = terms * (4 * angle_bound(max_angle(pos, f.inv_freq), size) + 2 * EPS * size)
    assert abs(lhs - rhs) <= bound, (lhs, rhs, bound)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("offset, head_dim", [(0, 4), (0, 7), (2, 8), (3, 7)])
def test_rope_vjp_matches_central_differences(layout, offset, head_dim):
    """[D-ROPE-1] Central differences of sum(g * apply_rope(x)), h = 1e-3 (exact for a linear map up to rounding)."""
    rng = np.random.default_rng(7)
    f = refrope.inv_freq("yarn", 4, factor=8.0, original_max_position_embeddings=32)  # magnitude m != 1
    x, g = rng.standard_normal((2, 3, head_dim)), rng.standard_normal((2, 3, head_dim))
    pos = np.array([[0, 17, 123456], [5, 900, 2**20]])
    got = refrope.apply_rope_vjp(g, pos, f, layout=layout, rotary_offset=offset)
    h = 1e-3
    fd = _fd_grad(lambda z: np.sum(g * refrope.apply_rope(z, pos, f, layout=layout, rotary_offset=offset)), x, h)
    # Linear map: no truncation error. Each F carries <= (terms + 4) eps |F|_1 of rounding; the difference
    # of two such values divided by 2h gives the bound below.
    f_abs = np.sum(np.abs(g) * (np.abs(x) + h) * max(1.0, f.attention_factor))
    np.testing.assert_allclose(got, fd, rtol=0, atol=(g.size + 4) * EPS * f_abs / h)


def test_rope_vjp_interleaved_to_half_undoes_the_output_permutation():
    """[D-ROPE-3] At p = 0 the VJP of interleaved_to_half is m P^T: grad_x[2i] = m g[i], grad_x[2i+1] = m g[i + d/2]."""
    f = refrope.Frequencies([0.3, 0.02, 1.5], attention_factor=1.25)
    g = np.arange(1.0, 9.0)  # head_dim 8, rotary slice [1, 7)
    got = refrope.apply_rope_vjp(g, 0, f, layout="interleaved_to_half", rotary_offset=1)
    want = g.copy()
    for i in range(3):
        want[1 + 2 * i], want[1 + 2 * i + 1] = 1.25 * g[1 + i], 1.25 * g[1 + i + 3]
    assert np.array_equal(got, want)
    # and at p != 0 it is the transpose of the forward map, built here column by column
    pos = 12345.0
    columns = [refrope.apply_rope(e, pos, f, layout="interleaved_to_half", rotary_offset=1) for e in np.eye(8)]
    forward = np.stack(columns, axis=1)
    got = refrope.apply_rope_vjp(g, pos, f, layout="interleaved_to_half", rotary_offset=1)
    np.testing.assert_allclose(got, forward.T @ g, rtol=0, atol=angle_bound(pos * 1.5, 8 * 1.25 * 8))


def test_rope_vjp_float64_and_input_untouched():
    """[D-ROPE-4] Any real dtype in, float64 out of grad_out's shape; grad_out and positions are not modified."""
    g = (np.arange(24) - 12).reshape(2, 3, 4).astype(np.int32)
    pos = np.array([3, 4, 5])
    g0, pos0 = g.copy(), pos.copy()
    out = refrope.apply_rope_vjp(g, pos, [1.0, 0.25], layout="interleaved")
    assert out.dtype == np.float64 and out.shape == g.shape
    assert np.array_equal(g, g0) and g.dtype == np.int32 and np.array_equal(pos, pos0)


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(grad_out=np.float64(1.0)), ValueError, "grad_out"),
    (dict(grad_out=np.ones((3, 2))), ValueError, "grad_out"),  # head_dim 2 < rotary_dim 4
    (dict(positions=np.arange(4)), ValueError, "positions"),
    (dict(positions=[0, np.nan, 1]), ValueError, "positions"),
    (dict(grad_out=np.ones((3, 4), dtype=complex)), TypeError, "grad_out"),
    (dict(layout="neox"), ValueError, "layout"),
    (dict(rotary_offset=-1), ValueError, "rotary_offset"),
    (dict(rotary_offset=1), ValueError, "grad_out"),
])
def test_rope_vjp_rejects_bad_input(kwargs, exc, words):
    """[D-ROPE-4] Bad input raises ValueError/TypeError naming the parameter."""
    args = dict(grad_out=np.ones((3, 4)), positions=np.arange(3), freqs=[1.0, 0.5]) | kwargs
    freqs = args.pop("freqs")
    with pytest.raises(exc, match=words):
        refrope.apply_rope_vjp(args.pop("grad_out"), args.pop("positions"), freqs, **args)


