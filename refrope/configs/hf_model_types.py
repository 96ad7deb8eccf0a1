"""What one transformers model type changes in how its ``config.json`` is read: key aliases, the head
dimension, and the model types whose rotary embedding is not one axis of text positions.

Every table here is a fact about transformers 5.24's configuration and modeling files, checked against
the installed transformers by ``spec_tests/test_hf_model_types.py``; a new release that changes one
shows up there as a failure.

Spec: docs/spec/hf_config.md, clauses [H-ALIAS-1], [H-HEAD-1], [H-MODEL-1].
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["ALIASES", "MLA_HEAD_DIM", "QK_SUM_HEAD_DIM", "CLASS_HEAD_DIM", "ROTARY_DIM_KEY", "MULTI_AXIS",
           "NOT_TEXT", "UNREAD_TYPES", "MULTI_AXIS_KEYS", "model_type", "get", "rejection"]

ALIASES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    # model_type: {the name transformers' rope code reads: the config.json key behind it}
    # (the ``attribute_map`` of each configuration class, restricted to the keys a RoPE reader uses)
    "bailing_hybrid": {"max_position_embeddings": "model_max_length"},
    "codegen": {"max_position_embeddings": "n_positions", "hidden_size": "n_embd", "num_attention_heads": "n_head"},
    "dbrx": {"num_attention_heads": "n_heads", "hidden_size": "d_model", "max_position_embeddings": "max_seq_len"},
    "glm4_moe_lite": {"head_dim": "qk_rope_head_dim"},
    "gptj": {"max_position_embeddings": "n_positions", "hidden_size": "n_embd", "num_attention_heads": "n_head"},
    "jetmoe": {"head_dim": "kv_channels"},
    "moonshine": {"num_attention_heads": "decoder_num_attention_heads"},
    "zamba2": {"head_dim": "attention_head_dim"},
})
"""Key aliases per model type ([H-ALIAS-1]); transformers ``configuration_<model>.py`` (``attribute_map``)."""

MLA_HEAD_DIM = frozenset({
    # configuration classes that set ``head_dim = qk_rope_head_dim`` whatever config.json says
    "axk1", "axk2", "bailing_hybrid", "deepseek_v2", "deepseek_v3", "deepseek_v32", "glm5_next", "glm_moe_dsa",
    "hy_v4", "hy_v4_vl", "hy_v4_vl_text", "kimi_linear", "minicpm3", "mistral_large4", "mistral_large4_text",
    "sarvam_mla", "youtu",
})
"""Model types whose head dimension is ``qk_rope_head_dim`` (multi-head latent attention) ([H-HEAD-1])."""

QK_SUM_HEAD_DIM = frozenset({"mistral4"})
"""Model types whose head dimension is ``qk_nope_head_dim + qk_rope_head_dim`` and whose default
``partial_rotary_factor`` is ``qk_rope_head_dim`` over it (``Mistral4Config``) ([H-HEAD-1])."""

CLASS_HEAD_DIM: Mapping[str, int] = MappingProxyType({
    # model_type: the head_dim its configuration class supplies when config.json omits the key
    "afmoe": 128, "beam": 128, "cohere2_moe": 128, "cosmos3_edge_text": 128, "cwm": 128, "deepseek_v4": 512,
    "dia_decoder": 128, "diffusion_gemma_text": 256, "dory": 256, "dots3_note_text": 256, "embedding_gemma2_text": 256,
    "ernie4_5": 128, "flint": 128, "gemma": 256, "gemma2": 256, "gemma3_text": 256, "gemma3n_text": 256,
    "gemma4_text": 256, "gemma4_unified_text": 256, "glm": 128, "glm4": 128, "gpt_oss": 64, "helium": 128,
    "higgs_audio_v2": 128, "hrm_text": 128, "hy_v3": 128, "kolibri1": 128, "laguna": 128, "lara_mini": 128,
    "lfm3": 128, "llama4_text": 128, "longcat_flash": 64, "mellum": 128, "mimo_v2_flash": 192, "minimax_m2": 128,
    "minimax_m3_vl_text": 128, "ministral3": 128, "molmo2_text": 128, "muse_glimmer_assistant": 128,
    "muse_glimmer_text": 128, "muse_spark_text": 64, "neomme": 64, "neucodec": 64, "openai_privacy_filter": 64,
    "paddleocr_vl_text": 128, "pe_audio_encoder": 128, "pe_audio_video_encoder": 128, "pe_video_encoder": 128,
    "qwen2_5_omni_dit": 64, "qwen3": 128, "qwen3_5_moe_text": 256, "qwen3_5_text": 256, "qwen3_next": 256,
    "qwen3_vl_text": 128, "qwen4_exp_text": 256, "seed_oss": 128, "solar_open": 128, "step3p5": 128,
    "t5_gemma_module": 256, "t5gemma2_text": 256, "timesfm2_5": 80, "vaultgemma": 256, "xcodec2": 64, "zaya": 128,
})
"""Model types whose configuration class defaults ``head_dim`` (a dataclass field default): a dict without it
cannot tell D, so it is an error ([H-HEAD-1])."""

ROTARY_DIM_KEY = frozenset({"gptj", "codegen"})
"""Model types whose rotary dimension is the ``rotary_dim`` key itself, with theta 10000
(``create_sinusoidal_positions`` in ``modeling_gptj.py`` / ``modeling_codegen.py``) ([H-HEAD-1])."""

_MULTI_AXIS_TEXT = ("cohere_compass", "cosmos3_edge", "ernie4_5_vl_moe", "glm4v", "glm4v_moe", "glm_image", "glm_ocr",
                    "hy_v4_vl", "paddleocr_vl", "qwen2_5_omni", "qwen2_5_vl", "qwen2_vl", "qwen3_5", "qwen3_5_moe",
                    "qwen3_omni_moe", "qwen3_vl", "qwen3_vl_moe", "qwen4_exp")
MULTI_AXIS = frozenset(_MULTI_AXIS_TEXT + tuple(f"{name}_text" for name in _MULTI_AXIS_TEXT))
"""Model types whose text rotary module rotates by several position axes (M-RoPE: its ``mrope_section``
defaults in the modeling file even when config.json omits it) ([H-MODEL-1])."""

NOT_TEXT = frozenset({
    # vision towers (2-D patch positions), image matchers and audio-time rotaries built on their own configs
    "cohere_compass_vision", "dots3_note_vision_encoder", "edgetam_video", "efficientloftr", "eomt_dinov3",
    "ernie4_5_vl_moe_vision", "exaone4_5_vision", "gemma4_vision", "glm4v_moe_vision", "glm4v_vision",
    "glm5_next_vision", "glm_ocr_vision", "inkling2_vision", "kimi_k25_vision", "lfm3_vl_vision",
    "llama4_vision_model", "minimax_m3_vl_vision", "mlcd_vision_model", "muse_glimmer_vision",
    "muse_spark_vision", "musicflamingo", "paddleocr_vl_vision", "pixtral", "qwen2_5_omni_vision_encoder",
    "qwen2_5_vl_vision", "qwen2_vl_vision", "qwen3_5_moe_vision", "qwen3_5_vision", "qwen3_omni_moe_vision_encoder",
    "qwen3_vl_moe_vision", "qwen3_vl_vision", "qwen4_exp_vision", "sam2_video", "sam3_tracker_video",
    "sam3_vit_model", "step3p5_vision", "video_llama_3_vision",
})
"""Model types whose rotary module is not a 1-D text rotary ([H-MODEL-1])."""


def model_type(config: Mapping) -> str | None:
    """The config's ``model_type`` when it is a string, else None."""
    value = config.get("model_type")
    return value if isinstance(value, str) else None


