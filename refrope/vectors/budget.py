r"""The error budget of a golden-vector case: the conformance suite's derived budget, from recorded inputs.

A case records the inputs the budget needs ([GV-BUDGET-1]): the ``dtype`` its inputs are stored at
(the dtype the kernel consumes), ``maxAngle`` :math:`\max|p\,\omega|` and ``maxAbsInput``; attention
cases add, per query row, the logit multiplier :math:`c_i = \lambda\,\sigma(p_i)` and the largest
logit magnitude :math:`S_i = \max_j |s_{ij}|` over the visible keys. The harness supplies the one
thing a file cannot know, the dtype its kernel computes angles in (``angle_dtype``), and applies
:mod:`refrope.budgets` (docs/spec/numerics.md):

* ``apply_rope``: per element :math:`B = m\,r_i\,(C_d u + C_a u_a (1 + |p\,\omega_i|)) + 4\eta`,
  :math:`r_i` the norm of the input pair, 0 on pass-through coordinates; ``apply_rope_nd`` the same with
  the position of the pair's own axis, :math:`p_{a_i}`;
* attention: the propagated logit error and the weighted sum's rounding of ``attention_budget`` (with a bias
  also its rounding, :func:`refrope.scheme_budgets.bias_budget`; NoPE has no rotary part);
* ``apply_xpos`` and ``dual_chunk_attention``: :func:`refrope.scheme_budgets.xpos_budget` and
  :func:`~refrope.scheme_budgets.dual_chunk_budget` (the largest logit bounded by
  :math:`\lambda (1 + m^2) |q_i| \max_j |k_j|`).

The C example (examples/c) implements the same ``apply_rope`` formula with the same constants.
Spec: [GV-BUDGET-1].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import scheme_budgets
from ..bias import BIASES
from ..budgets import (
    C_ANGLE,
    C_DTYPE,
    SMALLEST_SUBNORMAL,
    UNIT_ROUNDOFF,
    attention_budget,
    rope_budget,
    rope_nd_budget,
)
from ..frequencies.base import Frequencies

__all__ = ["C_ANGLE", "C_DTYPE", "UNIT_ROUNDOFF", "SMALLEST_SUBNORMAL", "case_budget"]


def _freqs(inputs: dict) -> Frequencies:
    return Frequencies(inputs["inv_freq"], inputs["attention_factor"])


def case_budget(function: str, inputs: dict, budget: dict, *, angle_dtype: str, dtype: str | None = None) -> np.ndarray:
    r"""Per-element budget of a case's output (broadcastable to ``expected``), for a kernel that stores
    values in ``dtype`` (default: the case's) and computes angles in ``angle_dtype``.

    ``inputs`` and ``budget`` are those of a loaded :class:`~refrope.vectors.loading.Case`.
    Spec: [GV-BUDGET-1].

    >>> inputs = {"x": np.array([[3.0, 4.0]]), "positions": np.array([0.0]), "inv_freq": np.array([1.0]),
    ...           "attention_factor": 1.0, "layout": "half", "rotary_offset": 0}
    >>> b = case_budget("apply_rope", inputs, {"dtype": "float32"}, angle_dtype="float32")
    >>> (b / 2.0**-24).round(6).tolist()  # 5 (8 + 4 (1 + 0)), plus 4 subnormals
    [[60.0, 60.0]]
    """
    dtype = dtype or budget["dtype"]
    if function == "apply_rope":
        return rope_budget(inputs["x"], inputs["positions"], _freqs(inputs), dtype=dtype, angle_dtype=angle_dtype,
                           layout=inputs["layout"], rotary_offset=inputs["rotary_offset"])
    if function == "apply_rope_nd":  # [MM-GV-1]: each pair at the angle of its own axis
        return rope_nd_budget(inputs["x"], inputs["positions"], _freqs(inputs), axes=inputs["axes"], dtype=dtype,
                              angle_dtype=angle_dtype, layout=inputs["layout"], rotary_offset=inputs["rotary_offset"])
    if function == "apply_xpos":
        return scheme_budgets.xpos_budget(inputs["x"], inputs["positions"], _freqs(inputs), role=inputs["role"],
                                          scale_base=inputs["scale_base"], gamma=inputs["gamma"], dtype=dtype,
                                          angle_dtype=angle_dtype, layout=inputs["layout"])
    if function not in ("attention", "dual_chunk_attention"):
        raise ValueError("function must be 'apply_rope', 'apply_rope_nd', 'attention', 'apply_xpos' or "
                         f"'dual_chunk_attention', got {function!r}")
    q, k, v = inputs["q"], inputs["k"], inputs["v"]
    group = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, group, axis=-3), np.repeat(v, group, axis=-3)
    if function == "dual_chunk_attention":
        m = inputs["attention_factor"]
        size = inputs["logit_scale"] * (1 + m * m) * np.linalg.norm(q, axis=-1, keepdims=True) \
            * np.linalg.norm(k, axis=-1).max(axis=-1)[..., None, None]
        return scheme_budgets.dual_chunk_budget(q, k, v, _freqs(inputs), chunk_size=inputs["chunk_size"],
                                                scale=inputs["logit_scale"], dtype=dtype, angle_dtype=angle_dtype,
                                                max_logit=size)
    multiplier = np.broadcast_to(np.asarray(budget["logit_multiplier"], dtype=np.float64), q.shape[:-1])
    max_logit = np.asarray(budget["max_logit"], dtype=np.float64).reshape(q.shape[:-1] + (1,))
    nope = inputs["relpos"][0] == "none"
    out = attention_budget(q, k, v, rotary_dim=0 if nope else 2 * len(inputs["inv_freq"]),
                           magnitude=1.0 if nope else inputs["attention_factor"], logit_scale=multiplier,
                           max_angle=budget["max_angle"], max_logit=max_logit, dtype=dtype, angle_dtype=angle_dtype)
    if inputs.get("bias") is not None:
        name, args = inputs["bias"]
        out = out + scheme_budgets.bias_budget(BIASES[name].factory(*args), inputs["positions_q"],
                                               inputs["positions_k"], v, q.shape[-3], dtype=dtype,
                                               angle_dtype=angle_dtype)
    return out


def max_logits(scores: Any) -> np.ndarray:
    r""":math:`S_i = \max_j |s_{ij}|` over the finite (visible) logits of each row, 0 for a fully masked row.

    >>> max_logits(np.array([[1.0, -3.0], [-np.inf, 2.0], [-np.inf, -np.inf]]))
    array([3., 2., 0.])
    """
    s = np.asarray(scores, dtype=np.float64)
    return np.max(np.where(np.isfinite(s), np.abs(s), 0.0), axis=-1, initial=0.0)
