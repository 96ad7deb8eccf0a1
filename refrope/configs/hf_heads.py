"""The head dimension D and the rotary dimension d of a transformers config, read as transformers 5.24 reads
them for the config's model type.

Spec: docs/spec/hf_config.md, clauses [H-HEAD-1], [H-PARTIAL-1], [H-ALIAS-1].
Source: transformers 5.24 ``modeling_rope_utils.py`` (``int(head_dim * partial_rotary_factor)``), each
model's ``compute_default_rope_parameters`` and the configuration classes named in
:mod:`refrope.configs.hf_model_types`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._validation import _short, check_int, check_real
from . import hf_model_types as types

__all__ = ["rotary_dim", "head_dim", "layer_head_dim"]

_MAX_HEAD_DIM = 1 << 20  # guards memory against absurd dimensions; no model comes near
_PER_LAYER_UNREAD = ("rope_parameters", "rope_scaling", "rope_theta", "partial_rotary_factor", "qk_rope_head_dim",
                     "max_position_embeddings", "original_max_position_embeddings")  # a per-layer override may not
_PER_LAYER_SHAPE = ("hidden_size", "num_attention_heads")  # nor these, where they give the head dimension
_HEAD_DIM_WINS = frozenset({"deepseek_v4", "dots3_note", "dots3_note_text", "longcat_flash", "mistral4"})
"""Model types with both ``head_dim`` and ``qk_rope_head_dim`` whose rotary reads ``head_dim``."""


def dim(name: str, value: Any) -> int:
    value = check_int(name, value, minimum=1)
    if value > _MAX_HEAD_DIM:
        raise ValueError(f"{name} must be <= {_MAX_HEAD_DIM}, got {value}")
    return value


def rotary_dim(config: Mapping, rope: Mapping, rope_type: str, partial: Any, layer_type: str | None) -> int:
    """d: ``int(D * partial_rotary_factor)`` (``D`` for proportional; the ``rotary_dim`` key for GPT-J and
    CodeGen), even and >= 2 [H-HEAD-1] [H-PARTIAL-1]."""
    kind = types.model_type(config)
    if kind in types.ROTARY_DIM_KEY:
        value = config.get("rotary_dim")
        return dim("rotary_dim", value if value is not None else types.get(config, "hidden_size"))
    head = head_dim(config, layer_type)
    if partial is None and kind in types.QK_SUM_HEAD_DIM and config.get("qk_rope_head_dim") is not None:
        partial = dim("qk_rope_head_dim", config["qk_rope_head_dim"]) / head  # Mistral4Config's default
    partial = check_real("partial_rotary_factor", 1.0 if partial is None else partial, minimum=0.0, maximum=1.0)
    rotary = head if rope_type == "proportional" else int(head * partial)
    if rotary < 2 or rotary % 2:
        raise ValueError(f"the rotary dimension int(head_dim * partial_rotary_factor) = int({head} * "
                         f"{partial}) = {rotary} must be even and >= 2")
    return rotary


def head_dim(config: Mapping, layer_type: str | None) -> int:
    """D for the config's model type [H-HEAD-1]: ``qk_rope_head_dim`` (multi-head latent attention);
    ``qk_nope_head_dim + qk_rope_head_dim`` (Mistral 4); for a ``layer_type``, its ``per_layer_config`` or
    ``global_head_dim`` (Gemma4); ``head_dim``; else ``hidden_size // num_attention_heads``, each key read
    through the model type's alias. A config of unknown model type that sets both ``head_dim`` and
    ``qk_rope_head_dim``, differently, is ambiguous (``ValueError``)."""
    kind = types.model_type(config)
    rope_part = config.get("qk_rope_head_dim")
    if kind in types.QK_SUM_HEAD_DIM and rope_part is not None and config.get("qk_nope_head_dim") is not None:
        return dim("qk_nope_head_dim + qk_rope_head_dim",
                   check_int("qk_nope_head_dim", config["qk_nope_head_dim"], minimum=0) + dim("qk_rope_head_dim",
                                                                                               rope_part))
    if kind in types.MLA_HEAD_DIM and rope_part is not None:
        return dim("qk_rope_head_dim", rope_part)
    per_layer = layer_head_dim(config, layer_type)
    if per_layer is not None:
        return per_layer
    own = types.get(config, "head_dim")
    if rope_part is not None and kind not in _HEAD_DIM_WINS:
        if own is not None and own != rope_part:
            raise ValueError(f"the config sets head_dim={_short(own)} and qk_rope_head_dim={_short(rope_part)}, and "
                             f"model_type {kind!r} is not one whose reading refrope knows: which one the rotary "
                             "uses is ambiguous")
        return dim("qk_rope_head_dim", rope_part)
    if own is not None:
        return dim("head_dim", own)
    if kind in types.CLASS_HEAD_DIM:
        raise ValueError(f"head_dim is missing, and model_type {kind!r} does not derive it: its configuration class "
                         f"supplies head_dim={types.CLASS_HEAD_DIM[kind]} when config.json omits it (pass it)")
    hidden, heads = types.get(config, "hidden_size"), types.get(config, "num_attention_heads")
    if hidden is None or heads is None:
        hint = " (a multimodal config keeps them in its text_config)" if "text_config" in config else ""
        raise ValueError(f"the head dimension needs head_dim, or hidden_size and num_attention_heads; got "
                         f"head_dim=None, hidden_size={_short(hidden)}, num_attention_heads={_short(heads)}{hint}")
    hidden = check_int("hidden_size", hidden, minimum=1)
    return dim("hidden_size // num_attention_heads", hidden // check_int("num_attention_heads", heads, minimum=1))


def layer_types(config: Mapping) -> tuple:
    values = config.get("layer_types")
    if values is None:
        return ()
    if not isinstance(values, (list, tuple)) or not all(isinstance(t, str) for t in values):
        raise TypeError(f"layer_types must be a list of strings, got {_short(values)}")
    return tuple(values)


def layer_head_dim(config: Mapping, layer_type: str | None) -> int | None:
    """Gemma4: the ``head_dim`` that ``per_layer_config`` gives every layer of ``layer_type``, else
    ``global_head_dim`` for full-attention layers [H-HEAD-1]."""
    if layer_type is None:
        return None
    overrides = config.get("per_layer_config")
    if overrides is None:
        value = config.get("global_head_dim") if layer_type == "full_attention" else None
        return None if value is None else dim("global_head_dim", value)
    if not isinstance(overrides, Mapping):
        raise TypeError(f"per_layer_config must be a dict, got {_short(overrides)}")
    kinds, by_index = layer_types(config), {}
    for key, value in overrides.items():
        index = int(key) if isinstance(key, int) or (isinstance(key, str) and key.isascii() and key.isdigit()) else -1
        if not 0 <= index < len(kinds) or not isinstance(value, Mapping):
            raise ValueError(f"per_layer_config entry {key!r}: {_short(value)} must map a layer index "
                             f"below len(layer_types) = {len(kinds)} to a dict")
        by_index[index] = dict(value)
    chosen = [by_index.get(i, {}) for i, kind in enumerate(kinds) if kind == layer_type]
    unread = _PER_LAYER_UNREAD + (_PER_LAYER_SHAPE if types.get(config, "head_dim") is None else ())
    unread = sorted({key for entry in chosen for key in entry if key in unread})
    if unread:
        raise ValueError(f"per_layer_config overrides {unread} for {layer_type!r}; only head_dim is read per layer")
    dims = [entry.get("head_dim") for entry in chosen]
    if any(value != dims[0] for value in dims):
        raise ValueError(f"per_layer_config gives the layers of type {layer_type!r} different head_dim: {dims}")
    value = dims[0] if dims else None
    return None if value is None else dim("per_layer_config head_dim", value)
