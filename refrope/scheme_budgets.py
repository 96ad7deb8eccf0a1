r"""The derived error budgets of the schemes of docs/spec/schemes.md: biases in attention, xPos, dual-chunk attention.

They extend :mod:`refrope.budgets` (docs/spec/numerics.md) with one term each, derived the same way:

* a bias computed in precision :math:`u` (angles :math:`u_a`) is off by its ``rounding(r, u, u_a)``
  ([BIAS-NUM-1]); that error adds to every logit of the row, so the output budget gains
  :math:`2V\max_j \delta b_{ij}` (:math:`V = \max|v|`), as any logit error does in [N-ATTN-1];
* xPos multiplies the rotated pair by :math:`\zeta^{\pm p/B}`, computed from
  :math:`e = (p/B)\log\zeta_i` in the angle dtype: relative error :math:`u_a((3 + d)|e| + 2)` (the rounding of
  :math:`\zeta_i` is :math:`u_a`, of :math:`\log\zeta_i` up to :math:`u_a/|\log\zeta_i| \le u_a d/2\cdot 1.4`),
  on top of the rotation's own budget [N-ROPE-1];
* dual-chunk attention rotates queries and keys at positions up to ``chunk_size``: the attention budget with that
  largest angle.

Spec: [BIAS-NUM-1], [K-XPOS-1], [K-DCA-1]. Source: Higham, *Accuracy and Stability of Numerical Algorithms*,
§3.1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .budgets import C_ANGLE, SMALLEST_SUBNORMAL, attention_budget, rope_budget, unit_roundoff
from .layouts import pair_slices
from .xpos import xpos_scale

__all__ = ["bias_budget", "xpos_budget", "dual_chunk_budget"]


def bias_budget(bias: Any, positions_q: Any, positions_k: Any, v: Any, heads_q: int, *, dtype: str,
                angle_dtype: str) -> np.ndarray:
    r"""The output budget's bias term :math:`2V\max_j \delta b_{ij}`, shape ``(heads_q, n_q, 1)`` (or with batch axes).

    :math:`\delta b` is the bias's ``rounding(r, u, u_a)`` with :math:`u` the larger of the two unit roundoffs
    (a backend may compute the bias in its activation dtype). ``v`` is repeated to the query heads.

    >>> from refrope import bias
    >>> t = bias_budget(bias.alibi(1.0), [0.0, 1.0], [0.0, 1.0], np.ones((1, 2, 1)), 1, dtype="float32",
    ...                 angle_dtype="float32")
    >>> (t / 2.0**-24).ravel().tolist()  # 2 V 3 u max_j |b_ij|: each row reaches |r| = 1
    [6.0, 6.0]
    """
    u = max(unit_roundoff(dtype), unit_roundoff(angle_dtype))
    pq = np.asarray(positions_q, dtype=np.float64)
    pk = np.asarray(positions_k, dtype=np.float64)
    r = pq[..., :, None] - pk[..., None, :]
    if r.ndim > 2:
        r = r[..., None, :, :]
    err = np.broadcast_to(bias.rounding(r, u, unit_roundoff(angle_dtype)), r.shape[:-3] + (heads_q,) + r.shape[-2:])
    big_v = np.abs(np.asarray(v, dtype=np.float64)).max(axis=(-2, -1), initial=0.0)[..., None, None]
    return 2.0 * big_v * err.max(axis=-1, keepdims=True)


def xpos_budget(x: Any, positions: Any, freqs: Any, *, role: str, scale_base: float = 512.0, gamma: float = 0.4,
                dtype: str, angle_dtype: str, layout: str = "half") -> np.ndarray:
    r"""Per-element budget of ``apply_xpos``:
    :math:`\zeta^{\pm e}\big(B_{\text{rope}} + m\,r\,(u_a(C_a + (3 + d)|e|) + 2u)\big) + 4\eta` on the rotated
    pairs (:math:`r` the pair's norm, :math:`e = (p/B)\log\zeta_i`; :math:`2u` the product's rounding; the
    rotation's own errors, its underflow term included, are scaled with it, and :math:`4\eta`, :math:`\eta` the
    dtype's smallest subnormal, bounds the final product's rounding when it underflows, which the scale does not
    shrink), 0 elsewhere.

    >>> b = xpos_budget(np.array([[1.0, 0.0]]), [0.0], [1.0], role="q", dtype="float32", angle_dtype="float32")
    >>> (b / 2.0**-24).round(6).tolist()  # rope 8 + 4 (1 + 0), plus 4 + 0 + 2: at p = 0 the scale is 1
    [[18.0, 18.0]]
    """
    from .rotary import resolve_freqs

    omega, magnitude = resolve_freqs(freqs)
    d = 2 * omega.shape[0]
    p = np.asarray(positions, dtype=np.float64)
    scale = xpos_scale(p if role == "q" else -p, d, scale_base=scale_base, gamma=gamma)
    exponent = np.abs(np.log(scale))
    xa = np.asarray(x, dtype=np.float64)
    a, b = pair_slices(d, layout)
    norm = np.hypot(xa[..., :d][..., a], xa[..., :d][..., b])
    extra = magnitude * norm * (unit_roundoff(angle_dtype) * (C_ANGLE + (3 + d) * exponent) + 2 * unit_roundoff(dtype))
    out = rope_budget(xa, p, freqs, dtype=dtype, angle_dtype=angle_dtype, layout=layout)
    a_out, b_out = pair_slices(d, layout, output=True)
    eta = 4.0 * SMALLEST_SUBNORMAL[dtype]
    for side in (a_out, b_out):
        out[..., :d][..., side] = (out[..., :d][..., side] + extra) * scale + eta
    return out


def dual_chunk_budget(q: Any, k: Any, v: Any, freqs: Any, *, chunk_size: int, scale: float | None, dtype: str,
                      angle_dtype: str, max_logit: Any) -> np.ndarray:
    r"""[N-ATTN-1] for ``dual_chunk_attention``: every rotation is by at most ``chunk_size`` positions, so the
    largest angle is ``chunk_size * max(omega)``; ``k`` and ``v`` are repeated to the query heads.

    >>> b = dual_chunk_budget(np.ones((1, 1, 2)), np.ones((1, 1, 2)), np.ones((1, 1, 1)), [1.0], chunk_size=4,
    ...                       scale=1.0, dtype="float64", angle_dtype="float64", max_logit=2.0)
    >>> b.shape
    (1, 1, 1)
    """
    from .rotary import resolve_freqs

    omega, magnitude = resolve_freqs(freqs)
    q = np.asarray(q, dtype=np.float64)
    lam = 1.0 / np.sqrt(q.shape[-1]) if scale is None else float(scale)
    return attention_budget(q, k, v, rotary_dim=2 * omega.shape[0], magnitude=magnitude,
                            logit_scale=np.full(q.shape[:-1], lam), max_angle=float(chunk_size) * float(omega.max()),
                            max_logit=max_logit, dtype=dtype, angle_dtype=angle_dtype)
