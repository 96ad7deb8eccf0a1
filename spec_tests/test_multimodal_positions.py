"""M-RoPE position ids: [MM-POS-1] to [MM-POS-4] (docs/spec/multimodal.md).

Expected values are written out from the Qwen2-VL paper's description (§2.1: text ids equal on the three rows,
an image's temporal id constant, height and width ids by the token's row and column, the next modality starting
one past the largest id) and Qwen2.5-VL's absolute-time rule (§2.1.3); transformers' own get_rope_index is
compared in spec_tests/test_mm_crosscheck.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope


def test_text_image_text_by_hand():
    """[MM-POS-1] [MM-POS-3] 3 text tokens, a 1 x 4 x 4 image (2 x 2 tokens at m = 2), 2 text tokens: the image
    starts at 3 on every row, text resumes at max + 1 = 5; next_position 7, rope delta 7 - 9 = -2."""
    pos, nxt = refrope.mrope_positions([("text", 3), ("image", 1, 4, 4), ("text", 2)])
    assert pos.tolist() == [[0, 1, 2, 3, 3, 3, 3, 5, 6],
                            [0, 1, 2, 3, 3, 4, 4, 5, 6],
                            [0, 1, 2, 3, 4, 3, 4, 5, 6]]
    assert pos.dtype == np.int64 and nxt == 7 and nxt - pos.shape[1] == -2


def test_video_row_major_and_merge_size():
    """[MM-POS-1] A video t=2, 6 x 4 patches at m = 2 is 2 * 3 * 2 = 12 tokens, row-major in (t, h', w'); at m = 1 it
    is 48 tokens; Qwen3-VL's frames as ("video", 1, h, w) between timestamp text."""
    pos, _ = refrope.mrope_positions([("video", 2, 6, 4)])
    k, r, c = np.meshgrid(np.arange(2), np.arange(3), np.arange(2), indexing="ij")
    assert pos.tolist() == [k.ravel().tolist(), r.ravel().tolist(), c.ravel().tolist()]
    assert refrope.mrope_positions([("video", 2, 6, 4)], spatial_merge_size=1)[0].shape == (3, 48)
    frames, nxt = refrope.mrope_positions([("text", 2), ("video", 1, 4, 4), ("text", 2), ("video", 1, 4, 4)])
    assert frames[:, 2:6].tolist() == [[2, 2, 2, 2], [2, 2, 3, 3], [2, 3, 2, 3]]
    assert frames[:, 6:8].tolist() == [[4, 5]] * 3 and frames[:, 8:].min() == 6 and nxt == 8


