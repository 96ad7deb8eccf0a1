"""The N-axis rotation: [MM-ND-1] to [MM-ND-4] (docs/spec/multimodal.md).

Expected values: apply_rope itself pair by pair (the contract: the same computation, so bit for bit), and the
complex product z_i e^{i p_{a_i} w_i} written out independently.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import refrope
from refrope.layouts import pair_slices

from .strategies import small_floats

LAYOUTS = refrope.LAYOUTS


@st.composite
def nd_inputs(draw):
    pairs = draw(st.integers(1, 12), label="pairs")
    extra = draw(st.integers(0, 3), label="extra")
    offset = draw(st.integers(0, extra), label="offset")
    n_axes = draw(st.integers(1, 4), label="n_axes")
    seq = draw(st.integers(1, 5), label="seq")
    lead = draw(st.sampled_from([(), (2,)]), label="lead")
    x = draw(hnp.arrays(np.float64, lead + (seq, 2 * pairs + extra), elements=small_floats), label="x")
    dtype = draw(st.sampled_from([np.float64, np.float32, np.float16, np.int32]), label="dtype")
    x = x.astype(dtype) if dtype is not np.int32 else np.round(x).astype(np.int32)
    positions = draw(hnp.arrays(np.int64, (n_axes, seq), elements=st.integers(0, 2**20)), label="positions")
    axes = draw(st.lists(st.integers(0, n_axes - 1), min_size=pairs, max_size=pairs), label="axes")
    theta = draw(st.sampled_from([10_000.0, 1e6]), label="theta")
    freqs = refrope.inv_freq("yarn", 2 * pairs, theta=theta, factor=4.0, original_max_position_embeddings=64)
    return x, positions, freqs, axes, offset


def _pair_columns(d: int, layout: str, offset: int, i: int) -> list[int]:
    a, b = pair_slices(d, layout, output=True)
    return [offset + int(np.arange(d)[a][i]), offset + int(np.arange(d)[b][i])]


@pytest.mark.parametrize("layout", LAYOUTS)
@given(case=nd_inputs())
def test_each_pair_is_apply_rope_at_its_axis(layout, case):
    """[MM-ND-1] [MM-ND-2] Pair i of apply_rope_nd equals pair i of apply_rope(x, positions[axes[i]], ...) bit for bit,
    any dtype, any number of axes, a leading batch axis, partial rotary; float64 out, pass-through exact."""
    x, positions, freqs, axes, offset = case
    out = refrope.apply_rope_nd(x, positions, freqs, axes=axes, layout=layout, rotary_offset=offset)
    assert out.dtype == np.float64 and out.shape == x.shape
    d = freqs.rotary_dim
    for i, a in enumerate(axes):
        ref = refrope.apply_rope(x, positions[a], freqs, layout=layout, rotary_offset=offset)
        cols = _pair_columns(d, layout, offset, i)
        assert np.array_equal(out[..., cols], ref[..., cols])
    outside = [j for j in range(x.shape[-1]) if not offset <= j < offset + d]
    assert np.array_equal(out[..., outside], x[..., outside].astype(np.float64))


@given(case=nd_inputs())
def test_against_the_complex_product(case):
    """[MM-ND-1] In the interleaved layout pair i is z_i = x_{2i} + i x_{2i+1} times m e^{i p_{a_i} w_i}, computed here
    with complex numbers (within 1e-9 of the input norm)."""
    x, positions, freqs, axes, offset = case
    out = refrope.apply_rope_nd(x, positions, freqs, axes=axes, layout="interleaved", rotary_offset=offset)
    d = freqs.rotary_dim
    rot = x[..., offset:offset + d].astype(np.float64)
    z = rot[..., 0::2] + 1j * rot[..., 1::2]
    angle = np.stack([positions[a] * w for a, w in zip(axes, freqs.inv_freq)], axis=-1)  # (seq, d/2)
    expected = z * freqs.attention_factor * np.exp(1j * angle)
    scale = 1e-9 * (1.0 + np.abs(z).max()) * freqs.attention_factor * (1 + np.abs(angle).max())
    assert np.abs(out[..., offset:offset + d][..., 0::2] - expected.real).max() <= scale
    assert np.abs(out[..., offset:offset + d][..., 1::2] - expected.imag).max() <= scale


def test_hand_example():
    """[MM-ND-1] Two pairs (half layout), axes (1, 0), positions t = (1,), h = (2,), omega = (pi/2, pi/4): pair 0 turns
    by 2 * pi/2 = pi, pair 1 by 1 * pi/4."""
    x = np.array([[1.0, 1.0, 0.0, 0.0]])
    out = refrope.apply_rope_nd(x, [[1], [2]], [np.pi / 2, np.pi / 4], axes=[1, 0])
    c = np.sqrt(0.5)
    assert np.allclose(out, [[-1.0, c, 0.0, c]], atol=1e-15)


def test_broadcast_positions_and_the_input_untouched():
    """[MM-ND-2] positions rows broadcast like apply_rope's (a (n_axes, seq) table for (heads, seq, d) inputs); x,
    positions and axes are never modified (read-only inputs work)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 6))
    pos = rng.integers(0, 100, (2, 4))
    axes = np.array([1, 0, 1])
    for arr in (x, pos, axes):
        arr.setflags(write=False)
    before = (x.copy(), pos.copy(), axes.copy())
    f = refrope.inv_freq("default", 6)
    out = refrope.apply_rope_nd(x, pos, f, axes=axes)
    for h in range(3):
        assert np.array_equal(out[h], refrope.apply_rope_nd(x[h], pos, f, axes=axes))
    assert all(np.array_equal(a, b) for a, b in zip((x, pos, axes), before))


