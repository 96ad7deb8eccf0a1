"""Vision towers: [MM-VIS-1] to [MM-VIS-4] (docs/spec/multimodal.md).

Expected token orders and frequencies are written out from the towers' descriptions (Qwen2-VL merges 2 x 2
neighbouring patches into one token, so the four patches of a window are consecutive; Pixtral's RoPE-2D splits the
frequencies by parity between height and width; Llama 4's patches count from 1 and its class token has no angle);
transformers' own code is compared in spec_tests/test_mm_crosscheck_vision.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope


def test_qwen2_vl_merge_window_order():
    """[MM-VIS-1] A 4 x 4 patch grid at m = 2: windows row-major (top-left, top-right, bottom-left, bottom-right),
    the 4 patches of each row-major; two frames repeat the positions; m = 1 is plain row-major."""
    v = refrope.vision_rope("qwen2_vl", head_dim=16, grid=(2, 4, 4))
    window = [(0, 0), (0, 1), (1, 0), (1, 1)]
    expected = [(2 * wr + i, 2 * wc + j) for wr, wc in window for i, j in window]
    assert list(zip(*v.positions[:, :16].tolist())) == expected
    assert np.array_equal(v.positions[:, 16:], v.positions[:, :16]) and v.n_tokens == 32
    flat = refrope.vision_rope("qwen2_vl", head_dim=8, grid=(3, 2), spatial_merge_size=1).positions
    assert flat.tolist() == [[0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1]]


def test_qwen2_vl_frequencies_and_axes():
    """[MM-VIS-1] head_dim 80 (Qwen2-VL's tower): 20 row pairs then 20 column pairs, both theta^(-4k/80), layout
    half, theta None = 10000."""
    v = refrope.vision_rope("qwen2_vl", head_dim=80, grid=(2, 2))
    k = np.arange(20)
    assert np.allclose(v.freqs, np.concatenate([10000.0 ** (-4 * k / 80)] * 2), rtol=1e-15, atol=0)
    assert v.axes.tolist() == [0] * 20 + [1] * 20 and v.layout == "half" and v.theta == 10000.0


def test_qwen2_5_vl_window_permutation_is_the_callers():
    """[MM-VIS-1] Rotating x permuted by perm with positions[:, perm] equals rotating x and permuting."""
    v = refrope.vision_rope("qwen2_vl", head_dim=8, grid=(4, 8))
    x = np.random.default_rng(1).standard_normal((v.n_tokens, 8))
    perm = np.random.default_rng(2).permutation(v.n_tokens)
    rotated = refrope.apply_rope_nd(x, v.positions, v.freqs, axes=v.axes, layout=v.layout)
    permuted = refrope.apply_rope_nd(x[perm], v.positions[:, perm], v.freqs, axes=v.axes, layout=v.layout)
    assert np.array_equal(permuted, rotated[perm])


def test_pixtral():
    """[MM-VIS-2] Pixtral: row-major tokens from (0, 0); rows on the even-indexed theta^(-2(2k)/d), columns on the
    odd-indexed theta^(-2(2k+1)/d); layout half."""
    v = refrope.vision_rope("pixtral", head_dim=16, grid=(2, 3), theta=100.0)
    assert v.positions.tolist() == [[0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2]]
    k = np.arange(4)
    expected = np.concatenate([100.0 ** (-2 * (2 * k) / 16), 100.0 ** (-2 * (2 * k + 1) / 16)])
    assert np.allclose(v.freqs, expected, rtol=1e-15, atol=0)
    assert v.axes.tolist() == [0] * 4 + [1] * 4 and v.layout == "half"


def test_llama4():
    """[MM-VIS-3] Llama 4: n x n patches row-major at (row + 1, col + 1), then the class token at (0, 0); the first
    d/4 pairs follow the column; theta^(-4k/d); interleaved; the class token is not rotated."""
    v = refrope.vision_rope("llama4", head_dim=8, grid=(2, 2))
    assert v.positions.tolist() == [[1, 1, 2, 2, 0], [1, 2, 1, 2, 0]]
    assert v.axes.tolist() == [1, 1, 0, 0] and v.layout == "interleaved"
    assert np.allclose(v.freqs, [1.0, 0.01, 1.0, 0.01], rtol=1e-15)
    x = np.arange(40.0).reshape(5, 8)
    out = refrope.apply_vision_rope(x, "llama4", grid=(2, 2))
    assert np.array_equal(out[-1], x[-1])
    angle = 2 * 1.0  # token 1 is (row 1, col 2): pair 0 (column, omega 1) turns by 2
    z = (x[1, 0] + 1j * x[1, 1]) * np.exp(1j * angle)
    assert np.allclose(out[1, :2], [z.real, z.imag], rtol=1e-14)


@pytest.mark.parametrize("kind", sorted(refrope.multimodal.VISION_KINDS))
@given(data=st.data())
def test_apply_vision_rope_is_apply_rope_nd(kind, data):
    """[MM-VIS-1] [MM-VIS-2] [MM-VIS-3] apply_vision_rope is apply_rope_nd with the tower's positions, frequencies,
    axes and layout, bit for bit, with any leading axes; head_dim from x."""
    d = 4 * data.draw(st.integers(1, 6))
    side = data.draw(st.integers(1, 3))
    grid = (2 * side, 2 * side) if kind != "pixtral" else (side, side + 1)
    v = refrope.vision_rope(kind, head_dim=d, grid=grid)
    x = np.random.default_rng(data.draw(st.integers(0, 99))).standard_normal((2, v.n_tokens, d))
    expected = refrope.apply_rope_nd(x, v.positions, v.freqs, axes=v.axes, layout=v.layout)
    assert np.array_equal(refrope.apply_vision_rope(x, kind, grid=grid), expected)


@pytest.mark.parametrize("call, error, match", [
    (dict(kind="qwen2", head_dim=8, grid=(2, 2)), ValueError, "kind must be one of"),
    (dict(kind="pixtral", head_dim=6, grid=(2, 2)), ValueError, "head_dim must be a positive multiple of 4"),
    (dict(kind="pixtral", head_dim=0, grid=(2, 2)), ValueError, "head_dim must be >= 4"),
    (dict(kind="pixtral", head_dim=8.0, grid=(2, 2)), TypeError, "head_dim must be an integer"),
    (dict(kind="pixtral", head_dim=8, grid=(2, 2, 2)), ValueError, r"grid must be \(h, w\)"),
    (dict(kind="qwen2_vl", head_dim=8, grid=(2, 0)), ValueError, "grid must be"),
    (dict(kind="qwen2_vl", head_dim=8, grid=(2, 3)), ValueError, "multiples of spatial_merge_size=2"),
    (dict(kind="qwen2_vl", head_dim=8, grid=(4, 4), spatial_merge_size=0), ValueError, "spatial_merge_size must"),
    (dict(kind="llama4", head_dim=8, grid=(2, 3)), ValueError, "grid must be square"),
    (dict(kind="llama4", head_dim=8, grid=(2, 2), spatial_merge_size=2), ValueError, "spatial_merge_size is for"),
    (dict(kind="pixtral", head_dim=8, grid=(2.0, 2)), ValueError, "grid must be"),
    (dict(kind="pixtral", head_dim=8, grid=(2, 2), theta=-1.0), ValueError, "theta must be > 0"),
])
def test_errors_name_the_parameter(call, error, match):
    """[MM-VIS-4] Bad kind, head_dim, grid, spatial_merge_size or theta: an error naming it."""
    kind = call.pop("kind")
    with pytest.raises(error, match=match):
        refrope.vision_rope(kind, **call)


def test_grid_untouched_and_tokens_checked():
    """[MM-VIS-4] The grid (a list, a NumPy array) is never modified; the arrays returned are read-only;
    apply_vision_rope refuses an x whose token count does not match the grid, naming x."""
    grid = [2, 4, 4]
    arr = np.array(grid)
    v = refrope.vision_rope("qwen2_vl", head_dim=8, grid=grid)
    refrope.vision_rope("qwen2_vl", head_dim=8, grid=arr)
    assert grid == [2, 4, 4] and arr.tolist() == [2, 4, 4] and v.grid == (2, 4, 4)
    assert not v.positions.flags.writeable and not v.axes.flags.writeable
    with pytest.raises(ValueError, match=r"x has 5 tokens \(x.shape\[-2\]\)"):
        refrope.apply_vision_rope(np.ones((5, 8)), "qwen2_vl", grid=grid)
