"""[C-LAYOUT-1] to [C-LAYOUT-4]: the three pair layouts (docs/spec/layouts.md)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import refrope
from spec_tests.bounds import angle_bound, max_angle
from spec_tests.strategies import frequencies, positions, rotary_dims, vectors


@pytest.mark.parametrize("layout, partner", [("half", lambda i, h: (i, i + h)),
                                             ("interleaved", lambda i, h: (2 * i, 2 * i + 1)),
                                             ("interleaved_to_half", lambda i, h: (i, i + h))])
@given(d=rotary_dims, data=st.data())
def test_quarter_turn_moves_each_unit_vector_to_its_partner(layout, partner, d, data):
    """[C-LAYOUT-1] A quarter turn maps the first member of pair i onto the second: this pins down the pairing."""
    h = d // 2
    i = data.draw(st.integers(0, h - 1), label="pair")
    inv = np.zeros(h)
    inv[i] = np.pi / 2                       # only pair i turns, by exactly a quarter at position 1
    first_in = 2 * i if layout != "half" else i
    x = np.zeros(d)
    x[first_in] = 1.0
    y = refrope.apply_rope(x, 1, inv, layout=layout)
    a_out, b_out = partner(i, h)
    want = np.zeros(d)
    want[b_out] = 1.0
    np.testing.assert_allclose(y, want, rtol=0, atol=1e-15)
    assert a_out != b_out


@given(f=frequencies(), data=st.data())
def test_half_equals_interleaved_under_the_permutation(f, data):
    """[C-LAYOUT-2] apply_rope(x[P], half) == apply_rope(x, interleaved)[P] at positions > 0."""
    seq = data.draw(st.integers(1, 4), label="seq")
    pos = np.array(data.draw(st.lists(st.integers(1, 2**20), min_size=seq, max_size=seq), label="positions"))
    x = data.draw(vectors(f.rotary_dim, rows=seq), label="x")
    perm = refrope.interleave_permutation(f.rotary_dim)
    half = refrope.apply_rope(x[:, perm], pos, f, layout="half")
    inter = refrope.apply_rope(x, pos, f, layout="interleaved")[:, perm]
    assert np.array_equal(half, inter)


@given(f=frequencies(), data=st.data())
def test_layouts_really_differ_away_from_position_zero(f, data):
    """[C-LAYOUT-2] Without the permutation, half and interleaved differ at p > 0 (position 0 hides the bug)."""
    assume(f.rotary_dim >= 4 and np.count_nonzero(f.inv_freq) >= 1)
    x = np.arange(1.0, f.rotary_dim + 1.0)
    p = data.draw(st.integers(1, 2**16), label="p")
    assume(np.max(np.abs(np.sin(p * f.inv_freq))) > 1e-3)
    assert np.array_equal(refrope.apply_rope(x, 0, f, layout="half"), refrope.apply_rope(x, 0, f, layout="interleaved"))
    assert not np.allclose(refrope.apply_rope(x, p, f, layout="half"),
                           refrope.apply_rope(x, p, f, layout="interleaved"))


@given(f=frequencies(), p=positions(), data=st.data())
def test_interleaved_to_half_is_interleaved_gathered(f, p, data):
    """[C-LAYOUT-3] interleaved_to_half == interleaved output gathered by P, and q.k equals interleaved's."""
    q, k = data.draw(vectors(f.rotary_dim), label="q"), data.draw(vectors(f.rotary_dim), label="k")
    p2 = data.draw(positions(), label="p2")
    perm = refrope.interleave_permutation(f.rotary_dim)
    i2h = refrope.apply_rope(q, p, f, layout="interleaved_to_half")
    assert np.array_equal(i2h, refrope.apply_rope(q, p, f, layout="interleaved")[perm])
    s_i2h = i2h @ refrope.apply_rope(k, p2, f, layout="interleaved_to_half")
    s_int = refrope.apply_rope(q, p, f, layout="interleaved") @ refrope.apply_rope(k, p2, f, layout="interleaved")
    bound = angle_bound(max_angle([p, p2], f.inv_freq), f.attention_factor**2 * np.abs(q).sum() * np.abs(k).sum())
    assert abs(s_i2h - s_int) <= bound


@pytest.mark.parametrize("bad", ["neox", "HALF", "", "gptj"])
def test_unknown_layout_is_a_value_error(bad):
    """[C-LAYOUT-4] An unknown layout string raises ValueError naming layout and the value."""
    for call in (lambda: refrope.apply_rope(np.ones(4), 1, [1.0, 0.5], layout=bad),
                 lambda: refrope.cos_sin([1], [1.0], layout=bad),
                 lambda: refrope.rotation_matrix(1.0, [1.0], layout=bad)):
        with pytest.raises(ValueError, match=f"layout.*{bad!r}"):
            call()
    with pytest.raises(TypeError, match="layout"):
        refrope.apply_rope(np.ones(4), 1, [1.0, 0.5], layout=None)
