"""[R-APPLY-1] to [R-MATRIX-1]: rotating vectors with apply_rope, cos_sin and rotation_matrix (docs/spec/rotary.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

import refrope
from spec_tests.bounds import EPS, angle_bound, max_angle
from spec_tests.strategies import LAYOUTS, frequencies, positions, rotary_dims, thetas, vectors


def _pairs(d, layout):
    """Independent statement of the layouts: (input index a, input index b, output index a, output index b)."""
    h = d // 2
    if layout == "half":
        return [(i, i + h, i, i + h) for i in range(h)]
    if layout == "interleaved":
        return [(2 * i, 2 * i + 1, 2 * i, 2 * i + 1) for i in range(h)]
    return [(2 * i, 2 * i + 1, i, i + h) for i in range(h)]


def _loop_rope(x, pos, inv, m, layout, offset=0):
    """The pair rotation written element by element with math.cos/math.sin (independent of the oracle)."""
    d = 2 * len(inv)
    out = np.array(x, dtype=np.float64, copy=True)
    for row in range(x.shape[0]):
        for i, (ia, ib, oa, ob) in enumerate(_pairs(d, layout)):
            phi = float(pos[row]) * float(inv[i])
            a, b = float(x[row, offset + ia]), float(x[row, offset + ib])
            out[row, offset + oa] = m * (a * math.cos(phi) - b * math.sin(phi))
            out[row, offset + ob] = m * (b * math.cos(phi) + a * math.sin(phi))
    return out


@pytest.mark.parametrize("layout", LAYOUTS)
@given(data=st.data())
def test_pair_rotation_matches_elementwise_definition(layout, data):
    """[R-APPLY-1] [R-APPLY-2] Each pair is rotated by p*omega_i with magnitude m, per the layout; others untouched."""
    f = data.draw(frequencies(), label="freqs")
    d = f.rotary_dim
    extra = data.draw(st.integers(0, 4), label="extra dims")
    offset = data.draw(st.integers(0, extra), label="rotary_offset")
    seq = data.draw(st.integers(1, 4), label="seq")
    x = data.draw(vectors(d + extra, rows=seq), label="x")
    pos = np.array(data.draw(st.lists(positions(), min_size=seq, max_size=seq), label="positions"))
    got = refrope.apply_rope(x, pos, f, layout=layout, rotary_offset=offset)
    want = _loop_rope(x, pos, f.inv_freq, f.attention_factor, layout, offset)
    bound = angle_bound(max_angle(pos, f.inv_freq), f.attention_factor * np.abs(x).max(initial=1.0))
    np.testing.assert_allclose(got, want, rtol=0, atol=bound)
    outside = np.ones(d + extra, bool)
    outside[offset:offset + d] = False
    assert np.array_equal(got[:, outside], x[:, outside])


@given(data=st.data())
def test_pass_through_bit_identical_and_magnitude_on_slice_only(data):
    """[R-APPLY-2] Coordinates outside [offset, offset + d) are bit-identical, even with a magnitude != 1."""
    d = data.draw(rotary_dims, label="d")
    extra = data.draw(st.integers(1, 6), label="extra")
    offset = data.draw(st.integers(0, extra), label="offset")
    f = refrope.Frequencies(refrope.inv_freq("default", d).inv_freq, attention_factor=1.7)
    x = data.draw(vectors(d + extra, rows=3), label="x").astype(np.float32)
    out = refrope.apply_rope(x, [0, 5, 100000], f, layout="interleaved", rotary_offset=offset)
    keep = np.r_[0:offset, offset + d:d + extra]
    assert np.array_equal(out[:, keep], x[:, keep].astype(np.float64))
    # position 0: the slice is exactly m * x
    np.testing.assert_allclose(out[0, offset:offset + d], 1.7 * x[0, offset:offset + d].astype(np.float64),
                               rtol=2 * EPS)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8])
def test_any_real_dtype_float64_out_and_input_untouched(dtype):
    """[R-APPLY-3] Any real dtype is computed in float64; output float64 of x's shape; x not mutated."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, 3, 5, 8)) * 4).astype(dtype)
    keep = x.copy()
    out = refrope.apply_rope(x, np.arange(5), refrope.inv_freq("default", 8))
    assert out.dtype == np.float64 and out.shape == x.shape
    assert np.array_equal(x, keep) and x.dtype == dtype
    want = refrope.apply_rope(x.astype(np.float64), np.arange(5), refrope.inv_freq("default", 8))
    assert np.array_equal(out, want)


