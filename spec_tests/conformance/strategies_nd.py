"""Conformance inputs of the multimodal rotations: any pair-to-axis map over one to four axes, M-RoPE sections of the
real models (Qwen2-VL ``[16, 24, 24]``, Qwen3-VL ``[24, 20, 20]``, Qwen3.5's partial ``[11, 11, 10]``) and random
ones, position rows of text (t = h = w), of images and videos (:func:`refrope.mrope_positions`) and up to 2^20, and
vision grids of every tower with head sizes up to 96 (Qwen2-VL 80, Pixtral 64, Llama 4 88 favoured).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import refrope

from ..strategies import small_floats, variant_params
from .strategies import long_positions, pair_counts, thetas

REAL_SECTIONS = {64: [(16, 24, 24), (24, 20, 20)], 32: [(11, 11, 10), (8, 12, 12)], 40: [(8, 16, 16)]}
"""Sections of released models by d/2: Qwen2/2.5-VL, Qwen3-VL; Qwen3.5 (partial rotary 0.25 of 256), GLM-4.1V
(8, 12, 12 of 32 pairs); 40 pairs with a wide h, w."""


def _freqs(draw, pairs: int):
    variant = draw(st.sampled_from(["default", "default", "yarn", "linear", "llama3"]), label="variant")
    d = 2 * pairs
    return refrope.inv_freq(variant, d, theta=draw(thetas, label="theta"), **draw(variant_params(variant, d),
                                                                                  label="params"))


LARGE = 512
"""Inputs with more values than this are drawn from a seeded generator (hypothesis would exceed its data budget)."""


def _x(draw, seq: int, width: int):
    heads = draw(st.integers(1, 2), label="heads")
    if heads * seq * width <= LARGE:
        return draw(hnp.arrays(np.float64, (heads, seq, width), elements=small_floats), label="x")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="x_seed"))
    return rng.uniform(-4.0, 4.0, (heads, seq, width))


@st.composite
def nd_cases(draw, *, offsets: bool):
    """``(x, positions, freqs, axes, rotary_offset)``: a random map of ``d/2`` pairs onto 1 to 4 axes."""
    pairs = draw(pair_counts, label="pairs")
    n_axes = draw(st.integers(1, 4), label="n_axes")
    axes = draw(st.lists(st.integers(0, n_axes - 1), min_size=pairs, max_size=pairs), label="axes")
    seq = draw(st.integers(1, 4), label="seq")
    positions = draw(hnp.arrays(np.int64, (n_axes, seq), elements=long_positions), label="positions")
    extra = draw(st.integers(0, 3), label="pass_through")
    offset = draw(st.integers(0, extra), label="rotary_offset") if offsets else 0
    return _x(draw, seq, 2 * pairs + extra), positions, _freqs(draw, pairs), axes, offset


@st.composite
def _sections(draw, pairs: int):
    real = REAL_SECTIONS.get(pairs, [])
    if real and draw(st.booleans(), label="real_sections"):
        return list(draw(st.sampled_from(real), label="sections"))
    t = draw(st.integers(0, pairs), label="s_t")
    h = draw(st.integers(0, pairs - t), label="s_h")
    return [t, h, pairs - t - h]


@st.composite
def _mrope_positions(draw, seq: int):
    kind = draw(st.sampled_from(["text", "vision", "random"]), label="positions_kind")
    if kind == "text":  # t = h = w
        return np.repeat(draw(hnp.arrays(np.int64, (1, seq), elements=long_positions), label="text"), 3, axis=0)
    if kind == "random":
        return draw(hnp.arrays(np.int64, (3, seq), elements=long_positions), label="positions")
    start = draw(st.sampled_from([0, 2**19]) | st.integers(0, 2**20 - 64), label="start")
    grid = (draw(st.integers(1, 3)), 2 * draw(st.integers(1, 3)), 2 * draw(st.integers(1, 3)))
    tps = draw(st.sampled_from([None, 2.0, 25.0]), label="tokens_per_second")
    positions, _ = refrope.mrope_positions([("text", 1), ("video", *grid, 0.5), ("text", 2)], tokens_per_second=tps)
    return start + np.resize(positions, (3, seq))


@st.composite
def mrope_cases(draw, *, offsets: bool):
    """``(x, positions, freqs, sections, rotary_offset)``; the head may hold more than the rotary slice."""
    pairs = draw(st.sampled_from(sorted(REAL_SECTIONS)) | pair_counts, label="pairs")
    sections = draw(_sections(pairs), label="sections")
    seq = draw(st.integers(1, 4), label="seq")
    extra = draw(st.sampled_from([0, 1, 3]) | st.just(6 * pairs), label="pass_through")  # 6 d/2: Qwen3.5's 0.25
    offset = draw(st.integers(0, min(extra, 3)), label="rotary_offset") if offsets else 0
    positions = draw(_mrope_positions(seq), label="positions")
    return _x(draw, seq, 2 * pairs + extra), positions, _freqs(draw, pairs), sections, offset


@st.composite
def vision_cases(draw, kind: str):
    """``(x, grid, theta, spatial_merge_size)`` for a tower of :data:`refrope.multimodal.VISION_KINDS`."""
    head_dim = 4 * draw(st.sampled_from([20, 16, 22]) | st.integers(1, 24), label="quarter_head")
    theta = draw(st.none() | thetas, label="theta")
    merge = None
    if kind == "qwen2_vl":
        merge = draw(st.sampled_from([None, 2]) | st.integers(1, 3), label="spatial_merge_size")
        m = 2 if merge is None else merge
        grid = (draw(st.integers(1, 2)), m * draw(st.integers(1, 3)), m * draw(st.integers(1, 3)))
        grid = grid if draw(st.booleans(), label="with_t") else grid[1:]
    elif kind == "pixtral":
        grid = (draw(st.integers(1, 5), label="h"), draw(st.integers(1, 5), label="w"))
    else:
        side = draw(st.integers(1, 5), label="side")
        grid = (side, side)
    n = refrope.vision_rope(kind, head_dim=head_dim, grid=grid, spatial_merge_size=merge).n_tokens
    return _x(draw, n, head_dim), grid, theta, merge