def get(config: Mapping, name: str) -> Any:
    """``config[name]`` as transformers reads it for this model type: through its alias ([H-ALIAS-1]).

    Both the alias and the name present and different is a ``ValueError``.

    >>> get({"model_type": "jetmoe", "kv_channels": 128}, "head_dim")
    128
    """
    alias = ALIASES.get(model_type(config) or "", {}).get(name)
    if alias is None:
        return config.get(name)
    value, own = config.get(alias), config.get(name)
    if value is not None and own is not None and value != own:
        raise ValueError(f"model_type {model_type(config)!r} reads {name} from {alias}; the config sets both "
                         f"{alias}={value!r} and {name}={own!r}")
    return own if value is None else value


UNREAD_TYPES: Mapping[str, str] = MappingProxyType({
    # rope types transformers or vLLM define whose rotation is not one axis of text positions
    "mrope": "M-RoPE (Qwen2-VL's legacy type: several position axes)",
    "openpangu": "interleaved M-RoPE (vLLM openPangu)",
    "bailing_mrope": "M-RoPE (vLLM Bailing)",
    "xdrope": "XD-RoPE (vLLM Hunyuan-VL: several position axes)",
    "mllama4": "2-D vision RoPE (vLLM Llama 4 vision tower)",
    "axial": "2-D axial vision RoPE (transformers SAM3 ViT)",
})
"""Rope types refrope rejects, with the feature named in the error ([H-MODEL-1])."""

MULTI_AXIS_KEYS = ("mrope_section", "mrope_interleaved", "xdrope_section")
"""Rope-dict keys that make a rotary multi-axis, whatever its rope type ([H-MODEL-1])."""


def rejection(config: Mapping, rope: Mapping, rope_type: str, *, mrope: bool = False) -> str | None:
    """Why refrope cannot read this rotary from its config (None: it can) ([H-MODEL-1]).

    ``mrope`` says the config's M-RoPE keys were read (:mod:`refrope.configs.hf_mrope`, [MM-HF-1]): an M-RoPE
    model type is then read; without them (its model class supplies ``mrope_section``) it is refused.
    """
    kind = model_type(config)
    keys = [key for key in MULTI_AXIS_KEYS if rope.get(key) is not None]
    if rope_type in UNREAD_TYPES:
        return f"rope_type {rope_type!r} is {UNREAD_TYPES[rope_type]}; from_hf_config reads one-axis text RoPE only"
    if keys or (kind in MULTI_AXIS and not mrope):
        why = f"the rope dict sets {keys}" if keys else f"model_type {kind!r} defaults mrope_section in its model"
        return f"M-RoPE (several position axes): {why}; from_hf_config reads one-axis text RoPE only"
    if kind in NOT_TEXT:
        return (f"model_type {kind!r} has a vision or audio rotary embedding (2-D patch or time positions), "
                "not a text RoPE; from_hf_config reads one-axis text RoPE only")
    return None
