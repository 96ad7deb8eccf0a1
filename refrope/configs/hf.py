r"""Translation of Hugging Face ``config.json`` dicts into :class:`refrope.Frequencies`.

:func:`from_hf_config` reads a model configuration the way transformers 5.24 does
(``rope_parameters``, or the v4 ``rope_scaling``; flat, or nested per layer type), maps the
transformers ``rope_type`` to a :data:`refrope.VARIANTS` entry and calls :func:`refrope.inv_freq`.
It derives no formula itself. The reading rules, the refrope parameter behind every HF key, and
the two places where refrope reads a config differently from transformers are specified in
docs/spec/hf_config.md, clauses ``[H-*]``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import _short, check_int, check_real
from ..frequencies.base import Frequencies
from ..frequencies.registry import VARIANTS, inv_freq

__all__ = ["from_hf_config"]

_VARIANT_OF = {v.hf_type: name for name, v in VARIANTS.items() if v.hf_type is not None}
"""transformers rope_type -> refrope variant, from the registry ([H-MAP-1])."""
_LEGACY_TYPES = {"su": "longrope"}  # Phi-3's v4 name (transformers Phi3Config, vLLM) [H-TYPE-1]
_PHI3_MODELS = ("phi3", "phi4_multimodal")  # their configs also read "yarn" as "longrope" [H-TYPE-1]
_MAX_HEAD_DIM = 1 << 20  # guards memory against absurd dimensions; no model comes near
_PER_LAYER_UNREAD = ("rope_parameters", "rope_scaling", "rope_theta", "partial_rotary_factor", "qk_rope_head_dim",
                     "hidden_size", "num_attention_heads", "max_position_embeddings",
                     "original_max_position_embeddings")  # keys a per-layer override may not change


def from_hf_config(
    config: Mapping[str, Any], *, seq_len: int | None = None, layer_type: str | None = None
) -> Frequencies:
    r"""The :class:`Frequencies` transformers 5.24 builds for a model's ``config.json``.

    With :math:`D` the head dimension, :math:`\rho` = ``partial_rotary_factor`` (default 1),
    :math:`\theta` = ``rope_theta`` (default 10000), :math:`M` = ``max_position_embeddings``
    and :math:`L` = ``original_max_position_embeddings``:

    .. math:: d = \lfloor D\rho \rfloor \ (\text{proportional: } d = D),\qquad
              \text{result} = \texttt{inv\_freq}(\text{variant}(\texttt{rope\_type}),\ d,\ \theta,\ \dots)

    with ``default``/``linear``/``llama3``/``proportional`` mapped to the same names,
    ``dynamic`` to ``dynamic_ntk`` with :math:`L = M` and ``seq_len`` :math:`= M` when None,
    ``yarn`` with :math:`k = M/L` when ``factor`` is null, and ``longrope`` with :math:`k = M/L`
    when null and the long factors iff ``seq_len`` :math:`> L`. A missing key and a JSON null
    are the same. Nothing in ``config`` is modified.

    Parameters
    ----------
    config : dict
        A parsed ``config.json`` (v4 ``rope_scaling``/``type`` or v5 ``rope_parameters``).
    seq_len : int, optional
        The current length (dynamic, longrope); None is what transformers computes at initialisation.
    layer_type : str, optional
        The entry of a per-layer-type ``rope_parameters`` (e.g. ``"sliding_attention"``).

    Returns
    -------
    Frequencies
        ``inv_freq`` of shape ``(d // 2,)`` (``(D // 2,)`` for proportional) and ``attention_factor``.

    Notes
    -----
    Malformed configs raise ``ValueError`` or ``TypeError`` naming the key and the value.
    Spec: [H-MAP-1], [H-V4V5-1], [H-TYPE-1], [H-NEST-1], [H-HEAD-1], [H-PARTIAL-1], [H-ORIG-1],
    [H-DYN-1], [H-YARN-1], [H-TRUNC-1], [H-LONG-1], [H-FACTOR-1], [H-ERR-1].
    Source: transformers 5.24 ``modeling_rope_utils.py`` (``ROPE_INIT_FUNCTIONS``,
    ``RotaryEmbeddingConfigMixin.standardize_rope_params``) and the Phi3, GPT-NeoX, Gemma3,
    Gemma4 and DeepSeek-V3 configuration classes.

    Examples
    --------
    >>> f = from_hf_config({"head_dim": 4, "rope_theta": 100.0, "rope_scaling": {"type": "linear", "factor": 2.0}})
    >>> f.variant, f.inv_freq
    ('linear', array([0.5 , 0.05]))
    >>> neox = {"hidden_size": 32, "num_attention_heads": 4, "rotary_pct": 0.5, "rotary_emb_base": 100}
    >>> from_hf_config(neox).inv_freq
    array([1. , 0.1])
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict (a parsed config.json), got {_short(config)}")
    if seq_len is not None:
        seq_len = check_int("seq_len", seq_len, minimum=0)
    if layer_type is not None and not isinstance(layer_type, str):
        raise TypeError(f"layer_type must be a string or None, got {_short(layer_type)}")
    where, rope, nested = _rope_entry(config, layer_type)
    try:
        rope_type = _rope_type(config, rope)
        where = f"{where} (rope_type {rope_type!r})"
        partial = _aliased(rope, config, "partial_rotary_factor", "rotary_pct", 1.0)
        partial = check_real("partial_rotary_factor", partial, minimum=0.0, maximum=1.0)
        head_dim = _head_dim(config, layer_type)
        rotary_dim = head_dim if rope_type == "proportional" else int(head_dim * partial)
        if rotary_dim < 2 or rotary_dim % 2:
            raise ValueError(f"the rotary dimension int(head_dim * partial_rotary_factor) = int({head_dim} * "
                             f"{partial}) = {rotary_dim} must be even and >= 2")
        params = _params(rope_type, rope, config, nested, seq_len, partial)
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            return inv_freq(_VARIANT_OF[rope_type], rotary_dim, theta=_theta(config, rope, layer_type), **params)
    except ArithmeticError as exc:  # float overflow of absurd values (numpy or math)
        raise ValueError(f"reading {where}: the parameters overflow float64 ({exc})") from exc
    except (TypeError, ValueError) as exc:
        raise (ValueError if isinstance(exc, ValueError) else TypeError)(f"reading {where}: {exc}") from exc


def _layer_types(config: Mapping) -> tuple:
    types = config.get("layer_types")
    if types is None:
        return ()
    if not isinstance(types, (list, tuple)) or not all(isinstance(t, str) for t in types):
        raise TypeError(f"layer_types must be a list of strings, got {_short(types)}")
    return tuple(types)


def _is_nested(config: Mapping, rope: Mapping) -> bool:
    types = _layer_types(config)
    return any(isinstance(value, Mapping) or key in types for key, value in rope.items())


def _rope_source(config: Mapping) -> tuple[str, Mapping]:
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
    if config.get("rope_local_base_freq") is not None and not _is_nested(config, rope):
        rope = {"full_attention": rope, "sliding_attention": {"rope_type": "default"}}
    return name, rope


def _rope_entry(config: Mapping, layer_type: str | None) -> tuple[str, dict, bool]:
    """``(where, rope dict of the layer type, nested)``; the dict is a fresh copy [H-NEST-1]."""
    name, rope = _rope_source(config)
    types = _layer_types(config)
    if not _is_nested(config, rope):
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


def _rope_type(config: Mapping, rope: Mapping) -> str:
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
    if rope_type not in _VARIANT_OF:
        raise ValueError(f"rope_type must be one of {sorted(_VARIANT_OF)} (or the legacy 'su'), got {rope_type!r}")
    return rope_type


def _aliased(rope: Mapping, config: Mapping, name: str, alias: str, default: Any) -> Any:
    """``rope[name]``, else the top-level ``name`` or its alias (both set and different: error) [H-PARTIAL-1]."""
    if rope.get(name) is not None:
        return rope[name]
    value, other = config.get(name), config.get(alias)
    if value is not None and other is not None and value != other:
        raise ValueError(f"config sets both {name}={_short(value)} and its alias {alias}={_short(other)}")
    value = other if value is None else value
    return default if value is None else value


def _theta(config: Mapping, rope: Mapping, layer_type: str | None) -> float:
    """The entry's ``rope_theta``; Gemma3's sliding layers fall back to ``rope_local_base_freq`` [H-NEST-1]."""
    local = config.get("rope_local_base_freq") if layer_type == "sliding_attention" else None
    if rope.get("rope_theta") is None and local is not None:
        rope = {"rope_theta": local}
    theta = _aliased(rope, config, "rope_theta", "rotary_emb_base", 10000.0)
    return check_real("rope_theta", theta, minimum=0.0, strict_minimum=True)


def _dim(name: str, value: Any) -> int:
    value = check_int(name, value, minimum=1)
    if value > _MAX_HEAD_DIM:
        raise ValueError(f"{name} must be <= {_MAX_HEAD_DIM}, got {value}")
    return value


def _head_dim(config: Mapping, layer_type: str | None) -> int:
    """D: ``qk_rope_head_dim``, a per-layer head_dim, ``head_dim``, else ``hidden_size // num_attention_heads``
    [H-HEAD-1]."""
    if config.get("qk_rope_head_dim") is not None:
        return _dim("qk_rope_head_dim", config["qk_rope_head_dim"])
    per_layer = _layer_head_dim(config, layer_type)
    if per_layer is not None:
        return per_layer
    if config.get("head_dim") is not None:
        return _dim("head_dim", config["head_dim"])
    hidden, heads = config.get("hidden_size"), config.get("num_attention_heads")
    if hidden is None or heads is None:
        hint = " (a multimodal config keeps them in its text_config)" if "text_config" in config else ""
        raise ValueError(f"the head dimension needs head_dim, or hidden_size and num_attention_heads; got "
                         f"head_dim=None, hidden_size={_short(hidden)}, num_attention_heads={_short(heads)}{hint}")
    hidden = check_int("hidden_size", hidden, minimum=1)
    return _dim("hidden_size // num_attention_heads", hidden // check_int("num_attention_heads", heads, minimum=1))


def _layer_head_dim(config: Mapping, layer_type: str | None) -> int | None:
    """Gemma4: ``per_layer_config`` overrides of the layers of ``layer_type``, else ``global_head_dim`` for
    full-attention layers [H-HEAD-1]."""
    if layer_type is None:
        return None
    overrides = config.get("per_layer_config")
    if overrides is None:
        value = config.get("global_head_dim") if layer_type == "full_attention" else None
        return None if value is None else _dim("global_head_dim", value)
    if not isinstance(overrides, Mapping):
        raise TypeError(f"per_layer_config must be a dict, got {_short(overrides)}")
    types, by_index = _layer_types(config), {}
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
    return None if value is None else _dim("per_layer_config head_dim", value)


def _required(rope: Mapping, key: str, rope_type: str) -> Any:
    if rope.get(key) is None:
        raise ValueError(f"rope_type {rope_type!r} requires {key!r}, got {_short(rope.get(key))}")
    return rope[key]


def _max_positions(config: Mapping, why: str) -> int:
    if config.get("max_position_embeddings") is None:
        raise ValueError(f"max_position_embeddings is missing, and {why}")
    return check_int("max_position_embeddings", config["max_position_embeddings"], minimum=1)


def _original_length(config: Mapping, rope: Mapping, nested: bool) -> float:
    """L: the top-level value (flat configs, Phi-3), the entry's, else ``max_position_embeddings`` [H-ORIG-1]."""
    value = None if nested else config.get("original_max_position_embeddings")
    value = rope.get("original_max_position_embeddings") if value is None else value
    if value is None:
        value = _max_positions(config, "original_max_position_embeddings defaults to it")
    return check_real("original_max_position_embeddings", value, minimum=0.0, strict_minimum=True)


def _zero_is_default(value: Any, default: float) -> Any:
    """transformers' ``value or default`` for numbers: null and 0 give the default [H-YARN-1]."""
    is_zero = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and value == 0
    return default if value is None or is_zero else value


def _params(rope_type: str, rope: Mapping, config: Mapping, nested: bool, seq_len: int | None,
            partial: float) -> dict:
    """The registry parameters of one HF rope type [H-MAP-1]."""
    if rope_type == "default":
        return {}
    if rope_type == "linear":
        return {"factor": _required(rope, "factor", rope_type)}
    if rope_type == "proportional":
        return {"partial_rotary_factor": partial, "factor": 1.0 if rope.get("factor") is None else rope["factor"]}
    if rope_type == "dynamic":  # [H-DYN-1]
        length = _max_positions(config, "dynamic uses it as the original length L")
        return {"factor": _required(rope, "factor", rope_type), "original_max_position_embeddings": length,
                "seq_len": length if seq_len is None else seq_len}
    length = _original_length(config, rope, nested)
    if rope_type == "llama3":
        return {"original_max_position_embeddings": length,
                **{k: _required(rope, k, rope_type) for k in ("factor", "low_freq_factor", "high_freq_factor")}}
    factor = rope.get("factor")
    derive = "factor is null, so it is max_position_embeddings / original_max_position_embeddings"
    if rope_type == "yarn":  # [H-YARN-1], [H-TRUNC-1]
        return {"factor": _max_positions(config, derive) / length if factor is None else factor,
                "original_max_position_embeddings": length,
                "beta_fast": _zero_is_default(rope.get("beta_fast"), 32.0),
                "beta_slow": _zero_is_default(rope.get("beta_slow"), 1.0),
                "mscale": rope.get("mscale"), "mscale_all_dim": rope.get("mscale_all_dim"),
                "attention_factor": rope.get("attention_factor"),
                "truncate": True if rope.get("truncate") is None else rope["truncate"]}
    attention = rope.get("attention_factor")  # longrope [H-LONG-1]
    if factor is None and attention is None:
        factor = _max_positions(config, derive) / length
    if factor is not None:  # [H-FACTOR-1]: transformers only warns below 1
        check_real("factor", factor, minimum=1.0)
    return {"short_factor": _required(rope, "short_factor", rope_type),
            "long_factor": _required(rope, "long_factor", rope_type),
            "original_max_position_embeddings": length, "factor": factor,
            "attention_factor": attention, "seq_len": seq_len}
