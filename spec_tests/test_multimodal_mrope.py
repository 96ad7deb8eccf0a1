"""M-RoPE and the engine tables: [MM-AXES-1] to [MM-AXES-3], [MM-MROPE-1] to [MM-MROPE-3], [MM-ENG-1], [MM-ENG-2].

Expected maps are written out from the sources' descriptions: transformers' blocked recomposition of Qwen2-VL is
``cat(freq[0][..., 0:16], freq[1][..., 16:40], freq[2][..., 40:64])``; Qwen3-VL starts from T and overwrites
``slice(1, 3 s_h, 3)`` with H and ``slice(2, 3 s_w, 3)`` with W; ggml's sector rules are spelt out per pair.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import refrope
from refrope.multimodal import ENGINE_TABLES, engine_axes, engine_freqs

from .strategies import small_floats


def test_qwen2_vl_blocked_map():
    """[MM-AXES-1] Qwen2-VL [16, 24, 24]: pairs 0-15 t, 16-39 h, 40-63 w (sections in pairs, index not reset)."""
    expected = [0] * 16 + [1] * 24 + [2] * 24
    assert refrope.mrope_axes([16, 24, 24]).tolist() == expected
    assert refrope.mrope_axes((16, 24, 24), mode="blocked").dtype == np.int64


@given(sections=st.lists(st.integers(0, 9), min_size=1, max_size=5).filter(lambda s: sum(s) > 0))
def test_blocked_map_is_the_cumulative_rule(sections):
    """[MM-AXES-1] Blocked: axis a exactly for sum(s[:a]) <= i < sum(s[:a+1]), any number of axes."""
    axes = refrope.mrope_axes(sections)
    bounds = np.cumsum([0, *sections])
    assert axes.tolist() == [a for i in range(sum(sections)) for a in range(len(sections))
                             if bounds[a] <= i < bounds[a + 1]]


def test_qwen3_vl_interleaved_map():
    """[MM-AXES-2] Qwen3-VL [24, 20, 20]: T everywhere, H on 1, 4, ..., 58, W on 2, 5, ..., 59; pairs 60-63 stay T;
    each axis gets its section's count."""
    expected = np.zeros(64, dtype=int)
    expected[1:60:3] = 1
    expected[2:60:3] = 2
    axes = refrope.mrope_axes([24, 20, 20], mode="interleaved")
    assert axes.tolist() == expected.tolist()
    assert np.bincount(axes).tolist() == [24, 20, 20]
    assert axes[60:].tolist() == [0, 0, 0, 0]


@given(s_t=st.integers(0, 12), s_h=st.integers(0, 12), s_w=st.integers(0, 12))
def test_interleaved_rule_and_its_counts(s_t, s_h, s_w):
    """[MM-AXES-2] Interleaved: the rule pair by pair; each axis gets its section's count exactly when
    3 s_h <= d/2 + 1 and 3 s_w <= d/2."""
    pairs = s_t + s_h + s_w
    if pairs == 0:
        return
    axes = refrope.mrope_axes([s_t, s_h, s_w], mode="interleaved").tolist()
    rule = [1 if i % 3 == 1 and i < 3 * s_h else 2 if i % 3 == 2 and i < 3 * s_w else 0 for i in range(pairs)]
    assert axes == rule
    exact = np.bincount(axes, minlength=3).tolist() == [s_t, s_h, s_w]
    assert exact == (3 * s_h <= pairs + 1 and 3 * s_w <= pairs)


@pytest.mark.parametrize("sections, mode, match", [
    ([16, -1, 24], "blocked", ">= 0"), ([], "blocked", "at least one"), ([0, 0, 0], "blocked", "sum to d/2 >= 1"),
    ([2.0, 1.0, 1.0], "blocked", "integers"), ([4, 4], "interleaved", "three entries"),
    ([True, 1, 1], "blocked", "integers"),
])
def test_bad_sections_name_sections(sections, mode, match):
    """[MM-AXES-3] Negative, empty, zero-sum, non-integer sections, or not three for the interleaved rule: ValueError
    naming sections."""
    with pytest.raises(ValueError, match=match) as info:
        refrope.mrope_axes(sections, mode=mode)
    assert "sections" in str(info.value)


def test_unknown_mode_names_mode():
    """[MM-AXES-3] An unknown mode raises naming mode (mrope_axes and apply_mrope)."""
    with pytest.raises(ValueError, match="mode must be one of"):
        refrope.mrope_axes([1, 1, 1], mode="interleave")
    with pytest.raises(ValueError, match="mode must be one of"):
        refrope.apply_mrope(np.ones((1, 6)), np.zeros((3, 1)), [1.0, 1.0, 1.0], sections=[1, 1, 1], mode="qwen3")


