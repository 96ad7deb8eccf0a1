"""Where a transformers config keeps its rope settings: the rope dict (flat, nested per layer type, v4 or
v5), the rope type, ``rope_theta`` and the head dimension, read as transformers 5.24 reads them.

Spec: docs/spec/hf_config.md, clauses [H-V4V5-1], [H-TYPE-1], [H-NEST-1], [H-HEAD-1].
Source: transformers 5.24 ``modeling_rope_utils.py`` (``RotaryEmbeddingConfigMixin.standardize_rope_params``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._validation import _short, check_int, check_real
from ..frequencies.registry import VARIANTS

__all__ = ["VARIANT_OF", "rope_entry", "rope_type", "aliased", "theta", "head_dim"]

VARIANT_OF = {v.hf_type: name for name, v in VARIANTS.items() if v.hf_type is not None}
"""transformers rope_type -> refrope variant, from the registry ([H-MAP-1])."""
_LEGACY_TYPES = {"su": "longrope"}  # Phi-3's v4 name (transformers Phi3Config, vLLM) [H-TYPE-1]
_PHI3_MODELS = ("phi3", "phi4_multimodal")  # their configs also read "yarn" as "longrope" [H-TYPE-1]
_MAX_HEAD_DIM = 1 << 20  # guards memory against absurd dimensions; no model comes near
_PER_LAYER_UNREAD = ("rope_parameters", "rope_scaling", "rope_theta", "partial_rotary_factor", "qk_rope_head_dim",
                     "hidden_size", "num_attention_heads", "max_position_embeddings",
                     "original_max_position_embeddings")  # keys a per-layer override may not change


def layer_types(config: Mapping) -> tuple:
    types = config.get("layer_types")
    if types is None:
        return ()
    if not isinstance(types, (list, tuple)) or not all(isinstance(t, str) for t in types):
        raise TypeError(f"layer_types must be a list of strings, got {_short(types)}")
    return tuple(types)


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
    return name, rope


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
    if rope_type not in VARIANT_OF:
        raise ValueError(f"rope_type must be one of {sorted(VARIANT_OF)} (or the legacy 'su'), got {rope_type!r}")
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


def dim(name: str, value: Any) -> int:
    value = check_int(name, value, minimum=1)
    if value > _MAX_HEAD_DIM:
        raise ValueError(f"{name} must be <= {_MAX_HEAD_DIM}, got {value}")
    return value


def head_dim(config: Mapping, layer_type: str | None) -> int:
    """D: ``qk_rope_head_dim``, a per-layer head_dim, ``head_dim``, else ``hidden_size // num_attention_heads``
    [H-HEAD-1]."""
    if config.get("qk_rope_head_dim") is not None:
        return dim("qk_rope_head_dim", config["qk_rope_head_dim"])
    per_layer = layer_head_dim(config, layer_type)
    if per_layer is not None:
        return per_layer
    if config.get("head_dim") is not None:
        return dim("head_dim", config["head_dim"])
    hidden, heads = config.get("hidden_size"), config.get("num_attention_heads")
    if hidden is None or heads is None:
        hint = " (a multimodal config keeps them in its text_config)" if "text_config" in config else ""
        raise ValueError(f"the head dimension needs head_dim, or hidden_size and num_attention_heads; got "
                         f"head_dim=None, hidden_size={_short(hidden)}, num_attention_heads={_short(heads)}{hint}")
    hidden = check_int("hidden_size", hidden, minimum=1)
    return dim("hidden_size // num_attention_heads", hidden // check_int("num_attention_heads", heads, minimum=1))


def layer_head_dim(config: Mapping, layer_type: str | None) -> int | None:
    """Gemma4: ``per_layer_config`` overrides of the layers of ``layer_type``, else ``global_head_dim`` for
    full-attention layers [H-HEAD-1]."""
    if layer_type is None:
        return None
    overrides = config.get("per_layer_config")
    if overrides is None:
        value = config.get("global_head_dim") if layer_type == "full_attention" else None
        return None if value is None else dim("global_head_dim", value)
    if not isinstance(overrides, Mapping):
        raise TypeError(f"per_layer_config must be a dict, got {_short(overrides)}")
    types, by_index = layer_types(config), {}
    for key, value in overrides.items():
        index = int(key) if isinstance(key, int) or (isinstance(key, str) and key.isascii() and key.isdigit()) else -1
        if not 0 <= index < len(types) or not isinstance(value, Mapping):
            raise ValueError(f"per_layer_config entry {key!r}: {_short(value)} must map a layer index "
                             f"below len(layer_types) = {len(types)} to a dict")
        by_index[index] = dict(value)
    chosen = [by_index.get(i, {}) for i, kind in enumerate(types) if kind == layer_type]
    if any(other != chosen[0] for other in chosen):
        raise ValueError(f"per_layer_config gives the layers of type {layer_type!r} different overrides: {chosen}")
    unread = [key for key in (chosen[0] if chosen else {}) if key in _PER_LAYER_UNREAD]
    if unread:
        raise ValueError(f"per_layer_config overrides {unread} for {layer_type!r}; only head_dim is read per layer")
    value = chosen[0].get("head_dim") if chosen else None
    return None if value is None else dim("per_layer_config head_dim", value)