@pytest.mark.parametrize("pos_shape", [(5,), (1, 5), (3, 5), (2, 1, 5), (2, 3, 5), ()])
def test_positions_broadcast_to_batch(pos_shape):
    """[R-APPLY-3] positions broadcastable to (..., seq); the result equals rotating row by row."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 6))
    pos = rng.integers(0, 10_000, size=pos_shape)
    f = refrope.inv_freq("yarn", 6, factor=4.0, original_max_position_embeddings=64)
    out = refrope.apply_rope(x, pos, f, layout="interleaved")
    full = np.broadcast_to(pos, x.shape[:-1])
    for idx in np.ndindex(x.shape[:-1]):
        row = refrope.apply_rope(x[idx][None], [full[idx]], f, layout="interleaved")[0]
        assert np.array_equal(out[idx], row)


def test_freqs_array_equals_frequencies_without_magnitude():
    """[R-APPLY-3] A plain inverse-frequency array behaves as Frequencies with magnitude 1; real positions work."""
    f = refrope.inv_freq("ntk_mixed", 8, factor=8.0)
    x = np.arange(16.0).reshape(2, 8)
    pos = np.array([0.5, 1234.25])
    assert np.array_equal(refrope.apply_rope(x, pos, f), refrope.apply_rope(x, pos, list(f.inv_freq)))


def _generator(inv, layout):
    """The skew-symmetric generator G with R(p) = expm(p G), built from the layout's pairs."""
    d = 2 * len(inv)
    g = np.zeros((d, d))
    for i, (ia, ib, _, _) in enumerate(_pairs(d, "half" if layout == "half" else "interleaved")):
        g[ib, ia], g[ia, ib] = inv[i], -inv[i]
    return g


@pytest.mark.parametrize("layout", ["half", "interleaved"])
@given(data=st.data())
def test_three_formulations_agree(layout, data):
    """[R-APPLY-4] elementwise == expm of the skew generator == complex multiplication, within the stated bound."""
    d = data.draw(rotary_dims, label="d")
    f = refrope.inv_freq("default", d, theta=data.draw(thetas, label="theta"))
    p = data.draw(st.integers(0, 4096), label="position")
    x = data.draw(vectors(d), label="x")
    elementwise = refrope.apply_rope(x, p, f, layout=layout)
    matrix = scipy.linalg.expm(p * _generator(f.inv_freq, layout)) @ x
    perm = refrope.interleave_permutation(d)
    xi = x if layout == "interleaved" else x[np.argsort(perm)]
    z = (xi[0::2] + 1j * xi[1::2]) * np.exp(1j * p * f.inv_freq)
    complex_form = np.empty(d)
    complex_form[0::2], complex_form[1::2] = z.real, z.imag
    if layout == "half":
        complex_form = complex_form[perm]
    scale = np.abs(x).max(initial=1.0)
    np.testing.assert_allclose(elementwise, complex_form, rtol=0, atol=angle_bound(max_angle(p, f.inv_freq), scale))
    # expm's scaling-and-squaring loses about eps * ||p G|| per squaring step: a looser, stated bound
    np.testing.assert_allclose(elementwise, matrix, rtol=0, atol=1e3 * angle_bound(max_angle(p, f.inv_freq), scale))



def _rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def _rotate_every_two(x):
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = -x[..., 1::2], x[..., 0::2]
    return out


@given(f=frequencies(), data=st.data())
def test_cos_sin_tables_reproduce_apply_rope(f, data):
    """[R-COSSIN-1] x*cos + rotate_half(x)*sin (HF) and x*cos + rotate_every_two(x)*sin (GPT-J) equal apply_rope."""
    seq = data.draw(st.integers(1, 4), label="seq")
    pos = np.array(data.draw(st.lists(positions(), min_size=seq, max_size=seq), label="positions"))
    x = data.draw(vectors(f.rotary_dim, rows=seq), label="x")
    for layout, rot in (("half", _rotate_half), ("interleaved", _rotate_every_two)):
        cos, sin = refrope.cos_sin(pos, f, layout=layout)
        assert cos.shape == sin.shape == (seq, f.rotary_dim) and cos.dtype == np.float64
        bound = angle_bound(max_angle(pos, f.inv_freq), f.attention_factor * np.abs(x).max(initial=1.0))
        np.testing.assert_allclose(x * cos + rot(x) * sin, refrope.apply_rope(x, pos, f, layout=layout),
                                   rtol=0, atol=bound)
    c_half, _ = refrope.cos_sin(pos, f, layout="half")
    c_inter, _ = refrope.cos_sin(pos, f, layout="interleaved")
    h = f.rotary_dim // 2
    assert np.array_equal(c_half[..., :h], c_half[..., h:])
    assert np.array_equal(c_inter[..., 0::2], c_half[..., :h])


