r"""The rotations of the pre-rotated methods (``auto``, ``two_pass``) in fast mode: angles carried in two words.

Pre-rotating :math:`q_i` at :math:`P_i` and :math:`k_j` at :math:`P_j` relies on
:math:`\mathcal R(P_i\omega)^\top\mathcal R(P_j\omega) = \mathcal R((P_j - P_i)\omega)`. With the angle rounded to
float64 each rotation is off by :math:`u|P\omega|/2`, so the logit error grew with the **absolute** position
(:math:`10^5\,u` at :math:`P = 10^6`). Here the angle is the exact product :math:`P\hat\omega = \phi + e`
(Dekker's ``two_prod``; :math:`P` itself a double-double for the outer passes), and

.. math:: \cos(\phi + e) = \cos\phi\,(1 - \tfrac{e^2}{2} + \tfrac{e^4}{24}) - \sin\phi\,(e - \tfrac{e^3}{6}
          + \tfrac{e^5}{120}),

(the sine likewise), with :math:`|e| \le 2^{-8}` while :math:`|P\hat\omega| \le` :data:`TWO_WORD_LIMIT`: each
rotation is within a few :math:`u` of the exact rotation at the stored frequency :math:`\hat\omega`, whatever the
position, so the logit's error no longer grows with :math:`P` (only the stored :math:`\hat\omega`'s own error
:math:`\varepsilon` remains, times the relative angle). This is what a per-tile origin achieves (the error then
grows with the distance within the tile), at a cost linear in :math:`n` rather than one extra rotation per tile.

The outer passes rotate at :math:`P^q = \sigma w + s(p_i - \sigma w)` and :math:`P^k = s\,p_j` (``s`` the
float64 outer slope), formed here as double-doubles. Spec: docs/spec/numerics.md [N-FAST-3]. Source: T. J.
Dekker (1971), the error-free product; the angle-addition formula.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..layouts import pair_slices
from ..precision.eft import split, two_prod, two_prod_split, two_sum
from ..rotary import _rotate_into

__all__ = ["TWO_WORD_LIMIT", "pass_positions", "rotate"]

TWO_WORD_LIMIT = 2.0**45
"""Largest :math:`|P\\hat\\omega|` rotated with a two-word angle (the correction's Taylor terms then reach
:math:`2^{-57}`); beyond it a call falls back to the float64 angle of :func:`refrope.apply_rope`."""
_SAFE = 2.0**500  # two_prod needs |a|, |b| far below 2^995
_ROWS = 1 << 14   # angles per block: the temporaries of a block stay in cache


def pass_positions(relpos, pq: np.ndarray, pk: np.ndarray, side: int) -> tuple:
    r"""``((Pq_hi, Pq_lo), (Pk_hi, Pk_lo))``: where pass ``side`` rotates queries and keys, as double-doubles.

    Pass 0 is :math:`(p_i, p_j)`; pass :math:`\sigma = \pm 1` is :math:`(\sigma w + s(p_i - \sigma w), s\,p_j)`,
    :meth:`refrope.relpos.RelPos.outer_positions` with every operation error-free (the high words are its float64
    values).

    >>> from refrope import relpos
    >>> (qh, ql), (kh, kl) = pass_positions(relpos.leaky_rerope(1, 3), np.array([2.0**40 + 2]), np.array([3.0]), 1)
    >>> float(kh[0]), float(kl[0])  # 3 * fl(1/3) = 1 - 2^-54 exactly
    (1.0, -5.551115123125783e-17)
    """
    zero_q, zero_k = np.zeros_like(pq), np.zeros_like(pk)
    if side == 0:
        return (pq, zero_q), (pk, zero_k)
    w, s = side * relpos.inner_window, relpos.outer_slope
    if max(float(np.max(np.abs(pq), initial=0.0)), float(np.max(np.abs(pk), initial=0.0)), abs(w)) > _SAFE:
        return tuple((p, np.zeros_like(p)) for p in relpos.outer_positions(pq, pk, side))
    a_hi, a_lo = two_sum(pq, -w)
    b_hi, b_lo = two_prod(a_hi, s)
    q_hi, e = two_sum(w, b_hi)
    return (q_hi, e + (b_lo + a_lo * s)), two_prod(pk, s)


def rotate(x: np.ndarray, hi: np.ndarray, lo: np.ndarray, omega: np.ndarray, magnitude: float,
           layout: str) -> np.ndarray:
    r""":math:`m\,\mathcal R((h + \ell)\hat\omega)\,x` on the rotary slice of ``x`` ``(n, d)`` (row ``t`` at the
    double-double position ``(hi[t], lo[t])``), the other coordinates copied; a new float64 array.

    >>> x = np.array([[1.0, 0.0]])
    >>> rotate(x, np.array([2.0**40 + 1]), np.array([0.0]), np.array([1.0]), 1.0, "half")[0, 1] == np.sin(2**40 + 1)
    np.True_
    """
    half = omega.shape[0]
    out = np.empty(x.shape)
    out[:, 2 * half:] = x[:, 2 * half:]
    if not half:
        return out
    a_in, b_in = pair_slices(2 * half, layout)
    a_out, b_out = pair_slices(2 * half, layout, output=True)
    largest, fastest = float(np.max(np.abs(hi), initial=0.0)), float(np.max(np.abs(omega), initial=0.0))
    two_words = largest * fastest <= TWO_WORD_LIMIT and max(largest, fastest) <= _SAFE
    angle = None
    if two_words:  # the exact product's low word is below u |P omega| (+ |lo omega|): its size picks the correction
        tail = largest * fastest * 2.0**-53 + float(np.max(np.abs(lo), initial=0.0)) * fastest
        angle = _Angle(split(omega), not np.any(split(hi)[1]), bool(np.any(lo)), tail)
    rows = max(1, _ROWS // half)
    tmp = np.empty((min(rows, x.shape[0]), half))
    for start in range(0, x.shape[0], rows):
        block = slice(start, start + rows)
        cos, sin = _cos_sin(hi[block], lo[block], omega, angle)
        if magnitude != 1.0:
            cos *= magnitude
            sin *= magnitude
        # out is not x, so no pair is overwritten before it is read
        _rotate_into(x[block, a_in], x[block, b_in], cos, sin, out[block, a_out], out[block, b_out],
                     tmp[: cos.shape[0]])
    return out


class _Angle(NamedTuple):
    r"""What one call of :func:`rotate` knows of its angles: the split frequencies, whether every position has at most
    26 significant bits (then :math:`p\,\omega_{hi}` is exact), whether there are low words, and a bound on the
    exact product's low word."""

    omega_split: tuple
    short: bool
    with_lo: bool
    tail: float


