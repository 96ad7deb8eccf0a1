r"""Translation of Hugging Face ``config.json`` dicts into :class:`refrope.Frequencies`.

:func:`from_hf_config` reads a model configuration the way transformers 5.24 does
(``rope_parameters``, or the v4 ``rope_scaling``; flat, or nested per layer type; the model type's key
aliases and head dimension), maps the rope type to a :data:`refrope.VARIANTS` entry and calls
:func:`refrope.inv_freq`. vLLM's own rope types and keys are read as vLLM 0.33 reads them, and where
the two engines read one config differently a named keyword chooses. It derives no formula itself.
:func:`hf_query_scale` reads the per-query logit scale a config asks for.

Modules: :mod:`~refrope.configs.hf_reading` (where the rope dict is), :mod:`~refrope.configs.hf_keys`
(strictness), :mod:`~refrope.configs.hf_model_types` (per-model-type facts), :mod:`~refrope.configs.hf_heads`
(head and rotary dimension), :mod:`~refrope.configs.hf_params` (each rope type's parameters).
Spec: docs/spec/hf_config.md, clauses ``[H-*]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import _short, check_bool, check_int, check_real
from ..frequencies.base import Frequencies
from ..frequencies.registry import inv_freq
from ..query_scale import Llama4Scaling, llama4_scaling
from . import hf_heads as heads
from . import hf_model_types as types
from . import hf_mrope, hf_params
from . import hf_reading as reading
from .hf_keys import check_keys

__all__ = ["from_hf_config", "hf_query_scale"]


def from_hf_config(
    config: Mapping[str, Any], *, seq_len: int | None = None, layer_type: str | None = None, strict: bool = True,
    dynamic: str = "per_call", longrope: str = "per_call", yarn_bounds: str = "as_config", yarn_mscale: str = "pair",
) -> Frequencies:
    r"""The :class:`Frequencies` transformers 5.24 (or, for its own types and keys, vLLM 0.33) builds for a
    model's ``config.json``.

    With :math:`D` the head dimension, :math:`\rho` = ``partial_rotary_factor`` (default 1),
    :math:`\theta` = ``rope_theta`` (default 10000), :math:`M` = ``max_position_embeddings``
    and :math:`L` = ``original_max_position_embeddings``:

    .. math:: d = \lfloor D\rho \rfloor \ (\text{proportional: } d = D),\qquad
              \text{result} = \texttt{inv\_freq}(\text{variant}(\texttt{rope\_type}),\ d,\ \theta,\ \dots)

    with ``default``/``linear``/``llama3``/``proportional`` mapped to the same names,
    ``dynamic`` to ``dynamic_ntk`` with :math:`L = M` (``ntk_aware`` with :math:`k = \alpha` when it has
    ``alpha``), ``yarn`` with :math:`k = M/L` when ``factor`` is null, ``longrope`` with :math:`k = M/L`
    when null and the long factors iff ``seq_len`` :math:`> L`, vLLM's ``ntk`` to ``ntk_fixed`` /
    ``ntk_mixed`` and its ``deepseek_yarn`` / ``telechat3-yarn`` to ``yarn``. A missing key and a JSON
    null are the same. Nothing in ``config`` is modified.

    Parameters
    ----------
    config : dict
        A parsed ``config.json`` (v4 ``rope_scaling``/``type`` or v5 ``rope_parameters``).
    seq_len : int, optional
        The length: the current one (``per_call``), or the engine's maximum (``at_max_length``).
    layer_type : str, optional
        The entry of a per-layer-type ``rope_parameters`` (e.g. ``"sliding_attention"``, ``"compress"``).
    strict : bool
        True (default): a rope-dict key that is neither read nor documented as inert is a ``ValueError``;
        False: it is ignored with a :class:`~refrope.configs.hf_keys.UnreadKeyWarning`.
    dynamic, longrope : {"per_call", "at_max_length"}
        ``per_call`` (transformers): ``seq_len`` is the current length, None meaning initialisation.
        ``at_max_length`` (vLLM): evaluated once at the engine's maximum length ``seq_len`` (None: :math:`M`
        for dynamic, :math:`L` for longrope); longrope's magnitude then uses :math:`M/L`, not ``factor``.
    yarn_bounds : {"as_config", "rounded"}
        ``rounded``: floor/ceil YaRN's correction range whatever ``truncate`` says (vLLM before PR #28244).
    yarn_mscale : {"pair", "lone"}
        ``pair`` (transformers, vLLM's yarn): ``mscale`` counts only beside a non-zero ``mscale_all_dim``;
        ``lone``: vLLM's DeepSeek reading (``deepseek_yarn``: ``mscale`` 1 and ``mscale_all_dim`` 0 by default).

    Returns
    -------
    Frequencies
        ``inv_freq`` of shape ``(d // 2,)`` (``(D // 2,)`` for proportional) and ``attention_factor``.

    Notes
    -----
    Malformed configs raise ``ValueError`` or ``TypeError`` naming the key and the value; configs whose
    rotary refrope does not model (M-RoPE, vision towers) raise ``ValueError`` naming the feature.
    Spec: [H-MAP-1], [H-V4V5-1], [H-TYPE-1], [H-NEST-1], [H-HEAD-1], [H-ALIAS-1], [H-PARTIAL-1], [H-ORIG-1],
    [H-DYN-1], [H-YARN-1], [H-TRUNC-1], [H-LONG-1], [H-FACTOR-1], [H-STRICT-1], [H-MODEL-1], [H-VLLM-1] to
    [H-VLLM-4], [H-ERR-1].
    Source: transformers 5.24 ``modeling_rope_utils.py`` (``ROPE_INIT_FUNCTIONS``,
    ``RotaryEmbeddingConfigMixin.standardize_rope_params``) and the configuration classes of
    ``refrope.configs.hf_model_types``; vLLM 0.33 ``vllm/model_executor/layers/rotary_embedding/__init__.py``.

    Examples
    --------
    >>> f = from_hf_config({"head_dim": 4, "rope_theta": 100.0, "rope_scaling": {"type": "linear", "factor": 2.0}})
    >>> f.variant, f.inv_freq
    ('linear', array([0.5 , 0.05]))
    >>> neox = {"hidden_size": 32, "num_attention_heads": 4, "rotary_pct": 0.5, "rotary_emb_base": 100}
    >>> from_hf_config(neox).inv_freq
    array([1. , 0.1])
    >>> hunyuan = {"head_dim": 4, "rope_theta": 100.0, "rope_scaling": {"type": "dynamic", "alpha": 4.0}}
    >>> f = from_hf_config(hunyuan); f.variant, f.inv_freq
    ('ntk_aware', array([1.   , 0.025]))
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict (a parsed config.json), got {_short(config)}")
    if seq_len is not None:
        seq_len = check_int("seq_len", seq_len, minimum=0)
    if layer_type is not None and not isinstance(layer_type, str):
        raise TypeError(f"layer_type must be a string or None, got {_short(layer_type)}")
    strict = check_bool("strict", strict)
    policies = hf_params.Policies(dynamic, longrope, yarn_bounds, yarn_mscale)
    where, rope, nested = reading.rope_entry(config, layer_type)
    try:
        rope, mrope = hf_mrope.split(config, rope)  # M-RoPE keys; vision rotaries refused [MM-HF-1], [MM-HF-2]
        rope_type = reading.rope_type(config, rope)
        reason = types.rejection(config, rope, rope_type, mrope=mrope is not None)
        if reason is not None:
            raise ValueError(reason)
        where = f"{where} (rope_type {rope_type!r})"
        rope = check_keys(rope, rope_type, where, strict=strict)
        variant = reading.variant_of(rope_type, rope)
        partial = reading.aliased(rope, config, "partial_rotary_factor", "rotary_pct", None)
        rotary_dim = heads.rotary_dim(config, rope, rope_type, partial, layer_type)
        params = hf_params.params(variant, rope_type, rope, config, nested, seq_len, partial, policies)
        theta = reading.theta(config, rope, layer_type)
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            return hf_mrope.attach(inv_freq(variant, rotary_dim, theta=theta, **params), mrope, rope_type)
    except ArithmeticError as exc:  # float overflow of absurd values (numpy or math)
        raise ValueError(f"reading {where}: the parameters overflow float64 ({exc})") from exc
    except (TypeError, ValueError) as exc:
        raise (ValueError if isinstance(exc, ValueError) else TypeError)(f"reading {where}: {exc}") from exc


def hf_query_scale(config: Mapping[str, Any], *, layer_type: str | None = None) -> Llama4Scaling | None:
    r"""The per-query logit scale a config's rope dict asks for, or None.

    ``llama_4_scaling_beta`` :math:`\beta` (Ministral 3, Mistral 4) gives
    :func:`refrope.query_scale.llama4_scaling` with :math:`L` the rope dict's
    ``original_max_position_embeddings`` (read as for YaRN, [H-ORIG-1]):
    :math:`s(p) = 1 + \beta\ln(1 + \lfloor p/L \rfloor)`.
    Spec: [H-QSCALE-1], [G-LLAMA4-2]. Source: transformers 5.24 ``models/ministral3/modeling_ministral3.py``
    (``get_llama_4_attn_scale``).

    >>> rope = {"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 4, "llama_4_scaling_beta": 0.5}
    >>> hf_query_scale({"head_dim": 8, "max_position_embeddings": 8, "rope_parameters": rope})
    Llama4Scaling(beta=0.5, original_max_position_embeddings=4.0)
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict (a parsed config.json), got {_short(config)}")
    where, rope, nested = reading.rope_entry(config, layer_type)
    beta = rope.get("llama_4_scaling_beta")
    if beta is None:
        return None
    try:
        beta = check_real("llama_4_scaling_beta", beta)
        return llama4_scaling(beta, hf_params.original_length(config, rope, nested))
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"reading {where}: {exc}") from exc
