r"""Per-query logit scales :math:`s(p)`: the logit of a query at position :math:`p` is multiplied by :math:`s(p)`.

Each scale is an immutable, comparable object; calling it on query positions (float array, every
position :math:`\ge 0`) returns one factor per query, float64, same shape. Attention also accepts any
other callable with that contract, or ``None`` (no scale).

============================  ==================================================  ===================
scale                         :math:`s(p)`, with :math:`n = p + 1`                source
============================  ==================================================  ===================
``logn(L)``                   :math:`\log_L n`                                    8823; 9444
``logn_clipped(L)``           :math:`\max(1, \log_L n)` (logn†)                   9706 eq. (14); Qwen
``llama4_temperature(F, a)``  :math:`a\,\log(1 + \lfloor n / F\rfloor) + 1`       HF/vLLM Llama 4
``llama4_scaling(b, L)``      :math:`1 + b\,\log(1 + \lfloor p / L\rfloor)`       Ministral 3, Mistral 4
============================  ==================================================  ===================

:math:`n = p + 1` is the number of tokens a causal query sees (itself included), as in
bojone/rerope's ``log(position_ids + 1)``. A scalar factor commutes with the rotation, so scaling
:math:`q` before or after RoPE is the same ([G-CALL-1]; bojone/rerope's ``rerope_patch.py`` scales before,
``ntk_patch.py`` after).

Spec: docs/spec/query_scale.md, clauses [G-LOGN-1] to [G-LOGN-3], [G-CLIP-1], [G-LLAMA4-1], [G-LLAMA4-2],
[G-CALL-1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from ._entries import Entry
from ._validation import check_real, finite_real_array

__all__ = ["logn", "logn_clipped", "llama4_temperature", "llama4_scaling", "LogN", "LogNClipped",
           "Llama4Temperature", "Llama4Scaling", "SCALES", "ScaleEntry", "name_of", "evaluate"]


def _token_counts(positions: Any) -> np.ndarray:
    """:math:`n = p + 1` for query positions :math:`p \\ge 0` (float64)."""
    p = finite_real_array("positions", positions)
    if p.size and p.min() < 0:
        raise ValueError(f"positions must be >= 0 for a query scale (n = position + 1 >= 1), got {p.min()}")
    return p + 1.0


def _training_length(value: Any) -> float:
    return check_real("training_length", value, minimum=1.0, strict_minimum=True)


@dataclass(frozen=True)
class LogN:
    r"""Entropy-invariant scale :math:`\log_L n = \ln n / \ln L`, :math:`n = p + 1` (made by :func:`logn`).

    Spec: [G-LOGN-1].
    """

    name = "logn"

    training_length: float

    def __call__(self, positions: Any) -> np.ndarray:
        return np.log(_token_counts(positions)) / math.log(self.training_length)


@dataclass(frozen=True)
class LogNClipped:
    r"""logn†: :math:`\max(1, \log_L n)`, :math:`n = p + 1` (made by :func:`logn_clipped`).

    Spec: [G-CLIP-1].
    """

    name = "logn_clipped"

    training_length: float

    def __call__(self, positions: Any) -> np.ndarray:
        return np.maximum(1.0, LogN(self.training_length)(positions))


@dataclass(frozen=True)
class Llama4Temperature:
    r"""Llama 4 temperature :math:`a\,\log(1 + \lfloor n/F\rfloor) + 1`, :math:`n = p + 1`
    (made by :func:`llama4_temperature`).

    Spec: [G-LLAMA4-1].
    """

    name = "llama4_temperature"

    floor_scale: float
    attn_scale: float

    def __call__(self, positions: Any) -> np.ndarray:
        return np.log1p(np.floor(_token_counts(positions) / self.floor_scale)) * self.attn_scale + 1.0


@dataclass(frozen=True)
class Llama4Scaling:
    r"""Ministral 3 / Mistral 4 query scaling :math:`1 + \beta\,\log(1 + \lfloor p/L\rfloor)`, :math:`p` the
    position itself (made by :func:`llama4_scaling`).

    Spec: [G-LLAMA4-2].
    """

    name = "llama4_scaling"

    beta: float
    original_max_position_embeddings: float

    def __call__(self, positions: Any) -> np.ndarray:
        p = _token_counts(positions) - 1.0
        return 1.0 + self.beta * np.log1p(np.floor(p / self.original_max_position_embeddings))


def logn(training_length: float) -> LogN:
    r"""The logn scale :math:`s(p) = \log_L(p + 1)`, :math:`L` = ``training_length`` :math:`> 1`.

    Attention-E of 8823 is :math:`\mathrm{softmax}(\log_{512} n \cdot QK^\top/\sqrt d)`: this scale
    with :math:`L = 512` ([G-LOGN-2]). At position 0 (:math:`n = 1`) it is 0, so the first query attends
    uniformly; it is not clipped (the "-logn" pretraining rows of kexue.fm/archives/9708's tables).
    Spec: [G-LOGN-1], [G-LOGN-2]. Source: kexue.fm/archives/8823 (L1), 9444.

    >>> logn(4)([0, 3, 15])
    array([0., 1., 2.])
    """
    return LogN(_training_length(training_length))


def logn_clipped(training_length: float) -> LogNClipped:
    r"""logn†: :math:`s(p) = \max(1, \log_L(p + 1))`, for models pretrained without logn.

    Exactly 1 for every position below :math:`L` ([G-CLIP-1]), so a model run within its training length
    is unchanged. Qwen's ``logn_list`` is the same function.
    Spec: [G-CLIP-1]. Source: kexue.fm/archives/9706 eq. (14); bojone/rerope ``rerope_patch.py``; Qwen(1).

    >>> logn_clipped(4)([0, 3, 15])
    array([1., 1., 2.])
    """
    return LogNClipped(_training_length(training_length))


def llama4_temperature(floor_scale: float = 8192.0, attn_scale: float = 0.1) -> Llama4Temperature:
    r"""Llama 4's attention temperature :math:`s(p) = a\,\log\!\big(1 + \lfloor (p + 1)/F \rfloor\big) + 1`.

    ``floor_scale`` :math:`F > 0`, ``attn_scale`` :math:`a` finite. Exactly 1 below position
    :math:`F - 1`; HF applies it on the NoPE layers only (``attn_temperature_tuning``).
    Spec: [G-LLAMA4-1]. Source: HF ``modeling_llama4.py`` (``attn_scales``), vLLM ``model_executor/models/llama4.py``.

    >>> llama4_temperature(4, 0.5)([2, 3, 7]).round(12)
    array([1.        , 1.34657359, 1.54930614])
    """
    return Llama4Temperature(check_real("floor_scale", floor_scale, minimum=0.0, strict_minimum=True),
                             check_real("attn_scale", attn_scale))


def llama4_scaling(beta: float, original_max_position_embeddings: float) -> Llama4Scaling:
    r"""Query scaling :math:`s(p) = 1 + \beta\,\log\!\big(1 + \lfloor p/L \rfloor\big)` of the rope dict's
    ``llama_4_scaling_beta`` :math:`\beta` (finite) and ``original_max_position_embeddings`` :math:`L > 0`.

    :math:`p` is the position id itself (not :math:`p + 1` as in :func:`llama4_temperature`): exactly 1 for
    :math:`p < L`, :math:`1 + \beta\ln 2` from :math:`p = L` to :math:`2L - 1`. transformers and vLLM apply
    it to the query of every layer (:func:`refrope.hf_query_scale` reads it from a config).
    Spec: [G-LLAMA4-2]. Source: transformers 5.24 ``models/ministral3/modeling_ministral3.py``
    (``get_llama_4_attn_scale``), ``models/mistral4/modeling_mistral4.py``; vLLM 0.33
    ``vllm/model_executor/models/llama.py`` (``llama_4_scaling``).

    >>> llama4_scaling(0.5, 4)([0, 3, 4, 12]).round(12)
    array([1.        , 1.        , 1.34657359, 1.69314718])
    """
    return Llama4Scaling(check_real("beta", beta),
                         check_real("original_max_position_embeddings", original_max_position_embeddings,
                                    minimum=0.0, strict_minimum=True))


ScaleEntry = Entry
"""The entry of :data:`SCALES` (``refrope._entries.Entry``)."""


SCALES = MappingProxyType({e.name: e for e in (
    ScaleEntry("logn", logn, LogN, ("training_length",), "G-LOGN-1",
               lambda c, reach: logn(c.integer(2, max(2, int(reach)), label="training_length"))),
    ScaleEntry("logn_clipped", logn_clipped, LogNClipped, ("training_length",), "G-CLIP-1",
               lambda c, reach: logn_clipped(c.integer(2, max(2, int(reach)), label="training_length"))),
    ScaleEntry("llama4_temperature", llama4_temperature, Llama4Temperature, ("floor_scale", "attn_scale"),
               "G-LLAMA4-1",
               lambda c, reach: llama4_temperature(c.integer(1, max(1, int(reach) // 8), label="floor_scale"),
                                                   c.real(0.0, 1.0, label="attn_scale"))),
    ScaleEntry("llama4_scaling", llama4_scaling, Llama4Scaling, ("beta", "original_max_position_embeddings"),
               "G-LLAMA4-2",
               lambda c, reach: llama4_scaling(c.real(0.0, 1.0, label="beta"),
                                               c.integer(1, max(1, int(reach) // 8),
                                                         label="original_max_position_embeddings"))),
)})
"""Every query scale by name, the one table that capabilities, strategies, vectors and adapters use."""


def name_of(query_scale: Any) -> str:
    """The registry name of a query scale object, ``"custom"`` for any other callable.

    >>> name_of(logn(8)), name_of(lambda p: p)
    ('logn', 'custom')
    """
    entry = SCALES.get(getattr(query_scale, "name", None))
    return entry.name if entry is not None and type(query_scale) is entry.cls else "custom"


def evaluate(query_scale: Any, positions: np.ndarray) -> np.ndarray | None:
    """The factors ``query_scale(positions)``, checked: finite reals broadcastable to ``positions.shape``.

    ``None`` gives ``None``. Spec: [G-CALL-1].

    >>> evaluate(logn_clipped(4), np.array([15.0]))
    array([2.])
    """
    if query_scale is None:
        return None
    if not callable(query_scale):
        raise TypeError(f"query_scale must be None or a callable of the query positions, got {query_scale!r}")
    values = finite_real_array("query_scale(positions)", query_scale(positions.copy()))
    try:
        return np.broadcast_to(values, positions.shape)
    except ValueError:
        raise ValueError(f"query_scale(positions) must have the shape of positions {positions.shape}, "
                         f"got {values.shape}") from None