def _cos_sin(hi: np.ndarray, lo: np.ndarray, omega: np.ndarray, angle: _Angle | None) -> tuple:
    """cos and sin of ``(hi + lo) * omega`` for a block of rows, ``(rows, d/2)`` each (``angle`` None: the float64
    angle ``hi * omega``)."""
    p = hi[:, None]
    phi = p * omega
    if angle is None:
        return np.cos(phi), np.sin(phi)
    w_hi, w_lo = angle.omega_split
    if angle.short:  # p * w_hi is exact, the last terms of Dekker's product vanish
        e = p * w_hi
        e -= phi
        e += p * w_lo
    else:
        e = two_prod_split(p, *split(p), omega, w_hi, w_lo)[1]
    if angle.with_lo:
        e += lo[:, None] * omega
    c, s = np.cos(phi), np.sin(phi)
    if angle.tail < 2.0**-27:  # e^2/2 < u/4: cos e = 1, sin e = e
        return c - s * e, s + c * e
    g = e * e
    if angle.tail < 2.0**-18:  # e^4/24 and e^3/6 below u/4 of their terms
        h = 0.5 * g
        return c - (c * h + s * e), s - (s * h - c * e)
    cos_e = 1.0 - g * (0.5 - g * (1.0 / 24.0))
    sin_e = e * (1.0 - g * (1.0 / 6.0 - g * (1.0 / 120.0)))
    return c * cos_e - s * sin_e, s * cos_e + c * sin_e
