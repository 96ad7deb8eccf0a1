"""The registry parameters of each rope type: transformers' reading, vLLM's rope types and keys, and the
policies where the two engines read the same config differently.

Spec: docs/spec/hf_config.md, clauses [H-MAP-1], [H-DYN-1], [H-YARN-1], [H-TRUNC-1], [H-LONG-1], [H-FACTOR-1],
[H-VLLM-1] to [H-VLLM-4].
Source: transformers 5.24 ``modeling_rope_utils.py``; vLLM 0.33 ``vllm/model_executor/layers/rotary_embedding/``
(``__init__.py`` ``get_rope``, ``dynamic_ntk_scaling_rope.py``, ``dynamic_ntk_alpha_rope.py``,
``ntk_scaling_rope.py``, ``yarn_scaling_rope.py``, ``deepseek_scaling_rope.py``,
``phi3_long_rope_scaled_rope.py``, ``telechat3_scaling_rope.py``).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import _short, check_bool, check_choice, check_int, check_real
from ..frequencies.yarn import deepseek_magnitude, get_mscale
from . import hf_model_types as types

__all__ = ["Policies", "params", "original_length"]


@dataclass(frozen=True)
class Policies:
    """How to read what transformers and vLLM read differently ([H-VLLM-3])."""

    dynamic: str = "per_call"
    longrope: str = "per_call"
    yarn_bounds: str = "as_config"
    yarn_mscale: str = "pair"

    def __post_init__(self) -> None:
        check_choice("dynamic", self.dynamic, ("per_call", "at_max_length"))
        check_choice("longrope", self.longrope, ("per_call", "at_max_length"))
        check_choice("yarn_bounds", self.yarn_bounds, ("as_config", "rounded"))
        check_choice("yarn_mscale", self.yarn_mscale, ("pair", "lone"))


def _required(rope: Mapping, key: str, rope_type: str) -> Any:
    if rope.get(key) is None:
        raise ValueError(f"rope_type {rope_type!r} requires {key!r}, got {_short(rope.get(key))}")
    return rope[key]


def _max_positions(config: Mapping, why: str) -> int:
    value = types.get(config, "max_position_embeddings")
    if value is None:
        raise ValueError(f"max_position_embeddings is missing, and {why}")
    return check_int("max_position_embeddings", value, minimum=1)


def original_length(config: Mapping, rope: Mapping, nested: bool) -> float:
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


def _get(rope: Mapping, key: str, default: Any) -> Any:
    return default if rope.get(key) is None else rope[key]


def params(variant: str, rope_type: str, rope: Mapping, config: Mapping, nested: bool, seq_len: int | None,
           partial: float | None, policies: Policies) -> dict:
    """The keyword parameters of ``refrope.inv_freq(variant, ...)`` for this rope dict [H-MAP-1]."""
    if variant == "default":
        return {}
    if variant in ("linear", "ntk_fixed"):
        return {"factor": _required(rope, "factor", rope_type)}
    if variant == "proportional":
        return {"partial_rotary_factor": 1.0 if partial is None else partial, "factor": _get(rope, "factor", 1.0)}
    if variant == "ntk_aware":  # [H-VLLM-1]: Hunyuan's dynamic + alpha
        return {"factor": rope["alpha"]}
    if variant == "ntk_mixed":
        return {"factor": _required(rope, "factor", rope_type), "b": rope["mixed_b"]}
    if variant == "dynamic_ntk":
        return _dynamic(rope, config, seq_len, policies)
    if variant == "llama3":
        return {"original_max_position_embeddings": original_length(config, rope, nested),
                **{k: _required(rope, k, rope_type) for k in ("factor", "low_freq_factor", "high_freq_factor")}}
    if variant == "longrope":
        return _longrope(rope, config, nested, seq_len, policies)
    return _yarn(rope_type, rope, config, nested, policies)


def _dynamic(rope: Mapping, config: Mapping, seq_len: int | None, policies: Policies) -> dict:
    """[H-DYN-1], [H-VLLM-3]: L = max_trained_positions (vLLM) or M; s = seq_len, None meaning L (per call:
    initialisation) or M (at_max_length: vLLM's one evaluation at its maximum position)."""
    top = _max_positions(config, "dynamic uses it as the original length L")
    trained = rope.get("max_trained_positions")
    length = top if trained is None else check_int("max_trained_positions", trained, minimum=1)
    if seq_len is None:
        seq_len = top if policies.dynamic == "at_max_length" else length
    return {"factor": _required(rope, "factor", "dynamic"), "original_max_position_embeddings": length,
            "seq_len": seq_len}


def _longrope(rope: Mapping, config: Mapping, nested: bool, seq_len: int | None, policies: Policies) -> dict:
    """[H-LONG-1], [H-VLLM-3]: per call (transformers) or at the maximum length (vLLM: k = M/L whatever the
    config's factor, magnitude short_mscale / long_mscale when given)."""
    length = original_length(config, rope, nested)
    chosen = "long_mscale" if seq_len is not None and seq_len > length else "short_mscale"
    mscales = [key for key in ("short_mscale", "long_mscale") if rope.get(key) is not None]
    derive = "factor is null, so it is max_position_embeddings / original_max_position_embeddings"
    if policies.longrope == "at_max_length":
        factor = _max_positions(config, "vLLM's longrope magnitude uses max_position_embeddings / L") / length
        attention = rope.get(chosen)
        if attention is None and factor <= 1.0:
            factor, attention = None, 1.0
    else:
        factor, attention = rope.get("factor"), rope.get("attention_factor")
        if mscales and attention is not None:
            raise ValueError(f"the rope dict sets attention_factor (transformers) and {mscales} (vLLM); "
                             "they are two magnitudes for the same cos/sin")
        attention = rope.get(chosen) if attention is None else attention
        if factor is None and attention is None:
            factor = _max_positions(config, derive) / length
        if factor is not None:  # [H-FACTOR-1]: transformers only warns below 1
            check_real("factor", factor, minimum=1.0)
    return {"short_factor": _required(rope, "short_factor", "longrope"),
            "long_factor": _required(rope, "long_factor", "longrope"),
            "original_max_position_embeddings": length, "factor": factor,
            "attention_factor": attention, "seq_len": seq_len}


_VLLM_YARN = ("attn_factor", "extrapolation_factor", "apply_yarn_scaling")
_HF_MAGNITUDE = ("mscale", "mscale_all_dim", "attention_factor")


def _yarn(rope_type: str, rope: Mapping, config: Mapping, nested: bool, policies: Policies) -> dict:
    """[H-YARN-1], [H-TRUNC-1], [H-VLLM-2]: transformers' yarn, vLLM's YaRN keys, deepseek_yarn, telechat3-yarn."""
    length = original_length(config, rope, nested)
    factor = rope.get("factor")
    if rope_type != "yarn":  # vLLM's get_rope indexes both keys
        factor = _required(rope, "factor", rope_type)
        _required(rope, "original_max_position_embeddings", rope_type)
    elif factor is None:
        factor = _max_positions(config, "factor is null, so it is max_position_embeddings / "
                                        "original_max_position_embeddings") / length
    factor = check_real("factor", factor, minimum=1.0)
    extrapolation = check_real("extrapolation_factor", _get(rope, "extrapolation_factor", 1.0))
    if extrapolation != 1.0:
        raise ValueError(f"extrapolation_factor={extrapolation}: vLLM's partial extrapolation (a ramp weight other "
                         "than 1) is not a refrope variant parameter; only 1 is read")
    attn = check_real("attn_factor", _get(rope, "attn_factor", 1.0), minimum=0.0, strict_minimum=True)
    truncate = check_bool("truncate", _get(rope, "truncate", True))
    magnitude: dict[str, Any] = {"mscale": rope.get("mscale"), "mscale_all_dim": rope.get("mscale_all_dim"),
                                 "attention_factor": rope.get("attention_factor")}
    vllm_keys = [key for key in _VLLM_YARN if rope.get(key) is not None]
    if rope_type in ("deepseek_yarn", "deepseek_llama_scaling") or (rope_type == "yarn"
                                                                     and policies.yarn_mscale == "lone"):
        if rope.get("attention_factor") is not None:
            raise ValueError("attention_factor is not read by vLLM's DeepSeek YaRN (deepseek_yarn, or "
                             "yarn_mscale='lone'), which computes the magnitude from mscale and mscale_all_dim")
        truncate = True if rope_type != "yarn" else truncate
        mu = check_real("mscale", _get(rope, "mscale", 1.0))
        mu_all = check_real("mscale_all_dim", _get(rope, "mscale_all_dim", 0.0))
        magnitude = {"attention_factor": deepseek_magnitude(factor, mu, mu_all, attn)}
    elif rope_type == "telechat3-yarn":  # vLLM: YaRN with magnitude 0.07 ln k + 1
        magnitude = {"attention_factor": get_mscale(factor, 0.7) * attn}
    elif vllm_keys:  # vLLM's YaRN before attention_factor: get_mscale(k) * attn_factor, or attn_factor alone
        mixed = [key for key in _HF_MAGNITUDE if rope.get(key) is not None]
        if mixed:
            raise ValueError(f"the rope dict mixes vLLM's YaRN keys {vllm_keys} with transformers' {mixed}: "
                             "the two compute different magnitudes")
        apply = check_bool("apply_yarn_scaling", _get(rope, "apply_yarn_scaling", True))
        magnitude = {"attention_factor": deepseek_magnitude(factor, 1.0 if apply else 0.0, 0.0, attn)}
    return {"factor": factor, "original_max_position_embeddings": length,
            "beta_fast": _zero_is_default(rope.get("beta_fast"), 32.0),
            "beta_slow": _zero_is_default(rope.get("beta_slow"), 1.0), **magnitude,
            "truncate": True if policies.yarn_bounds == "rounded" else truncate}
