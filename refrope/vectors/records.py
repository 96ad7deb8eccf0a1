r"""From a case of :mod:`~refrope.vectors.generate` to its inputs, its float64 expected value and its budget.

Inputs are drawn at float32 (the dtype the kernel consumes; the values are exact in float32) and the
expected values come from the oracle in float64: :func:`refrope.apply_rope` and
:func:`refrope.attention`. The budget inputs are recorded with each case ([GV-BUDGET-1]).
Spec: [GV-CASES-1], [GV-BUDGET-1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import apply_rope, attention, attention_scores
from ..budgets import logit_multiplier, max_attention_angle
from .budget import max_logits
from .generate import FREQS, AttnCase, RopeCase, dyadic

__all__ = ["DTYPE", "Record", "rope_record", "attention_record"]

DTYPE = "float32"
"""The dtype every input of the current vectors is stored at (and the budget's default dtype)."""


@dataclass(frozen=True)
class Record:
    """A case with its arrays: ``inputs`` (name -> array or plain value), ``expected`` (float64), ``budget``."""

    inputs: dict[str, Any]
    expected: np.ndarray
    budget: dict[str, Any]


def _budget(max_angle: float, max_abs_input: float, **extra: Any) -> dict[str, Any]:
    return {"dtype": DTYPE, "maxAngle": float(max_angle), "maxAbsInput": float(max_abs_input), **extra}


def rope_record(case: RopeCase) -> Record:
    r"""Inputs, expected :func:`refrope.apply_rope` output and budget of an ``apply_rope`` case.

    ``maxAngle`` is :math:`\max|p|\,\max\omega`.

    >>> from refrope.vectors.generate import ROPE_CASES
    >>> r = rope_record(ROPE_CASES[0]); r.inputs["x"].dtype, r.expected.shape, r.budget["maxAngle"]
    (dtype('float32'), (2, 8), 7.0)
    """
    freqs = FREQS[case.freq].freqs()
    positions = np.array(case.positions, dtype=np.float64)
    x = dyadic(case.seed, (len(case.positions), case.head_dim)).astype(np.float32)
    expected = apply_rope(x, positions, freqs, layout=case.layout, rotary_offset=case.rotary_offset)
    max_angle = float(np.max(np.abs(positions)) * np.max(freqs.inv_freq))
    inputs = {"x": x, "positions": positions, "inv_freq": freqs.inv_freq, "attention_factor": freqs.attention_factor,
              "layout": case.layout, "rotary_offset": case.rotary_offset}
    return Record(inputs, expected, _budget(max_angle, np.max(np.abs(x))))


def attention_record(case: AttnCase) -> Record:
    r"""Inputs, expected :func:`refrope.attention` output and budget of an attention case.

    ``logit_scale`` is :math:`\lambda = 1/\sqrt{d}` (``head_dim``). The budget adds ``logitMultiplier``
    :math:`c_i = \lambda\sigma(p_i)` (one per query) and ``maxLogit`` :math:`S_i` (one per head and query).

    >>> from refrope.vectors.generate import ATTENTION_CASES
    >>> r = attention_record(ATTENTION_CASES[4]); r.expected.shape, r.inputs["relpos"]
    ((1, 8, 4), ('rerope', (3.0,)))
    """
    freqs = FREQS[case.freq].freqs()
    d = case.head_dim
    q = dyadic(case.seed, (case.heads_q, case.n, d), half_range=1.0).astype(np.float32)
    k = dyadic(case.seed + 10_000, (case.heads_kv, case.n, d), half_range=1.0).astype(np.float32)
    v = dyadic(case.seed + 20_000, (case.heads_kv, case.n, case.dv)).astype(np.float32)
    positions = case.start + np.arange(case.n, dtype=np.float64)
    lam = 1.0 / math.sqrt(d)
    fn = case.query_scale_fn()
    multiplier = logit_multiplier(freqs, positions, d, scale=lam, query_scale=fn)
    options = dict(positions_q=positions, positions_k=positions, relpos=case.relpos_map(), layout=case.layout,
                   causal=case.causal, sliding_window=case.sliding_window, scale=lam, query_scale=fn,
                   bias=case.bias_fn(), chunk_size=case.chunk_size)
    expected = attention(q, k, v, freqs, **options)
    blocks = (slice(r, r + 512) for r in range(0, case.n, 512))
    smax = np.concatenate([max_logits(attention_scores(q[..., rows, :], k, freqs,
                                                       **{**options, "positions_q": positions[rows]}))
                           for rows in blocks], axis=-1)
    inputs = {"q": q, "k": k, "v": v, "positions_q": positions, "positions_k": positions, "inv_freq": freqs.inv_freq,
              "attention_factor": freqs.attention_factor, "layout": case.layout, "causal": case.causal,
              "sliding_window": case.sliding_window, "relpos": case.relpos, "query_scale": case.query_scale,
              "logit_scale": lam, "bias": case.bias, "chunk_size": case.chunk_size}
    peak = max(float(np.max(np.abs(a))) for a in (q, k, v))
    angle = max_attention_angle(case.relpos_map(), positions, positions, freqs.inv_freq)
    return Record(inputs, expected, _budget(angle, peak, logitMultiplier=multiplier, maxLogit=smax))
