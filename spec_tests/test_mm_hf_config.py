"""from_hf_config and M-RoPE / vision configs: [MM-HF-1], [MM-HF-2] (docs/spec/multimodal.md).

The configs are the rope settings of the released config.json files: Qwen2-VL-7B-Instruct (``rope_scaling``
``{"type": "mrope", "mrope_section": [16, 24, 24]}``, head 3584 / 28 = 128, theta 1e6), Qwen2.5-VL's YaRN recipe
(its model card: ``{"type": "yarn", "mrope_section": [16, 24, 24], "factor": 4, "original_max_position_embeddings":
32768}``), Qwen3-VL (``{"mrope_interleaved": true, "mrope_section": [24, 20, 20], "rope_type": "default"}``, theta
5e6), Qwen3.5 (partial rotary 0.25, sections [11, 11, 10]).
"""

from __future__ import annotations

import numpy as np
import pytest

import refrope

QWEN2_VL = {"hidden_size": 3584, "num_attention_heads": 28, "rope_theta": 1000000.0,
            "max_position_embeddings": 32768, "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]}}
QWEN3_VL_TEXT = {"model_type": "qwen3_vl_text", "head_dim": 128, "hidden_size": 4096, "num_attention_heads": 32,
                 "rope_theta": 5000000, "rope_scaling": {"mrope_interleaved": True, "mrope_section": [24, 20, 20],
                                                         "rope_type": "default"}}


def test_qwen2_vl_legacy_mrope_is_default():
    """[MM-HF-1] Qwen2-VL's legacy type "mrope": default frequencies theta^(-2i/128), sections [16, 24, 24] in pairs,
    blocked; the config is not modified."""
    before = repr(QWEN2_VL)
    f = refrope.from_hf_config(QWEN2_VL)
    assert f.variant == "default" and f.params["mrope_section"] == [16, 24, 24] and f.params["mrope_mode"] == "blocked"
    assert np.allclose(f.inv_freq, 1e6 ** (-np.arange(0, 128, 2) / 128), rtol=1e-15, atol=0)
    assert repr(QWEN2_VL) == before


def test_mrope_beside_rope_type_default_and_v5_keys():
    """[MM-HF-1] "type": "mrope" beside "rope_type": "default" (a transformers 5 save), and rope_parameters with
    rope_type default plus mrope_section, read the same."""
    both = {**QWEN2_VL, "rope_scaling": {"type": "mrope", "rope_type": "default", "mrope_section": [16, 24, 24]}}
    v5 = {**QWEN2_VL, "rope_scaling": None,
          "rope_parameters": {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [16, 24, 24]}}
    assert refrope.from_hf_config(both) == refrope.from_hf_config(QWEN2_VL) == refrope.from_hf_config(v5)


def test_qwen2_5_vl_yarn_recipe():
    """[MM-HF-1] YaRN with mrope_section: the yarn frequencies (factor 4, L = 32768) with the blocked sections."""
    config = {**QWEN2_VL, "max_position_embeddings": 128000,
              "rope_scaling": {"type": "yarn", "mrope_section": [16, 24, 24], "factor": 4,
                               "original_max_position_embeddings": 32768}}
    f = refrope.from_hf_config(config)
    plain = refrope.inv_freq("yarn", 128, theta=1e6, factor=4, original_max_position_embeddings=32768)
    assert f.variant == "yarn" and np.array_equal(f.inv_freq, plain.inv_freq)
    assert f.attention_factor == plain.attention_factor and f.params["mrope_section"] == [16, 24, 24]


def test_qwen3_vl_interleaved():
    """[MM-HF-1] mrope_interleaved true: mode interleaved; a Qwen3-VL model type without the key is interleaved too
    (transformers' Qwen3-VL rotary always interleaves), and false there is refused; other model types without it
    are blocked."""
    assert refrope.from_hf_config(QWEN3_VL_TEXT).params["mrope_mode"] == "interleaved"
    rope = {"mrope_section": [24, 20, 20], "rope_type": "default"}
    assert refrope.from_hf_config({**QWEN3_VL_TEXT, "rope_scaling": rope}).params["mrope_mode"] == "interleaved"
    with pytest.raises(ValueError, match="always"):
        refrope.from_hf_config({**QWEN3_VL_TEXT, "rope_scaling": {**rope, "mrope_interleaved": False}})
    other = {**QWEN3_VL_TEXT, "model_type": "qwen2_5_vl_text", "rope_scaling": rope}
    assert refrope.from_hf_config(other).params["mrope_mode"] == "blocked"


def test_qwen3_5_partial_rotary():
    """[MM-HF-1] Qwen3.5: head_dim 256, partial_rotary_factor 0.25: rotary dim 64, sections [11, 11, 10] sum to 32."""
    config = {"model_type": "qwen3_5_text", "head_dim": 256, "rope_parameters": {
        "rope_type": "default", "rope_theta": 10000000, "partial_rotary_factor": 0.25,
        "mrope_section": [11, 11, 10], "mrope_interleaved": True}}
    f = refrope.from_hf_config(config)
    assert f.rotary_dim == 64 and f.params["mrope_section"] == [11, 11, 10]


@pytest.mark.parametrize("rope, match", [
    ({"type": "mrope"}, "needs mrope_section"), ({"mrope_interleaved": True}, "needs mrope_section"),
    ({"type": "mrope", "mrope_section": [32, 48, 48]}, "sum to the rotary dimension / 2 = 64.*pairs, not dimensions"),
    ({"type": "mrope", "mrope_section": [16, 24]}, "three non-negative integers"),
    ({"type": "mrope", "mrope_section": [16, 24, 24.0]}, "three non-negative integers"),
    ({"type": "mrope", "mrope_section": [16, 24, 24], "mrope_interleaved": "yes"}, "must be a bool"),
])
def test_bad_mrope_configs(rope, match):
    """[MM-HF-1] mrope without sections, sections in dimensions, of the wrong length or type, a non-bool
    mrope_interleaved: errors naming the key."""
    with pytest.raises((ValueError, TypeError), match=match):
        refrope.from_hf_config({**QWEN2_VL, "rope_scaling": rope})


@pytest.mark.parametrize("config, match", [
    ({"head_dim": 64, "rope_parameters": {"rope_type": "axial", "rope_theta": 10000.0}}, "'axial'.*not one of them"),
    ({"model_type": "qwen2_vl_vision", "head_dim": 80}, r"vision_rope\('qwen2_vl'"),
    ({"model_type": "pixtral", "head_dim": 64}, r"vision_rope\('pixtral'"),
    ({"model_type": "llama4_vision_model", "head_dim": 88}, r"vision_rope\('llama4'"),
    ({"model_type": "sam3_vit_model", "head_dim": 64}, "'sam3_vit_model'.*not one of them"),
    ({"model_type": "mlcd_vision_model", "head_dim": 64}, "mlcd_vision_model"),
    ({"model_type": "eomt_dinov3", "head_dim": 64}, "eomt_dinov3"),
    ({"head_dim": 64, "rope_scaling": {"type": "sam3"}}, "type='sam3'"),
    ({"head_dim": 64, "rope_parameters": {"rope_type": "eomt_dinov3"}}, "rope_type='eomt_dinov3'"),
])
def test_vision_rotaries_are_refused_or_pointed_to_vision_rope(config, match):
    """[MM-HF-2] A vision tower (rope type axial or a vision model name; a vision model type of transformers 5.24)
    is refused with a ValueError naming it, and pointing to vision_rope's kind for Qwen2-VL, Pixtral and Llama 4."""
    with pytest.raises(ValueError, match=match) as info:
        refrope.from_hf_config(config)
    assert "vision tower" in str(info.value)


ERNIE_VL_TEXT = {"model_type": "ernie4_5_vl_moe_text", "head_dim": 128, "hidden_size": 2560,
                 "num_attention_heads": 20, "max_position_embeddings": 131072,
                 "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0, "mrope_section": [22, 22, 20]}}


def _ernie_recomposition(section, pairs):
    """transformers 5.24 Ernie4_5_VLMoeTextRotaryEmbedding, written out on stream indices: inv_freq stored as the
    even-, then the odd-indexed of the first h + w natural frequencies, then the last t; split [h, w, t], the
    chunks taking position rows 1, 2, 0; h and w stacked pair by pair, then t."""
    h, w, t = section
    natural = np.arange(pairs)
    stored = np.concatenate([natural[:h + w][0::2], natural[:h + w][1::2], natural[h + w:]])
    chunk_h, chunk_w, chunk_t = stored[:h], stored[h:h + w], stored[h + w:]
    order = np.concatenate([np.stack([chunk_h, chunk_w], axis=-1).reshape(-1), chunk_t])
    rows = np.concatenate([np.tile([1, 2], h), np.zeros(t, dtype=int)])
    return order, rows


def test_ernie_4_5_vl_reads_as_its_engine_table():
    """[MM-HF-1] [MM-ENG-1] Ernie-4.5-VL: natural-order default frequencies (theta 5e5, d = 128), sections [h, w, t]
    kept, mode the engine table "ernie45_vl"; its map equals transformers' recomposition written out (which puts
    natural pair i back in slot i); the default sections apply when the dict has none; the config is unchanged."""
    before = repr(ERNIE_VL_TEXT)
    f = refrope.from_hf_config(ERNIE_VL_TEXT)
    assert f.variant == "default" and f.params["mrope_mode"] == "ernie45_vl"
    assert f.params["mrope_section"] == [22, 22, 20]
    assert np.allclose(f.inv_freq, 500000.0 ** (-np.arange(0, 128, 2) / 128), rtol=1e-15, atol=0)
    order, rows = _ernie_recomposition([22, 22, 20], 64)
    assert order.tolist() == list(range(64))
    axes = refrope.multimodal.engine_axes("ernie45_vl", f.params["mrope_section"], rotary_dim=f.rotary_dim)
    assert axes.tolist() == rows.tolist()
    bare = {**ERNIE_VL_TEXT, "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}}
    assert refrope.from_hf_config(bare) == f
    assert repr(ERNIE_VL_TEXT) == before


@pytest.mark.parametrize(("rope", "words"), [
    ({"rope_type": "yarn", "factor": 2.0, "rope_theta": 5e5, "mrope_section": [22, 22, 20]}, ["default", "yarn"]),
    ({"rope_type": "default", "rope_theta": 5e5, "mrope_section": [20, 22, 22]}, ["h and w", "[20, 22, 22]"]),
    ({"rope_type": "default", "rope_theta": 5e5, "mrope_section": [22, 22, 10]}, ["d/2 = 64", "[22, 22, 10]"]),
    ({"rope_type": "default", "rope_theta": 5e5, "mrope_section": [22, 22, 20], "mrope_interleaved": True},
     ["mrope_interleaved"]),
])
def test_ernie_4_5_vl_refusals(rope, words):
    """[MM-HF-1] Ernie-4.5-VL: another rope type (transformers raises), h != w, sections not summing to d/2, and
    mrope_interleaved (not read by its rotary) are ValueErrors naming the problem."""
    with pytest.raises(ValueError) as info:
        refrope.from_hf_config({**ERNIE_VL_TEXT, "rope_parameters": rope})
    assert all(word in str(info.value) for word in words), str(info.value)


def _interleaved_recomposition(section, pairs):
    """transformers 5.24 Qwen3VLTextRotaryEmbedding.recomposition_frequencies on stream indices: start from t, then
    overwrite slice(1, 3 s_h, 3) by h and slice(2, 3 s_w, 3) by w."""
    rows = np.zeros(pairs, dtype=int)
    for axis, offset in ((1, 1), (2, 2)):
        rows[offset:section[axis] * 3:3] = axis
    return rows


@pytest.mark.parametrize("section", [[11, 11, 10], [24, 20, 20], [2, 3, 1]])
def test_interleaved_sections_short_of_d_give_t_the_rest(section):
    """[MM-HF-1] Interleaved sections summing to less than d/2 (Qwen4-Exp's default [11, 11, 10] at full rotary,
    128 pairs): the returned sections give t the remainder, and their map is transformers' recomposition; blocked
    sections short of d/2 stay an error (transformers' split fails)."""
    config = {**QWEN3_VL_TEXT, "head_dim": 256,
              "rope_scaling": {"mrope_interleaved": True, "mrope_section": section, "rope_type": "default"}}
    f = refrope.from_hf_config(config)
    assert f.params["mrope_section"] == [section[0] + 128 - sum(section), *section[1:]]
    assert refrope.mrope_axes(f.params["mrope_section"], "interleaved").tolist() == _interleaved_recomposition(
        section, 128).tolist()
    blocked = {**config, "model_type": "qwen2_vl_text", "rope_scaling": {"mrope_section": section,
                                                                         "rope_type": "default"}}
    with pytest.raises(ValueError, match="must sum to the rotary dimension / 2 = 128"):
        refrope.from_hf_config(blocked)


def test_an_engine_mode_is_pointed_to_its_table():
    """[MM-HF-1] [MM-ENG-1] Handing Ernie's mode to the Qwen rules (mrope_axes, apply_mrope) is a ValueError that
    names engine_axes; with engine_axes and apply_rope_nd the config rotates as its table says."""
    f = refrope.from_hf_config(ERNIE_VL_TEXT)
    section, mode = f.params["mrope_section"], f.params["mrope_mode"]
    with pytest.raises(ValueError, match="engine_axes"):
        refrope.mrope_axes(section, mode)
    positions = np.array([[3.0], [5.0], [7.0]])
    with pytest.raises(ValueError, match="engine_axes"):
        refrope.apply_mrope(np.ones((1, 128)), positions, f, sections=section, mode=mode)
    axes = refrope.multimodal.engine_axes(mode, section, rotary_dim=128)
    got = refrope.apply_rope_nd(np.ones((1, 128)), positions, f, axes=axes, layout="interleaved")
    angle = positions[axes, 0] * f.inv_freq
    want = np.stack([np.cos(angle) - np.sin(angle), np.cos(angle) + np.sin(angle)], axis=-1).reshape(1, 128)
    assert np.allclose(got, want, rtol=0, atol=1e-12)
