"""[L-MAP-1] to [L-PASS-1]: the relative-position maps, their matrix and their two pieces (docs/spec/relpos.md)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope import relpos as rp
from spec_tests.attn_strategies import MAP_NAMES, f_expected, maps
from spec_tests.bounds import EPS, angle_bound
from spec_tests.strategies import vectors

distances = st.integers(0, 2**20) | st.floats(0.0, 2.0**20)
windows = st.integers(0, 4096) | st.floats(0.0, 4096.0)
leaky_factors = st.sampled_from([1.0, 2.0, 16.0]) | st.floats(1.0, 1e6)
inv_factors = st.sampled_from([1 / 16, 0.5]) | st.floats(1e-3, 0.999)


def _ulps(x: float, n: float = 4.0) -> float:
    return n * EPS * max(abs(x), 1.0)


@given(r=st.lists(st.floats(-2.0**40, 2.0**40), min_size=1, max_size=8))
def test_rope_is_the_identity_and_the_default(r):
    """[L-MAP-1] rope() maps r to r exactly; "rope" means rope() wherever a map is accepted."""
    r = np.array(r)
    assert np.array_equal(rp.rope()(r), r)
    assert rp.resolve("rope") == rp.rope()
    assert np.array_equal(refrope.relative_positions("rope", r, [0.0]), r[:, None])


@pytest.mark.parametrize("bad, error", [("rerope", ValueError), ("ROPE", ValueError), (None, TypeError),
                                        (3, TypeError), (lambda r: r, TypeError)])
def test_anything_else_is_not_a_map(bad, error):
    """[L-MAP-1] Another string is a ValueError and another object a TypeError, naming relpos."""
    with pytest.raises(error, match="relpos must be 'rope' or a map"):
        rp.resolve(bad)


@given(r=distances, k=st.floats(0.01, 1e4))
def test_linear_divides_by_its_factor(r, k):
    """[L-MAP-2] linear(k)(r) = r / k for any k > 0."""
    assert rp.linear(k)(r) == r / k


@given(r=distances, w=windows)
def test_rerope_clips_at_the_window(r, w):
    """[L-MAP-3] rerope(w)(r) = min(r, w): every value is at most w whatever r (kexue.fm/archives/9708 §8.1), and r
    itself below w."""
    value = float(rp.rerope(w)(r))
    assert value == min(r, w) and value <= w


@given(length=st.integers(1, 300), w=windows)
def test_rerope_at_or_beyond_every_distance_is_rope(length, w):
    """[L-MAP-3] With w >= L - 1 the ReRoPE matrix is the RoPE matrix exactly (kexue.fm/archives/9708 §8.1); w = 0 makes
    it all zero."""
    pos = np.arange(length)
    big = rp.rerope(max(w, length - 1))
    assert np.array_equal(refrope.relative_positions(big, pos, pos), refrope.relative_positions("rope", pos, pos))
    assert not refrope.relative_positions(rp.rerope(0), pos, pos).any()


@given(r=distances, w=windows, k=leaky_factors)
def test_leaky_rerope_is_piecewise(r, w, k):
    """[L-MAP-4] leaky_rerope(w, k)(r) = r below w and w + (r - w)/k from w on; equal to min(r, w + (r - w)/k)
    (kexue.fm/archives/9708 §8.2) and to the table index (r + w(k - 1))/k of bojone/rerope `leaky_rerope_patch.py`
    within rounding."""
    f = rp.leaky_rerope(w, k)
    value = float(f(r))
    assert value == (r if r < w else w + (r - w) / k)
    assert abs(value - min(r, w + (r - w) / k)) <= _ulps(max(r, w))  # the min-form rounds at the scale of w
    if r >= w:
        assert abs(value - (r + w * (k - 1)) / k) <= _ulps(r + w * k) / min(k, 1 / EPS)


@given(w=windows, k=leaky_factors, data=st.data())
def test_leaky_rerope_limits(w, k, data):
    """[L-MAP-4] f(w) = w (continuous), non-decreasing; k = 1 is RoPE, w = 0 is linear(k), and f_leaky - f_re =
    (r - w)/k, so k -> infinity gives ReRoPE (kexue.fm/archives/9708 §8.1)."""
    f = rp.leaky_rerope(w, k)
    assert float(f(w)) == w
    r = np.sort(np.array(data.draw(st.lists(distances, min_size=2, max_size=10), label="r")))
    assert np.all(np.diff(f(r)) >= 0)
    ints = np.arange(0, 200)
    assert np.array_equal(rp.leaky_rerope(int(w), 1)(ints), ints)
    assert np.allclose(rp.leaky_rerope(w, 1)(r), r, rtol=4 * EPS, atol=0)
    assert np.array_equal(rp.leaky_rerope(0, k)(r), rp.linear(k)(r))
    gap = f(r) - rp.rerope(w)(r)
    np.testing.assert_allclose(gap, np.maximum(r - w, 0) / k, rtol=0, atol=4 * EPS * max(r.max(), 1.0))


@given(length=st.integers(2, 5000), w=st.integers(0, 4000), k=st.sampled_from([2, 8, 16, 64]))
def test_leaky_largest_value_of_the_matrix(length, w, k):
    """[L-MAP-4] The largest value of the L x L causal Leaky matrix is w + (L - 1 - w)/k
    (kexue.fm/archives/9708 §8.1)."""
    w = min(w, length - 1)
    pos = np.arange(length)
    top = refrope.relative_positions(rp.leaky_rerope(w, k), pos[-1:], pos).max()
    assert top == w + (length - 1 - w) / k


@given(r=distances, w=windows, k=inv_factors)
def test_inv_leaky_rerope_takes_the_max_branch(r, w, k):
    """[L-MAP-5] inv_leaky_rerope uses the same formula with k < 1, i.e. f(r) = max(r, w + (r - w)/k)."""
    value = float(rp.inv_leaky_rerope(w, k)(r))
    assert value == (r if r < w else w + (r - w) / k)
    assert abs(value - max(r, w + (r - w) / k)) <= _ulps(max(r, w + (r - w) / k))


@given(w=st.integers(2, 4096), k=inv_factors, data=st.data())
def test_the_blog_max_form_is_wrong_for_inverse_leaky(w, k, data):
    """[L-MAP-5] For k < 1 and 0 < r < w the blog's exponent max(j - i, (j - i + w)/k - w) is not -f(r): it picks the
    outer branch; for k >= 1 it is right (decode formula: kexue.fm/archives/9708 §8.2; InvLeaky:
    kexue.fm/archives/9728)."""
    r = data.draw(st.integers(1, w - 1), label="r")
    blog = max(-r, (-r + w) / k - w)
    assert -blog != float(rp.inv_leaky_rerope(w, k)(r)) == r
    k_up = 1 / k
    assert -max(-r, (-r + w) / k_up - w) == float(rp.leaky_rerope(w, k_up)(r))


def test_inverse_leaky_training_maximum():
    """[L-MAP-5] N = 512, w = 128, k = 1/16: the training maximum f(511) = 128 + 16 * 383 = 6256 >= 4095
    (kexue.fm/archives/9728)."""
    assert float(rp.inv_leaky_rerope(128, 1 / 16)(511)) == 6256.0 >= 4095


@pytest.mark.parametrize("call, error, match", [
    (lambda: rp.linear(0), ValueError, "factor must be > 0"),
    (lambda: rp.linear(math.inf), ValueError, "factor must be finite"),
    (lambda: rp.rerope(-1), ValueError, "window must be >= 0"),
    (lambda: rp.rerope(math.nan), ValueError, "window must be finite"),
    (lambda: rp.rerope(True), TypeError, "window must be a real number"),
    (lambda: rp.rerope("512"), TypeError, "window must be a real number"),
    (lambda: rp.leaky_rerope(4, 0.5), ValueError, "factor must be >= 1"),
    (lambda: rp.inv_leaky_rerope(4, 1.0), ValueError, "factor must be < 1 for inv_leaky_rerope"),
    (lambda: rp.inv_leaky_rerope(4, 0.0), ValueError, "factor must be > 0"),
    (lambda: rp.rope()([0.0, math.nan]), ValueError, "r must be finite"),
])
def test_bad_parameters_are_rejected(call, error, match):
    """[L-MAP-6] Parameters out of range, non-finite, bools and strings raise, naming the parameter."""
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("name", MAP_NAMES)
@given(data=st.data())
def test_maps_are_odd_immutable_values(name, data):
    """[L-MAP-6] f(-r) = -f(r) exactly; float64 of the input's shape; frozen; equal and hashed by value; the repr
    rebuilds the map."""
    f = data.draw(maps(name), label="map")
    r = np.array(data.draw(st.lists(distances, min_size=1, max_size=6), label="r")).reshape(-1, 1)
    assert np.array_equal(f(-r), -f(r))
    out = f(r.astype(int) if np.all(r == np.round(r)) else r)
    assert out.dtype == np.float64 and out.shape == r.shape
    rebuilt = eval(repr(f), vars(rp))
    assert rebuilt == f and hash(rebuilt) == hash(f)
    field = next(iter(dataclasses.fields(f)), None)
    if field is not None:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(f, field.name, 1.0)


def test_maps_compare_by_kind_and_parameters():
    """[L-MAP-6] Same kind and parameters: equal; another parameter or kind: not equal."""
    assert rp.rerope(3) == rp.rerope(3.0) and rp.rerope(3) != rp.rerope(4)
    assert rp.leaky_rerope(3, 1) != rp.rerope(3) and rp.linear(2) != rp.leaky_rerope(0, 2)
    assert repr(rp.leaky_rerope(512, 16)) == "leaky_rerope(window=512.0, factor=16.0)"


@pytest.mark.parametrize("name", MAP_NAMES)
@given(data=st.data())
def test_matrix_is_f_of_the_differences(name, data):
    """[L-MATRIX-1] relative_positions gives f(p_i - p_j), shape (..., n_q, n_k), leading axes broadcast."""
    f = data.draw(maps(name), label="map")
    pq = np.array(data.draw(st.lists(st.integers(0, 2**17), min_size=1, max_size=5), label="pq"), dtype=float)
    pk = np.array(data.draw(st.lists(st.integers(0, 2**17), min_size=1, max_size=5), label="pk"), dtype=float)
    got = refrope.relative_positions(f, pq, pk)
    want = np.array([[f_expected(f, a - b) for b in pk] for a in pq])
    np.testing.assert_allclose(got, want, rtol=4 * EPS, atol=0)
    batched = refrope.relative_positions(f, np.stack([pq, pq + 7]), pk + np.zeros((2, 1)))
    assert batched.shape == (2, len(pq), len(pk)) and np.array_equal(batched[0], got)


@pytest.mark.parametrize("name", MAP_NAMES)
@given(data=st.data(), length=st.integers(1, 40))
def test_matrix_is_toeplitz_and_small_distances_dominate(name, data, length):
    """[L-MATRIX-1] With arange(L) on both sides the matrix is constant on diagonals, and in the causal triangle the
    distance r occurs L - r times (kexue.fm/archives/9706 eq. 8)."""
    f = data.draw(maps(name), label="map")
    pos = np.arange(length)
    m = refrope.relative_positions(f, pos, pos)
    for offset in range(-length + 1, length):
        diagonal = np.diagonal(m, offset=-offset)
        assert np.all(diagonal == diagonal[0])
    distance = pos[:, None] - pos[None, :]
    for r in range(length):
        assert np.count_nonzero(distance[np.tril_indices(length)] == r) == length - r
        assert np.all(m[distance == r] == float(f(r)))


@pytest.mark.parametrize("name", [n for n in MAP_NAMES if n != "rope"])
@given(data=st.data())
def test_outer_positions_differ_by_f(name, data):
    """[L-PASS-1] For sigma r >= W, outer_positions rotate q and k so that their difference is f(r); inside the window
    f(r) = r exactly; at r = W both pieces agree (kexue.fm/archives/9708 §8.2)."""
    f = data.draw(maps(name, reach=4096), label="map")
    pk = float(data.draw(st.integers(0, 2**17), label="p_k"))
    r = data.draw(distances | st.just(f.inner_window), label="|r|")
    side = data.draw(st.sampled_from([1, -1]), label="side")
    pq = pk + side * r
    a, b = f.outer_positions([pq], [pk], side)
    scale = max(abs(pq), abs(pk), f.inner_window) * max(1.0, f.outer_slope)
    if r >= f.inner_window:
        assert abs((a - b)[0] - f_expected(f, pq - pk)) <= 8 * EPS * (scale + 1)
    else:
        assert float(f(pq - pk)) == pq - pk


@given(w=windows, k=leaky_factors, i=st.integers(0, 2**17), j=st.integers(0, 2**17))
def test_leaky_pass_two_matches_the_article(w, k, i, j):
    """[L-PASS-1] Leaky pass 2 rotates q at (i - w)/k + w and k at j/k (kexue.fm/archives/9708 §8.2); ReRoPE rotates q
    at w, k at 0."""
    a, b = rp.leaky_rerope(w, k).outer_positions([i], [j])
    assert abs(a[0] - ((i - w) / k + w)) <= 4 * EPS * (i + w) and abs(b[0] - j / k) <= 2 * EPS * j / k
    a, b = rp.rerope(w).outer_positions([i], [j])
    assert a[0] == w and b[0] == 0.0


@given(w=st.integers(0, 512), k=st.sampled_from([2.0, 16.0]) | st.floats(1.0, 64.0), i=st.integers(0, 2**12),
       data=st.data())
def test_pass_two_rotation_identity(w, k, i, data):
    """[L-PASS-1] (R((i-w)/k + w) q)^T (R(j/k) k) = q^T R((j - i + w)/k - w) k (kexue.fm/archives/9708 §8.2), via
    apply_rope and the explicit matrix, within the rounding of the angles."""
    j = data.draw(st.integers(0, i), label="j")
    d = 2 * data.draw(st.integers(1, 4), label="pairs")
    freqs = refrope.inv_freq("default", d)
    q, key = data.draw(vectors(d), label="q"), data.draw(vectors(d), label="k")
    a, b = rp.leaky_rerope(w, k).outer_positions([i], [j])
    lhs = refrope.apply_rope(q[None], a, freqs) @ refrope.apply_rope(key[None], b, freqs)[0]
    rhs = q @ refrope.rotation_matrix((j - i + w) / k - w, freqs) @ key
    size = np.linalg.norm(q) * np.linalg.norm(key)
    assert abs(lhs[0] - rhs) <= 4 * angle_bound(2 * (i + w), size)


def test_outer_positions_rejects_rope_and_bad_sides():
    """[L-PASS-1] rope() has no outer piece; side must be +1 or -1."""
    with pytest.raises(ValueError, match="no outer piece"):
        rp.rope().outer_positions([1.0], [0.0])
    with pytest.raises(ValueError, match="side must be 1 or -1"):
        rp.rerope(2).outer_positions([1.0], [0.0], 0)
