"""Strict reading of a rope dict: every key is read by the rope type's reading, or listed as inert here.

A rope dict (``rope_parameters`` / ``rope_scaling``, or one per-layer entry) may hold only the keys of
:data:`READ` for its rope type, the keys every type shares (:data:`SHARED`), and the keys of
:data:`INERT` and :data:`INERT_BY_TYPE`, each with the reason it changes no frequency. Any other key with a
non-null value raises ``ValueError`` naming it and the accepted keys; ``strict=False`` turns that into one
:class:`UnreadKeyWarning` and the key is ignored (the result is the one without it).

Spec: docs/spec/hf_config.md, clause [H-STRICT-1].
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["SHARED", "READ", "INERT", "INERT_BY_TYPE", "UnreadKeyWarning", "accepted", "check_keys"]

SHARED = frozenset({"rope_type", "type", "rope_theta", "partial_rotary_factor"})
"""Keys read for every rope type."""

_YARN = frozenset({"factor", "original_max_position_embeddings", "beta_fast", "beta_slow", "mscale", "mscale_all_dim",
                   "attention_factor", "truncate", "attn_factor", "extrapolation_factor", "apply_yarn_scaling"})
_DEEPSEEK = frozenset({"factor", "original_max_position_embeddings", "beta_fast", "beta_slow", "mscale",
                       "mscale_all_dim", "attn_factor", "extrapolation_factor"})

READ: Mapping[str, frozenset] = MappingProxyType({
    # transformers 5.24 (ROPE_INIT_FUNCTIONS and default)
    "default": frozenset(),
    "linear": frozenset({"factor"}),
    "dynamic": frozenset({"factor", "alpha", "max_trained_positions"}),
    "yarn": _YARN,
    "longrope": frozenset({"short_factor", "long_factor", "factor", "attention_factor",
                           "original_max_position_embeddings", "short_mscale", "long_mscale"}),
    "llama3": frozenset({"factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor"}),
    "proportional": frozenset({"factor"}),
    # vLLM 0.33 only (vllm/model_executor/layers/rotary_embedding/__init__.py, get_rope)
    "ntk": frozenset({"factor", "mixed_b"}),
    "deepseek_yarn": _DEEPSEEK,
    "deepseek_llama_scaling": _DEEPSEEK,
    "telechat3-yarn": frozenset({"factor", "original_max_position_embeddings", "beta_fast", "beta_slow",
                                 "attn_factor", "truncate"}),
})
"""The keys each rope type's reading interprets, besides :data:`SHARED` ([H-STRICT-1])."""

INERT: Mapping[str, str] = MappingProxyType({
    "llama_4_scaling_beta": "a query scale, not a frequency: read by refrope.hf_query_scale (Ministral 3, Mistral 4)",
    "max_position_embeddings": "Mistral 3/4 copy the top-level value into the rope dict; the top-level one is read",
})
"""Keys known to change no frequency, for every rope type, with the reason ([H-STRICT-1])."""

_HUNYUAN = ("Hunyuan's checkpoints carry YaRN keys beside alpha; transformers' HunYuan and vLLM's dynamic "
            "reading (NTK-alpha or dynamic NTK) read none of them")
_NAMES_THE_TYPE = ("vLLM's DeepSeek models use it only to name the type (deepseek_yarn or deepseek_llama_scaling), "
                   "whose frequencies and magnitude are the same")
INERT_BY_TYPE: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "dynamic": MappingProxyType({key: _HUNYUAN for key in ("beta_fast", "beta_slow", "mscale", "mscale_all_dim")}),
    "deepseek_yarn": MappingProxyType({"apply_yarn_scaling": _NAMES_THE_TYPE}),
    "deepseek_llama_scaling": MappingProxyType({"apply_yarn_scaling": _NAMES_THE_TYPE}),
})
"""Keys known to change no frequency of one rope type, with the reason ([H-STRICT-1])."""


class UnreadKeyWarning(UserWarning):
    """A rope-dict key that refrope does not read, ignored because ``strict=False`` was passed."""


def accepted(rope_type: str) -> list[str]:
    """The keys a rope dict of ``rope_type`` may hold."""
    return sorted(SHARED | READ.get(rope_type, frozenset()) | set(INERT) | set(INERT_BY_TYPE.get(rope_type, {})))


def check_keys(rope: Mapping, rope_type: str, where: str, *, strict: bool) -> dict:
    """``rope`` without its unread keys; an unread key (non-null) raises unless ``strict`` is False [H-STRICT-1]."""
    allowed = set(accepted(rope_type))
    unread = sorted((key for key, value in rope.items() if key not in allowed and value is not None), key=repr)
    if not unread:
        return dict(rope)
    message = (f"{where} has the key(s) {unread}, which rope_type {rope_type!r} does not read; "
               f"it accepts {accepted(rope_type)}")
    if strict:
        raise ValueError(message + " (strict=False ignores unread keys with a warning)")
    warnings.warn(message + "; ignored because strict=False", UnreadKeyWarning, stacklevel=3)
    return {key: value for key, value in rope.items() if key not in unread}
