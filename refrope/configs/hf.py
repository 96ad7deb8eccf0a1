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
from ..frequencies.registry import inv_freq
from . import hf_mrope
from . import hf_reading as reading

__all__ = ["from_hf_config"]



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
    where, rope, nested = reading.rope_entry(config, layer_type)
    try:
        rope, mrope = hf_mrope.split(config, rope)  # M-RoPE keys; vision rotaries refused [MM-HF-1], [MM-HF-2]
        rope_type = reading.rope_type(config, rope)
        where = f"{where} (rope_type {rope_type!r})"
        partial = reading.aliased(rope, config, "partial_rotary_factor", "rotary_pct", 1.0)
        partial = check_real("partial_rotary_factor", partial, minimum=0.0, maximum=1.0)
        head_dim = reading.head_dim(config, layer_type)
        rotary_dim = head_dim if rope_type == "proportional" else int(head_dim * partial)
        if rotary_dim < 2 or rotary_dim % 2:
            raise ValueError(f"the rotary dimension int(head_dim * partial_rotary_factor) = int({head_dim} * "
                             f"{partial}) = {rotary_dim} must be even and >= 2")
        params = _params(rope_type, rope, config, nested, seq_len, partial)
        theta = reading.theta(config, rope, layer_type)
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            return hf_mrope.attach(inv_freq(reading.VARIANT_OF[rope_type], rotary_dim, theta=theta, **params), mrope)
    except ArithmeticError as exc:  # float overflow of absurd values (numpy or math)
        raise ValueError(f"reading {where}: the parameters overflow float64 ({exc})") from exc
    except (TypeError, ValueError) as exc:
        raise (ValueError if isinstance(exc, ValueError) else TypeError)(f"reading {where}: {exc}") from exc


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