def test_qwen2_5_vl_absolute_time():
    """[MM-POS-2] Qwen2.5-VL: video frame k at p + floor(k * tps * spg): tps 2, spg 0.5 -> k; tps 25, spg 2 -> 50 k;
    tps 2 with decimal or rational seconds: spg 0.3 -> floor(0.6 k) = 0, 0, 1, 1, 2, 3 (0.6 * 5 = 3 although the
    binary 0.3 is below 3/10), spg 2/3 -> floor(4 k / 3), spg 0.08 (25 fps) -> floor(0.16 k), 4 at k = 25; images
    keep k; tps None keeps k; spg defaults to 1."""
    def temporal(*segment, tps):  # 2 x 2 patches at m = 2: one token per frame
        return refrope.mrope_positions([segment], tokens_per_second=tps)[0][0].tolist()

    assert temporal("video", 5, 2, 2, 0.5, tps=2.0) == [0, 1, 2, 3, 4]
    assert temporal("video", 3, 2, 2, 2.0, tps=25) == [0, 50, 100]
    assert temporal("video", 6, 2, 2, 0.3, tps=2.0) == [0, 0, 1, 1, 2, 3]
    assert temporal("video", 7, 2, 2, 2 / 3, tps=2) == [(4 * k) // 3 for k in range(7)]
    assert temporal("video", 26, 2, 2, 0.08, tps=2)[25] == 4
    assert temporal("video", 3, 2, 2, 0.49, tps=2) == [0, 0, 1]  # 0.98 k: not within 1e-9 of an integer
    assert temporal("image", 3, 2, 2, tps=25) == [0, 1, 2]
    assert temporal("video", 3, 2, 2, 2.0, tps=None) == [0, 1, 2]
    assert temporal("video", 3, 2, 2, tps=4) == [0, 4, 8]


def test_resume_max_and_spatial():
    """[MM-POS-3] A 4-frame video of 2 x 2 tokens at p = 1: "max" resumes at 1 + 3 + 1 = 5; "spatial" (transformers
    5.x) at 1 + max(2, 2) = 3, which the video's own temporal ids 3 and 4 already use."""
    segments = [("text", 1), ("video", 4, 4, 4), ("text", 1)]
    by_max, nxt_max = refrope.mrope_positions(segments)
    by_spatial, nxt_spatial = refrope.mrope_positions(segments, resume="spatial")
    assert by_max[:, -1].tolist() == [5, 5, 5] and nxt_max == 6
    assert by_spatial[:, -1].tolist() == [3, 3, 3] and nxt_spatial == by_spatial.max() + 1 == 5
    assert 3 in by_spatial[0, 1:-1]  # the overlap
    image = [("text", 2), ("image", 1, 6, 4), ("text", 2)]  # h' = 3 > t: both rules agree on images
    assert np.array_equal(refrope.mrope_positions(image)[0], refrope.mrope_positions(image, resume="spatial")[0])


@given(segments=st.lists(st.one_of(
    st.tuples(st.just("text"), st.integers(0, 4)),
    st.tuples(st.sampled_from(["image", "video"]), st.integers(1, 3), st.sampled_from([2, 4, 6]),
              st.sampled_from([2, 4]))), max_size=5), tps=st.sampled_from([None, 2.0, 25.0]))
def test_properties(segments, tps):
    """[MM-POS-1] [MM-POS-3] For any sequence: as many tokens as the segments say; text equal on the rows and
    consecutive; with "max" every segment starts one past everything before it (ids never decrease between
    segments); next_position = max + 1; segments untouched."""
    before = [tuple(s) for s in segments]
    pos, nxt = refrope.mrope_positions(segments, tokens_per_second=tps)
    counts = [s[1] if s[0] == "text" else s[1] * (s[2] // 2) * (s[3] // 2) for s in segments]
    assert pos.shape == (3, sum(counts)) and segments == before
    assert nxt == (pos.max() + 1 if pos.size else 0)
    start = 0
    for seg, n in zip(segments, counts):
        block = pos[:, start:start + n]
        if n and start:
            assert block.min() == pos[:, :start].max() + 1
        if seg[0] == "text" and n:
            assert (block == block[0]).all() and (np.diff(block[0]) == 1).all()
        start += n


@pytest.mark.parametrize("segments, match", [
    ([("audio", 3)], r"segments\[0\]"), ([("text",)], r"segments\[0\].*takes 1"),
    ([("image", 1, 4)], r"takes 3"), ([("image", 1, 4, 4, 1.0)], r"takes 3"),
    ([("text", 1), ("video", 0, 4, 4)], r"segments\[1\].*t must be >= 1"),
    ([("image", 1, 1, 4)], r"at least one token"), ([("video", 1, 4, 4, 0.0)], r"second_per_grid_t must be > 0"),
    ([("text", 2.5)], r"n must be an integer"), ([("text", -1)], "n must be >= 0"), ("text", "sequence of segment"),
    (None, "sequence of segment"), ([["image", 1, 4.0, 4]], "h must be an integer"),
])
def test_bad_segments_name_the_segment(segments, match):
    """[MM-POS-4] Unknown kind, wrong arity, non-positive or non-integer sizes, a grid below one merge window, a
    non-positive second_per_grid_t, a bare string: ValueError naming segments[i]."""
    with pytest.raises(ValueError, match=match):
        refrope.mrope_positions(segments)


def test_bad_options_name_themselves():
    """[MM-POS-4] spatial_merge_size, tokens_per_second and resume are checked and named."""
    with pytest.raises(ValueError, match="spatial_merge_size must be >= 1"):
        refrope.mrope_positions([("text", 1)], spatial_merge_size=0)
    with pytest.raises(ValueError, match="tokens_per_second must be > 0"):
        refrope.mrope_positions([("text", 1)], tokens_per_second=0)
    with pytest.raises(ValueError, match="resume must be one of"):
        refrope.mrope_positions([("text", 1)], resume="min")
    assert refrope.mrope_positions([])[1] == 0
