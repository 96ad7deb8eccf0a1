"""Where a transformers config keeps its rope settings: the rope dict (flat, nested per layer type, v4 or
v5), the rope type, ``rope_theta`` and the head dimension, read as transformers 5.24 reads them.

Spec: docs/spec/hf_config.md, clauses [H-V4V5-1], [H-TYPE-1], [H-NEST-1], [H-HEAD-1].
Source: transformers 5.24 ``modeling_rope_utils.py`` (``RotaryEmbeddingConfigMixin.standardize_rope_params``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._validation import _short, check_real
from ..frequencies.registry import VARIANTS
from . import hf_model_types as types
from .hf_heads import layer_types

__all__ = ["VARIANT_OF", "CONFIG_TYPES", "variant_of", "rope_entry", "rope_type", "aliased", "theta"]

VARIANT_OF = {v.hf_type: name for name, v in VARIANTS.items() if v.hf_type is not None}
"""transformers rope_type -> refrope variant, from the registry ([H-MAP-1])."""
CONFIG_TYPES = tuple(sorted({*VARIANT_OF, *(t for v in VARIANTS.values() for t in v.config_types)}))
"""Every rope type a config may name (transformers' and vLLM's), from the registry ([H-MAP-1], [H-VLLM-1])."""
_LEGACY_TYPES = {"su": "longrope"}  # Phi-3's v4 name (transformers Phi3Config, vLLM) [H-TYPE-1]
_PHI3_MODELS = ("phi3", "phi4_multimodal")  # their configs also read "yarn" as "longrope" [H-TYPE-1]


def variant_of(rope_type: str, rope: Mapping) -> str:
    """The registry variant a rope type reads as: among the variants naming it (``hf_type`` or
    ``config_types``), the one whose ``config_key`` the rope dict sets, else the one without a key
    ([H-MAP-1], [H-VLLM-1])."""
    named = [v for v in VARIANTS.values() if v.hf_type == rope_type or rope_type in v.config_types]
    keyed = [v.name for v in named if v.config_key is not None and rope.get(v.config_key) is not None]
    return keyed[0] if keyed else next(v.name for v in named if v.config_key is None)


def is_nested(config: Mapping, rope: Mapping) -> bool:
    types = layer_types(config)
    return any(isinstance(value, Mapping) or key in types for key, value in rope.items())


def rope_source(config: Mapping) -> tuple[str, Mapping]:
    """``rope_parameters`` (v5) or ``rope_scaling`` (v4); Gemma3's ``rope_local_base_freq`` [H-V4V5-1], [H-NEST-1]."""
    found = []
    for name in ("rope_parameters", "rope_scaling"):
        value = config.get(name)
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict or null, got {_short(value)}")
        if value:
            found.append((name, value))
    if len(found) == 2 and dict(found[0][1]) != dict(found[1][1]):
        raise ValueError(f"config sets both rope_parameters={_short(found[0][1])} and "
                         f"rope_scaling={_short(found[1][1])}, and they differ")
    name, rope = found[0] if found else ("rope_parameters", {})
    if config.get("rope_local_base_freq") is not None and not is_nested(config, rope):
        rope = {"full_attention": rope, "sliding_attention": {"rope_type": "default"}}
    if types.model_type(config) == "deepseek_v4" and not is_nested(config, rope):
        rope = _deepseek_v4_entries(config, rope)
    return name, rope


def _deepseek_v4_entries(config: Mapping, rope: Mapping) -> dict:
    """DeepSeek-V4's flat rope dict as ``DeepseekV4Config`` nests it: ``main`` (default RoPE, ``rope_theta``) and
    ``compress`` (the flat dict, ``compress_rope_theta``, YaRN magnitude 1 unless given) [H-NEST-1]."""
    missing = [key for key in ("head_dim", "compress_rope_theta") if config.get(key) is None]
    if missing:
        raise ValueError(f"model_type 'deepseek_v4' with a flat rope dict needs {missing} (DeepseekV4Config supplies "
                         "class defaults a config dict cannot tell)")
    partial = config.get("partial_rotary_factor")
    if partial is None and config.get("qk_rope_head_dim") is not None:
        partial = config["qk_rope_head_dim"] / check_real("head_dim", config["head_dim"], minimum=1.0)
    shared = {} if partial is None else {"partial_rotary_factor": partial}
    compress = {**rope, "rope_theta": config["compress_rope_theta"], **shared}
    if compress.get("rope_type") is None and compress.get("type") is None:
        compress["rope_type"] = "default"
    if "yarn" in (compress.get("rope_type"), compress.get("type")):
        compress.setdefault("attention_factor", 1.0)
    main = {"rope_type": "default", **shared}
    if config.get("rope_theta") is not None:
        main["rope_theta"] = config["rope_theta"]
    return {"main": main, "compress": compress}