@pytest.mark.parametrize("mode", refrope.multimodal.MODES)
@given(data=st.data())
def test_apply_mrope_is_apply_rope_nd(mode, data):
    """[MM-MROPE-1] apply_mrope equals apply_rope_nd with axes = mrope_axes(sections, mode), bit for bit."""
    sections = data.draw(st.lists(st.integers(0, 5), min_size=3, max_size=3).filter(lambda s: sum(s) > 0))
    d, seq = 2 * sum(sections), data.draw(st.integers(1, 4))
    x = data.draw(hnp.arrays(np.float64, (2, seq, d + 2), elements=small_floats))
    pos = data.draw(hnp.arrays(np.int64, (3, seq), elements=st.integers(0, 2**20)))
    layout = data.draw(st.sampled_from(refrope.LAYOUTS))
    f = refrope.inv_freq("default", d, theta=1e6)
    got = refrope.apply_mrope(x, pos, f, sections=sections, mode=mode, layout=layout, rotary_offset=1)
    want = refrope.apply_rope_nd(x, pos, f, axes=refrope.mrope_axes(sections, mode), layout=layout, rotary_offset=1)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("sections, rows, match", [
    ([32, 48, 48], 3, "sum to d/2 = 64.*in dimensions"), ([16, 24, 23], 3, "sum to d/2 = 64"),
    ([16, 24, 24], 2, "3 entries but positions has 2 rows"), ([16, -24, 72], 3, ">= 0"),
])
def test_apply_mrope_errors_name_sections(sections, rows, match):
    """[MM-MROPE-1] Sections in dimensions (sum d), a wrong sum, a count other than positions.shape[0], a negative
    entry: ValueError naming sections."""
    f = refrope.inv_freq("default", 128, theta=1e6)
    with pytest.raises(ValueError, match=match) as info:
        refrope.apply_mrope(np.ones((1, 128)), np.zeros((rows, 1)), f, sections=sections)
    assert "sections" in str(info.value)


@pytest.mark.parametrize("sections, mode", [([16, 24, 24], "blocked"), ([24, 20, 20], "interleaved"),
                                            ([5, 0, 3], "blocked"), ([1, 4, 3], "interleaved")])
@given(data=st.data())
def test_text_tokens_reduce_to_rope(sections, mode, data):
    """[MM-MROPE-2] With t = h = w, apply_mrope equals apply_rope with those positions, bit for bit."""
    d = 2 * sum(sections)
    seq = data.draw(st.integers(1, 5))
    x = data.draw(hnp.arrays(np.float32, (seq, d), elements=small_floats.map(np.float32)))
    p = data.draw(hnp.arrays(np.int64, seq, elements=st.integers(0, 2**20)))
    layout = data.draw(st.sampled_from(refrope.LAYOUTS))
    f = refrope.inv_freq("yarn", d, theta=1e6, factor=4.0, original_max_position_embeddings=32768)
    got = refrope.apply_mrope(x, np.stack([p, p, p]), f, sections=sections, mode=mode, layout=layout)
    assert np.array_equal(got, refrope.apply_rope(x, p, f, layout=layout))


