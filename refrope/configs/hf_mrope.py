"""M-RoPE keys of a transformers config, and the vision towers :func:`refrope.from_hf_config` does not model.

:func:`split` takes ``mrope_section`` and ``mrope_interleaved`` out of a rope dict (the legacy type
``"mrope"`` means default frequencies) before the frequency variant is read; :func:`attach` puts them on the
result as ``params["mrope_section"]`` (pairs) and ``params["mrope_mode"]``. A vision tower's 2-D rotary
(rope type ``"axial"``, or a vision model type) is not a 1-D frequency vector: it is refused, naming the
:func:`refrope.vision_rope` kind that models it where there is one.

Spec: docs/spec/multimodal.md [MM-HF-1], [MM-HF-2]. Source: transformers 5.24
``models/qwen2_vl/configuration_qwen2_vl.py`` (``convert_rope_params_to_dict``: ``"mrope"`` becomes
``"default"``), ``models/qwen3_vl/configuration_qwen3_vl.py`` (``ignore_keys_at_rope_validation``), and the
vision configurations with ``default_rope_type = "axial"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._validation import _short
from ..frequencies.base import Frequencies
from ..multimodal.engines import engine_axes

__all__ = ["INTERLEAVED_MODEL_TYPES", "DEFAULT_SECTIONS", "VISION_MODEL_TYPES", "VISION_ROPE_TYPES", "split",
           "attach"]

INTERLEAVED_MODEL_TYPES = ("qwen3_vl", "qwen3_vl_text", "qwen3_vl_moe", "qwen3_vl_moe_text", "qwen3_5",
                           "qwen3_5_text", "qwen3_5_moe", "qwen3_5_moe_text", "qwen3_omni_moe",
                           "qwen3_omni_moe_thinker", "qwen3_omni_moe_text", "cosmos3_edge", "cosmos3_edge_text",
                           "hy_v4_vl", "hy_v4_vl_text", "qwen4_exp", "qwen4_exp_text")
"""Model types whose transformers text rotary always interleaves (``mrope_interleaved`` is not read there)."""

_DEFAULT_SECTIONS = {
    "qwen2_vl": [16, 24, 24], "qwen2_5_vl": [16, 24, 24], "qwen2_5_omni": [16, 24, 24], "paddleocr_vl": [16, 24, 24],
    "qwen3_vl": [24, 20, 20], "qwen3_vl_moe": [24, 20, 20], "qwen3_omni_moe": [24, 20, 20],
    "qwen3_omni_moe_thinker": [24, 20, 20], "cosmos3_edge": [24, 20, 20], "hy_v4_vl": [24, 20, 20],
    "qwen3_5": [11, 11, 10], "qwen3_5_moe": [11, 11, 10], "qwen4_exp": [11, 11, 10],
    "glm4v": [8, 12, 12], "glm4v_moe": [8, 12, 12], "glm_image": [8, 12, 12], "glm_ocr": [8, 12, 12],
    "ernie4_5_vl_moe": [22, 22, 20],  # [h, w, t]: the engine table ernie45_vl
}
DEFAULT_SECTIONS = {**_DEFAULT_SECTIONS, **{f"{name}_text": section for name, section in _DEFAULT_SECTIONS.items()}}
"""The ``mrope_section`` a model type's text rotary uses when its config has none: transformers 5.24 reads
``config.rope_parameters.get("mrope_section", <default>)`` in each ``models/<type>/modeling_<type>.py``."""

VISION_KINDS_BY_MODEL_TYPE = {
    "qwen2_vl_vision": "qwen2_vl", "qwen2_5_vl_vision": "qwen2_vl", "qwen3_vl_vision": "qwen2_vl",
    "qwen3_vl_moe_vision": "qwen2_vl", "qwen3_5_vision": "qwen2_vl", "qwen3_5_moe_vision": "qwen2_vl",
    "pixtral": "pixtral", "llama4_vision_model": "llama4",
}
VISION_MODEL_TYPES = (*VISION_KINDS_BY_MODEL_TYPE, "cohere_compass_vision", "dots3_note_vision_encoder",
                      "edgetam_video", "ernie4_5_vl_moe_vision", "exaone4_5_vision", "gemma4_vision", "glm4v_vision",
                      "glm4v_moe_vision", "glm5_next_vision", "glm_image_vision", "glm_ocr_vision", "inkling2_vision",
                      "kimi_k25_vision", "lfm3_vl_vision", "minimax_m3_vl_vision", "mlcd_vision_model",
                      "muse_glimmer_vision", "muse_spark_vision", "paddleocr_vl_vision",
                      "qwen2_5_omni_vision_encoder", "qwen3_omni_moe_vision_encoder", "qwen4_exp_vision",
                      "sam2_video", "sam3_vit_model", "sam3_tracker_video", "step3p5_vision", "video_llama_3_vision",
                      "eomt_dinov3", "dinov3_vit")
"""Model types of vision towers with a 2-D rotary in transformers 5.24 (every ``default_rope_type = "axial"``
configuration, the DINOv3 family and Llama 4's vision model)."""

VISION_ROPE_TYPES = ("axial", "sam3", "mlcd", "eomt_dinov3", "dinov3", "mllama4", "vision", "2d")
"""Rope types that name a 2-D vision rotary (transformers' ``"axial"``; the model names some configs use)."""


def _vision_error(what: str, model_type: Any) -> ValueError:
    kind = VISION_KINDS_BY_MODEL_TYPE.get(model_type)
    use = (f"use refrope.vision_rope({kind!r}, head_dim=..., grid=..., theta=...) for its positions, axes and "
           "frequencies" if kind else "refrope models the vision rotaries of 'qwen2_vl', 'pixtral' and 'llama4' "
           "(refrope.vision_rope); this tower is not one of them")
    return ValueError(f"{what} is a vision tower's 2-D rotary, not one frequency per pair of a text model: "
                      f"from_hf_config does not read it; {use}")


ENGINE_TABLE_MODEL_TYPES = {"ernie4_5_vl_moe": "ernie45_vl", "ernie4_5_vl_moe_text": "ernie45_vl"}
"""M-RoPE model types whose text rotary is an engine table of :data:`refrope.multimodal.ENGINE_TABLES` rather than
a Qwen rule: transformers 5.24 ``models/ernie4_5_vl_moe/modeling_ernie4_5_vl_moe.py`` stores ``inv_freq``
permuted (h on the even-indexed, w on the odd-indexed frequencies of the first h + w pairs, t on the last) and its
``recomposition_frequencies`` undoes the permutation: pair :math:`i < s_h + s_w` of the natural order follows h
(even :math:`i`) or w (odd), the rest t, repeat-interleaved (the table ``ernie45_vl``, sections ``[h, w, t]``).
The result's ``mrope_mode`` names the table."""


def split(config: Mapping, rope: Mapping) -> tuple[dict, tuple[list[int], str] | None]:
    """``(rope dict without the M-RoPE keys, (mrope_section, mrope_mode) or None)`` [MM-HF-1]; vision rotaries are
    refused [MM-HF-2].

    >>> split({}, {"type": "mrope", "mrope_section": [2, 1, 1]})
    ({'type': 'default'}, ([2, 1, 1], 'blocked'))
    """
    model_type = config.get("model_type")
    if model_type in VISION_MODEL_TYPES:
        raise _vision_error(f"model_type {model_type!r}", model_type)
    rope = dict(rope)
    for key in ("rope_type", "type"):
        if rope.get(key) in VISION_ROPE_TYPES:
            raise _vision_error(f"{key}={rope[key]!r}", model_type)
    section, interleaved = rope.pop("mrope_section", None), rope.pop("mrope_interleaved", None)
    legacy = [key for key in ("rope_type", "type") if rope.get(key) == "mrope"]
    for key in legacy:
        rope[key] = "default"  # transformers' Qwen2-VL configs: "mrope" is the default frequencies
    if section is None and model_type in DEFAULT_SECTIONS:
        section = list(DEFAULT_SECTIONS[model_type])  # what the model's rotary falls back to
    if section is None:
        if legacy or interleaved is not None:
            found = "rope_type 'mrope'" if legacy else f"mrope_interleaved={interleaved!r}"
            raise ValueError(f"{found} needs mrope_section (pairs per t, h, w axis), got None")
        return rope, None
    if not isinstance(section, (list, tuple)) or len(section) != 3 or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in section):
        raise ValueError(f"mrope_section must be three non-negative integers (pairs per t, h, w axis), got "
                         f"{_short(section)}")
    if interleaved is not None and not isinstance(interleaved, bool):
        raise TypeError(f"mrope_interleaved must be a bool, got {_short(interleaved)}")
    if model_type in ENGINE_TABLE_MODEL_TYPES:
        return rope, ([int(v) for v in section], _engine_mode(model_type, interleaved))
    if model_type in INTERLEAVED_MODEL_TYPES:
        if interleaved is False:
            raise ValueError(f"mrope_interleaved=False, but transformers' {model_type!r} text rotary always "
                             "interleaves (it does not read the key)")
        interleaved = True
    return rope, ([int(v) for v in section], "interleaved" if interleaved else "blocked")


