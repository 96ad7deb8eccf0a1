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