def rope_entry(config: Mapping, layer_type: str | None) -> tuple[str, dict, bool]:
    """``(where, rope dict of the layer type, nested)``; the dict is a fresh copy [H-NEST-1]."""
    name, rope = rope_source(config)
    types = layer_types(config)
    if not is_nested(config, rope):
        if layer_type is not None and layer_type not in types:
            raise ValueError(f"layer_type={layer_type!r} is not in the config's layer_types {list(types)} "
                             f"(its {name} is one dict for every layer)")
        return name, dict(rope), False
    entries = [key for key, value in rope.items() if isinstance(value, Mapping) or key in types]
    others = [key for key in rope if key not in entries and key != "truncate"]
    if others:
        raise ValueError(f"{name} mixes per-layer-type entries {entries} with the keys {others}; "
                         "only 'truncate' may sit beside the entries")
    if layer_type is None or layer_type not in entries:
        raise ValueError(f"{name} is per layer type: layer_type must be one of {entries}, got {layer_type!r}")
    where, entry = f"{name}[{layer_type!r}]", rope[layer_type]
    if entry is None:
        raise ValueError(f"{where} is null: layers of type {layer_type!r} have no RoPE")
    if not isinstance(entry, Mapping):
        raise TypeError(f"{where} must be a dict, got {_short(entry)}")
    entry = dict(entry)
    if entry.get("truncate") is None and rope.get("truncate") is not None:
        entry["truncate"] = rope["truncate"]
    return where, entry, True


def rope_type(config: Mapping, rope: Mapping) -> str:
    """``rope_type`` or its v4 spelling ``type``, legacy names resolved [H-TYPE-1]."""
    names = []
    for key in ("rope_type", "type"):
        value = rope.get(key)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{key} must be a string, got {_short(value)}")
        if value is not None:
            value = _LEGACY_TYPES.get(value, value)
            names.append("longrope" if value == "yarn" and config.get("model_type") in _PHI3_MODELS else value)
    if len(set(names)) > 1:
        raise ValueError(f"rope_type={rope['rope_type']!r} conflicts with its legacy spelling type={rope['type']!r}")
    rope_type = names[0] if names else "default"
    if rope_type not in CONFIG_TYPES and rope_type not in types.UNREAD_TYPES:
        raise ValueError(f"rope_type must be one of {list(CONFIG_TYPES)} (or the legacy 'su'), got {rope_type!r}")
    return rope_type


def aliased(rope: Mapping, config: Mapping, name: str, alias: str, default: Any) -> Any:
    """``rope[name]``, else the top-level ``name`` or its alias (both set and different: error) [H-PARTIAL-1]."""
    if rope.get(name) is not None:
        return rope[name]
    value, other = config.get(name), config.get(alias)
    if value is not None and other is not None and value != other:
        raise ValueError(f"config sets both {name}={_short(value)} and its alias {alias}={_short(other)}")
    value = other if value is None else value
    return default if value is None else value


def theta(config: Mapping, rope: Mapping, layer_type: str | None) -> float:
    """The entry's ``rope_theta``; Gemma3's sliding layers fall back to ``rope_local_base_freq`` [H-NEST-1]."""
    local = config.get("rope_local_base_freq") if layer_type == "sliding_attention" else None
    if rope.get("rope_theta") is None and local is not None:
        rope = {"rope_theta": local}
    theta = aliased(rope, config, "rope_theta", "rotary_emb_base", 10000.0)
    return check_real("rope_theta", theta, minimum=0.0, strict_minimum=True)