def _engine_mode(model_type: str, interleaved: Any) -> str:
    """The engine table of ``model_type`` (its rope type is checked by :func:`attach`)."""
    if interleaved is not None:
        raise ValueError(f"mrope_interleaved={interleaved!r}, but transformers' {model_type!r} text rotary does not "
                         "read it (its pair order is the engine table's)")
    return ENGINE_TABLE_MODEL_TYPES[model_type]


def attach(freqs: Frequencies, mrope: tuple[list[int], str] | None, rope_type: str = "default") -> Frequencies:
    """``freqs`` (read from a rope dict of ``rope_type``) with ``params["mrope_section"]`` and
    ``params["mrope_mode"]``, the sections checked to sum to ``d/2`` (interleaved sections summing to less give t
    the rest, as transformers does; an engine table's mode is checked by that table, with default frequencies only,
    as its transformers rotary requires) [MM-HF-1].

    >>> attach(Frequencies([1.0, 0.1], 1.0, "default", {"theta": 100.0}), ([1, 1, 0], "blocked")).params["mrope_mode"]
    'blocked'
    """
    if mrope is None:
        return freqs
    section, mode = mrope
    pairs = freqs.rotary_dim // 2
    if mode in ENGINE_TABLE_MODEL_TYPES.values():
        if rope_type != "default":
            raise ValueError(f"mrope_mode {mode!r} (Ernie-4.5-VL) rotates with default frequencies only (transformers "
                             f"raises for any other rope type), got rope_type {rope_type!r}")
        engine_axes(mode, section, rotary_dim=freqs.rotary_dim)  # the table's own checks (sum, h == w)
    elif mode == "interleaved" and sum(section) < pairs:
        # transformers' interleaved recomposition leaves the pairs past the sections on t: the same map as t's
        # section taking the remainder (mrope_axes' "interleaved" reads s_h and s_w only as bounds)
        section = [section[0] + pairs - sum(section), *section[1:]]
    elif sum(section) != pairs:
        hint = " (twice d/2: the sections count pairs, not dimensions)" if sum(section) == 2 * pairs else ""
        raise ValueError(f"mrope_section {section} must sum to the rotary dimension / 2 = {pairs}, got "
                         f"{sum(section)}{hint}")
    params = {**freqs.params, "mrope_section": list(section), "mrope_mode": mode}
    return Frequencies(freqs.inv_freq, freqs.attention_factor, freqs.variant, params)
