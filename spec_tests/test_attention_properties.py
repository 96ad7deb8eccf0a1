"""[A-POS-1] [A-LAYOUT-1] [A-CHUNK-1] [A-COST-1] [A-MAG-2]: positions, layouts, block sizes, tile cost, DeepSeek."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope import relpos as rp
from refrope._attention import blocks as _attn_blocks
from spec_tests.attn_strategies import METHODS, assert_close, attention_cases, bounds


def test_default_positions_are_the_tail_of_arange():
    """[A-POS-1] Default positions: the last n_q of arange(n_k) for queries, arange(n_k) for keys."""
    rng = np.random.default_rng(5)
    q, k, v = rng.standard_normal((1, 3, 4)), rng.standard_normal((1, 7, 4)), rng.standard_normal((1, 7, 2))
    f = refrope.inv_freq("default", 4)
    got = refrope.attention(q, k, v, f, relpos=rp.rerope(2))
    assert np.array_equal(got, refrope.attention(q, k, v, f, relpos=rp.rerope(2), positions_q=[4, 5, 6],
                                                 positions_k=np.arange(7)))
    with pytest.raises(ValueError, match="positions_q must be given when n_q=8 > n_k=7"):
        refrope.attention(np.ones((1, 8, 4)), k, v, f)


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_permuting_keys_with_their_positions_changes_nothing(method, data):
    """[A-POS-1] Keys are a set: permuting keys, values, positions and mask together permutes the scores and leaves
    the output unchanged (within [A-NUM-1])."""
    case = data.draw(attention_cases(explicit_positions=True), label="case")
    perm = np.array(data.draw(st.permutations(range(case.k.shape[-2])), label="perm"), dtype=int)
    _, pk = case.positions()
    moved = case.with_kwargs(positions_k=pk[perm])
    moved.k, moved.v = case.k[..., perm, :], case.v[..., perm, :]
    if case.kwargs.get("key_mask") is not None:
        moved.kwargs["key_mask"] = case.kwargs["key_mask"][perm]
    tol = bounds(case)
    assert_close(moved.call(method=method), case.call(method=method), 2 * tol.output, "permuted keys")
    assert_close(moved.call(refrope.attention_scores, method=method),
                 case.call(refrope.attention_scores, method=method)[..., perm], 2 * tol.logits, "permuted scores")


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_half_on_permuted_inputs_is_interleaved(method, data):
    """[A-LAYOUT-1] attention(layout="half") on q, k with the rotary slice permuted by P equals "interleaved" on the
    originals; "interleaved_to_half" logits equal "interleaved" ones (within [A-NUM-1])."""
    case = data.draw(attention_cases(layout="interleaved"), label="case")
    d_rot, d = case.freqs.rotary_dim, case.q.shape[-1]
    perm = np.concatenate([refrope.interleave_permutation(d_rot), np.arange(d_rot, d)])
    half = case.with_kwargs(layout="half")
    half.q, half.k = case.q[..., perm], case.k[..., perm]
    tol = bounds(case)
    assert_close(half.call(method=method), case.call(method=method), 2 * tol.output, "half on P-permuted inputs")
    assert_close(case.call(refrope.attention_scores, method=method, layout="interleaved_to_half"),
                 case.call(refrope.attention_scores, method=method), 2 * tol.logits, "interleaved_to_half logits")


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_block_size_changes_rounding_only(method, data):
    """[A-CHUNK-1] Every block size agrees with one block covering everything, within [A-NUM-1]."""
    case = data.draw(attention_cases(max_n=9), label="case")
    whole = case.call(method=method, block_size=64)
    for block in (1, 2, 3, 5):
        assert_close(case.call(method=method, block_size=block), whole, 2 * bounds(case).output, f"block {block}")


def test_tiles_choose_their_passes_from_the_window():
    """[A-COST-1] ReRoPE w = 16, n = 64, tiles of 8: the 28 tiles above the diagonal are skipped and only the 6 tiles
    at diagonal offset 2 (distances 9 to 23) cross the window and need both passes."""
    calls = {"skipped": 0, "two passes": 0}
    visibility, pass_ids = _attn_blocks.tile_visibility, _attn_blocks.pass_ids

    def spy_visibility(*args):
        state = visibility(*args)
        calls["skipped"] += state == 0
        return state

    def spy_ids(*args):
        calls["two passes"] += 1
        return pass_ids(*args)

    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((1, 64, 4)), rng.standard_normal((1, 64, 4)), rng.standard_normal((1, 64, 1))
    mp = pytest.MonkeyPatch()
    with mp.context() as m:
        m.setattr(_attn_blocks, "tile_visibility", spy_visibility)
        m.setattr(_attn_blocks, "pass_ids", spy_ids)
        refrope.attention(q, k, v, [1.0, 0.1], relpos=rp.rerope(16), block_size=8)
    assert calls == {"skipped": 28, "two passes": 6}


@pytest.mark.parametrize("r_lo, r_hi, window, passes", [
    (0.0, 511.0, 1024.0, (0,)), (513.0, 1535.0, 1024.0, (0, 1)), (1025.0, 2047.0, 1024.0, (1,)),
    (-511.0, 511.0, math.inf, (0,)), (0.0, 9.0, 0.0, (1,)), (-9.0, 9.0, 0.0, (1, -1)),
    (-9.0, 9.0, 4.0, (0, 1, -1)), (-9.0, -4.0, 4.0, (-1,)), (-4.0, 4.0, 4.0, (0, 1, -1)),
])
def test_tile_passes_cover_exactly_the_pieces_reached(r_lo, r_hi, window, passes):
    """[A-COST-1] [L-PASS-1] A tile spanning [r_lo, r_hi] needs pass 0 iff it meets |r| < W, pass 1 iff it meets
    r >= W (r >= 0), pass -1 iff it meets r <= -W (r < 0)."""
    from refrope._attention.passes import tile_passes
    assert tile_passes(r_lo, r_hi, window) == passes


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data(), mscale_all_dim=st.sampled_from([1.0, 0.707]) | st.floats(0.1, 2.0),
       factor=st.sampled_from([40.0]) | st.floats(1.0, 64.0))
def test_deepseek_factor_multiplies_every_logit(method, data, mscale_all_dim, factor):
    """[A-MAG-2] mscale_all_dim multiplies rotary and pass-through logits alike by (0.1 mu ln k + 1)^2."""
    case = data.draw(attention_cases(masks=False), label="case")
    case.freqs = refrope.inv_freq("yarn", case.freqs.rotary_dim, factor=factor, original_max_position_embeddings=64)
    g = (0.1 * mscale_all_dim * math.log(factor) + 1.0) ** 2 if factor > 1 else 1.0
    plain = case.call(refrope.attention_scores, method=method)
    scaled = case.call(refrope.attention_scores, method=method, mscale_all_dim=mscale_all_dim)
    assert_close(scaled, g * plain, 2 * g * bounds(case).logits, "DeepSeek factor")


def test_deepseek_factor_needs_a_factor():
    """[A-MAG-2] mscale_all_dim with frequencies that carry no factor is a ValueError naming mscale_all_dim."""
    ones = np.ones((1, 2, 4))
    for freqs in ([1.0, 0.1], refrope.inv_freq("default", 4)):
        with pytest.raises(ValueError, match="mscale_all_dim=1.0 needs freqs carrying params\\['factor'\\]"):
            refrope.attention(ones, ones, ones, freqs, mscale_all_dim=1.0)
    v3 = refrope.inv_freq("yarn", 4, factor=40.0, original_max_position_embeddings=4096, mscale=1.0, mscale_all_dim=1.0)
    s = refrope.attention_scores(ones, ones, v3, mscale_all_dim=1.0, scale=1.0)   # V3: cos/sin magnitude exactly 1
    assert v3.attention_factor == 1.0
    np.testing.assert_allclose(s[0, 1, 1], 4 * (0.1 * math.log(40) + 1) ** 2, rtol=1e-14)   # distance 0: 4 * 1.874