def test_qwen3_5_partial_rotary():
    """[MM-MROPE-3] Qwen3.5: partial_rotary_factor 0.25 of head_dim 256 = 64 rotated coordinates, sections
    [11, 11, 10], interleaved: the first 64 coordinates are M-RoPE, the other 192 pass through unchanged; at
    rotary_offset 8 the slice moves."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 256))
    pos = rng.integers(0, 5000, (3, 4))
    f = refrope.inv_freq("default", 64, theta=1e7)
    out = refrope.apply_mrope(x, pos, f, sections=[11, 11, 10], mode="interleaved")
    assert np.array_equal(out[:, 64:], x[:, 64:])
    head = refrope.apply_mrope(x[:, :64], pos, f, sections=[11, 11, 10], mode="interleaved")
    assert np.array_equal(out[:, :64], head)
    moved = refrope.apply_mrope(x, pos, f, sections=[11, 11, 10], mode="interleaved", rotary_offset=8)
    inner = refrope.apply_mrope(x[:, 8:72], pos, f, sections=[11, 11, 10], mode="interleaved")
    assert np.array_equal(moved[:, 8:72], inner) and np.array_equal(moved[:, :8], x[:, :8])


def test_engine_tables_registry():
    """[MM-ENG-1] Every named engine table is there, with its streams, layout and a source; the Qwen tables are
    mrope_axes."""
    assert set(ENGINE_TABLES) == {"mrope", "imrope", "ggml_mrope", "ggml_imrope", "ggml_vision", "ernie45_vl",
                                  "bailing", "xdrope", "openpangu", "rotary_embedding_torch_axial"}
    assert all(t.source and t.summary and t.layout in refrope.LAYOUTS for t in ENGINE_TABLES.values())
    assert engine_axes("mrope", [16, 24, 24], rotary_dim=128).tolist() == refrope.mrope_axes([16, 24, 24]).tolist()
    assert engine_axes("imrope", [24, 20, 20], rotary_dim=128).tolist() == \
        refrope.mrope_axes([24, 20, 20], "interleaved").tolist()
    with pytest.raises(ValueError, match="name must be one of"):
        engine_axes("qwen", [1, 1, 1], rotary_dim=6)
    with pytest.raises(ValueError, match="4 entries"):
        engine_axes("ggml_mrope", [16, 24, 24], rotary_dim=128)
    with pytest.raises(ValueError, match="sum to d/2 = 3"):
        engine_axes("xdrope", [1, 1, 1, 1], rotary_dim=6)


def test_vllm_tables_by_hand():
    """[MM-ENG-1] Ernie-4.5-VL [h, w, t] = [22, 22, 20] and Bailing [t, h, w] = [20, 22, 22]: pairs 0-43 alternate
    h, w, pairs 44-63 t; XD-RoPE: one block per stream; openPangu [4, 2, 2]: t h w t h w t, then t last."""
    spatial = [1, 2] * 22 + [0] * 20
    assert engine_axes("ernie45_vl", [22, 22, 20], rotary_dim=128).tolist() == spatial
    assert engine_axes("bailing", [20, 22, 22], rotary_dim=128).tolist() == spatial
    assert engine_axes("xdrope", [2, 1, 1, 2], rotary_dim=12).tolist() == [0, 0, 1, 2, 3, 3]
    assert engine_axes("openpangu", [4, 2, 2], rotary_dim=16).tolist() == [0, 1, 2, 0, 1, 2, 0, 0]
    assert engine_axes("openpangu", [3, 3], rotary_dim=12).tolist() == [0, 1, 0, 1, 0, 1]
    with pytest.raises(ValueError, match="same number of pairs"):
        engine_axes("ernie45_vl", [20, 22, 22], rotary_dim=128)


def test_restarting_frequencies():
    """[MM-ENG-1] ggml VISION: theta^(-2j/(d/2)) restarting per section (n_dims = head/2); rotary-embedding-torch
    axial: each axis its own RotaryEmbedding(2 s_a), theta^(-2j/(2 s_a)); the others RoPE's theta^(-2i/d)."""
    theta = 10000.0
    j = np.arange(16)
    vision = engine_freqs("ggml_vision", [16, 16, 0, 0], rotary_dim=64, theta=theta).inv_freq
    assert np.allclose(vision, np.concatenate([theta ** (-2 * j / 32)] * 2), rtol=1e-15)
    axial = engine_freqs("rotary_embedding_torch_axial", [4, 2], rotary_dim=12, theta=theta).inv_freq
    assert np.allclose(axial, [theta ** (-2 * k / 8) for k in range(4)] + [theta ** (-2 * k / 4) for k in range(2)],
                       rtol=1e-15)
    plain = engine_freqs("ernie45_vl", [2, 2, 2], rotary_dim=12, theta=theta).inv_freq
    assert np.array_equal(plain, refrope.inv_freq("default", 12, theta=theta).inv_freq)
    tower = refrope.vision_rope("qwen2_vl", head_dim=80, grid=(2, 2))  # ggml VISION is the Qwen2-VL tower's map
    assert engine_axes("ggml_vision", [20, 20, 0, 0], rotary_dim=80).tolist() == tower.axes.tolist()
    assert np.allclose(engine_freqs("ggml_vision", [20, 20, 0, 0], rotary_dim=80).inv_freq, tower.freqs, rtol=1e-15)


def test_ggml_imrope_fourth_stream():
    """[MM-ENG-2] ggml IMROPE with Qwen3-VL's [24, 20, 20, 0]: pairs 61 and 62 go to the fourth stream e; with
    llama.cpp's text positions [p, p, p, 0] they stay unrotated, so t = h = w does not reduce to RoPE (while the
    transformers/vLLM rule does); ggml MROPE blocked sends sectors past s0 + s1 + s2 to e."""
    axes = engine_axes("ggml_imrope", [24, 20, 20, 0], rotary_dim=128)
    assert np.flatnonzero(axes == 3).tolist() == [61, 62]
    assert (axes[:61] == refrope.mrope_axes([24, 20, 20], "interleaved")[:61]).all()
    f = refrope.inv_freq("default", 128, theta=5e6)
    x = np.random.default_rng(0).standard_normal((3, 128))
    p = np.array([5, 6, 7])
    text = np.stack([p, p, p, np.zeros(3, dtype=int)])
    out = refrope.apply_rope_nd(x, text, f, axes=axes)
    rope = refrope.apply_rope(x, p, f)
    differs = [i for i in range(64) if not np.array_equal(out[:, [i, i + 64]], rope[:, [i, i + 64]])]
    assert differs == [61, 62] and np.array_equal(out[:, [61, 62, 125, 126]], x[:, [61, 62, 125, 126]])
    assert engine_axes("ggml_mrope", [2, 1, 1, 2], rotary_dim=12).tolist() == [0, 0, 1, 2, 3, 3]
    assert engine_axes("ggml_mrope", [1, 1, 1, 0], rotary_dim=12).tolist() == [0, 1, 2, 0, 1, 2]  # sectors cycle