@pytest.mark.parametrize("axes, match", [
    ([0, 1], "exactly d/2 = 3"), ([0, 1, 2, 0], "exactly d/2 = 3"), ([0, 1, 2], r"\[0, 2\).*axes\[2\] = 2"),
    ([0, -1, 0], "negative entries are not wrapped"), ([0.0, 1.0, 0.0], "axes must be"),
    ([True, False, True], "axes must be"), ("011", "axes must be"), (None, "axes must be"),
])
def test_bad_axes_name_axes(axes, match):
    """[MM-ND-3] Wrong length, out of range, negative, non-integer, bool or non-sequence axes: ValueError naming
    axes."""
    with pytest.raises(ValueError, match=match) as info:
        refrope.apply_rope_nd(np.ones((2, 6)), np.zeros((2, 2)), [1.0, 0.5, 0.25], axes=axes)
    assert "axes" in str(info.value)


@pytest.mark.parametrize("positions, match", [
    (np.zeros(()), "positions must have shape"), (np.zeros((2, 3)), "must broadcast"),
    (np.array([[0.0, np.nan], [0.0, 0.0]]), "positions must be finite"),
])
def test_bad_positions_name_positions(positions, match):
    """[MM-ND-3] A scalar, rows that do not broadcast to x.shape[:-1], NaN: ValueError naming positions."""
    with pytest.raises(ValueError, match=match):
        refrope.apply_rope_nd(np.ones((2, 4)), positions, [1.0, 0.5], axes=[0, 1])


def test_other_arguments_checked_as_apply_rope():
    """[MM-ND-3] layout, rotary_offset (slice must fit) and x (real) are checked as for apply_rope."""
    good = dict(positions=[[0, 1]], freqs=[1.0], axes=[0])
    with pytest.raises(ValueError, match="layout"):
        refrope.apply_rope_nd(np.ones((2, 2)), layout="neox", **good)
    with pytest.raises(ValueError, match="does not fit"):
        refrope.apply_rope_nd(np.ones((2, 2)), rotary_offset=1, **good)
    with pytest.raises(TypeError, match="x must hold real numbers"):
        refrope.apply_rope_nd(np.ones((2, 2), dtype=complex), **good)


@given(pairs=st.integers(1, 6), shift=hnp.arrays(np.int64, (2,), elements=st.integers(-500, 500)),
       data=st.data())
def test_two_dimensional_scores_depend_on_the_offset_only(pairs, shift, data):
    """[MM-ND-4] For 2-D positions (row, column), the score <R(P) q, R(Q) k> is unchanged when both P and Q move by
    the same 2-D shift (to 1e-9 relative): it depends only on the offset P - Q."""
    axes = data.draw(st.lists(st.integers(0, 1), min_size=pairs, max_size=pairs), label="axes")
    q, k = (data.draw(hnp.arrays(np.float64, (2 * pairs,), elements=small_floats)) for _ in range(2))
    p, r = (data.draw(hnp.arrays(np.int64, (2, 1), elements=st.integers(0, 1000))) for _ in range(2))
    layout = data.draw(st.sampled_from(["half", "interleaved"]))
    f = refrope.inv_freq("default", 2 * pairs, theta=100.0)

    def score(a, b):
        qa = refrope.apply_rope_nd(q[None], a, f, axes=axes, layout=layout)[0]
        kb = refrope.apply_rope_nd(k[None], b, f, axes=axes, layout=layout)[0]
        return qa @ kb

    moved = score(p + shift[:, None], r + shift[:, None])
    assert abs(score(p, r) - moved) <= 1e-9 * (1 + np.abs(q).sum() * np.abs(k).sum())