@pytest.mark.parametrize("layout", LAYOUTS)
@given(f=frequencies(), p=st.floats(-1e6, 1e6), data=st.data())
def test_rotation_matrix_is_orthogonal_and_matches_apply(layout, f, p, data):
    """[R-MATRIX-1] rotation_matrix is orthogonal, excludes the magnitude, and apply_rope = m R(p) x."""
    r = refrope.rotation_matrix(p, f, layout=layout)
    x = data.draw(vectors(f.rotary_dim), label="x")
    assert r.shape == (f.rotary_dim, f.rotary_dim)
    np.testing.assert_allclose(r @ r.T, np.eye(f.rotary_dim), rtol=0, atol=8 * EPS)
    bound = angle_bound(max_angle([p], f.inv_freq), f.attention_factor * np.abs(x).sum())
    np.testing.assert_allclose(refrope.apply_rope(x, p, f, layout=layout), f.attention_factor * r @ x,
                               rtol=0, atol=bound)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("pos_shape", [(2000,), (2, 2000), (3, 1, 2000)])
def test_blocked_large_inputs_equal_the_unblocked_rotation(layout, pos_shape):
    """[R-APPLY-1] [R-APPLY-2] Large inputs (rotated block by block for speed) equal the one-shot rotation
    bit for bit."""
    from refrope.rotary import rotate_pairs

    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 2, 2000, 70)).astype(np.float32)
    pos = rng.integers(0, 1 << 20, size=pos_shape)
    f = refrope.inv_freq("yarn", 64, factor=8.0, original_max_position_embeddings=4096)
    got = refrope.apply_rope(x, pos, f, layout=layout, rotary_offset=3)
    full = np.broadcast_to(pos, x.shape[:-1])
    phi = full[..., None] * f.inv_freq
    want = x.astype(np.float64)
    want[..., 3:67] = rotate_pairs(x[..., 3:67].astype(np.float64), np.cos(phi) * f.attention_factor,
                                   np.sin(phi) * f.attention_factor, layout)
    assert np.array_equal(got, want)


EDGE_POSITIONS = [p + k for p in (256, 2048, 65536, 2**20, 2**24) for k in (-1, 0, 1, 3)]


@pytest.mark.parametrize("theta", [10_000.0, 500_000.0, 1_000_000.0])
def test_long_positions_match_40_digit_rotation(theta):
    """[R-PREC-1] At 16-bit exactness limits (256 ... 2^24) the rotation matches 40-digit arithmetic
    within c eps (1 + |p w|) r."""
    import mpmath

    f = refrope.inv_freq("default", 20, theta=theta)
    x = np.linspace(-2.0, 3.0, 20)
    pos = np.array(EDGE_POSITIONS)
    got = refrope.apply_rope(np.broadcast_to(x, (len(pos), 20)), pos, f, layout="interleaved")
    with mpmath.workdps(40):
        for row, p in enumerate(pos):
            for i, w in enumerate(f.inv_freq):
                phi = mpmath.mpf(int(p)) * mpmath.mpf(float(w))          # exact product of the float64 inputs
                a, b = mpmath.mpf(x[2 * i]), mpmath.mpf(x[2 * i + 1])
                want = (a * mpmath.cos(phi) - b * mpmath.sin(phi), b * mpmath.cos(phi) + a * mpmath.sin(phi))
                bound = angle_bound(float(p) * w, math.hypot(x[2 * i], x[2 * i + 1]))
                assert abs(got[row, 2 * i] - float(want[0])) <= bound
                assert abs(got[row, 2 * i + 1] - float(want[1])) <= bound


def test_distinct_long_positions_give_distinct_rows():
    """[R-PREC-1] 2048 + k, 65536 + k and 2^24 + k give distinct cos rows, where fp16 / fp32 positions would merge
    them."""
    f = refrope.inv_freq("default", 64)
    assert np.float16(2049) == np.float16(2048) and np.float32(2**24 + 1) == np.float32(2**24)  # what 16/32-bit do
    for base in (2048, 65536, 2**24):
        cos, _ = refrope.cos_sin(base + np.arange(4), f)
        assert len({row.tobytes() for row in cos}) == 4

