r"""Cosine and sine of :math:`p\,\omega` to double-double accuracy: the angle in turns, reduced exactly, then a
table and two short polynomials.

With :math:`\nu = \omega N/(2\pi)` held in three words (:math:`N = 2^{13}` table steps per turn, the constant
:math:`2\pi` folded into :math:`\nu`), the angle in steps :math:`p\nu` is formed without loss: :math:`p\nu_0`
and :math:`p\nu_1` as exact two-word products, :math:`p\nu_2` rounded (its error is below
:math:`2^{-106}` steps). The integer part is removed exactly (Sterbenz), leaving a step index :math:`j` and a
double-double remainder :math:`r`, :math:`|r| \le 1/2`; this is Payne and Hanek's reduction with :math:`2\pi`
carried by :math:`\nu` (the reduction never multiplies by a rounded :math:`2\pi`). Then, with
:math:`a = 2\pi j/N` from a table of double-double values and :math:`\delta = 2\pi r/N`
(:math:`|\delta| \le 2^{-11.3}`),

.. math:: \cos(a + \delta) = C + C\,U - S \sin\delta,\qquad \sin(a + \delta) = S + S\,U + C\sin\delta,

where :math:`\cos\delta = 1 + U` and :math:`\sin\delta = \delta(1 + T)` are Taylor polynomials whose leading
terms are carried in two words. The result is a double-double :math:`(h, \ell)` within about
:math:`2^{-100}` of the exact value (relatively, and absolutely for values below 1), with :math:`h` its
rounding to float64; the arrays are processed in blocks that stay in cache.

Spec: docs/spec/precision.md [P-EXACT-3]. Source: M. Payne, R. Hanek, "Radian reduction for trigonometric
functions", SIGNUM Newsl. 18 (1983); P. T. P. Tang, "Table-driven implementation of the exponential
function" (ACM TOMS 15, 1989), for the table-and-polynomial scheme; Muller, *Elementary Functions* (2016),
ch. 11.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .._parallel import parallel_map
from .eft import fast_two_sum, split, two_prod, two_prod_split, two_sum
from .functions import cos_sin_small, pi
from .multi import Multi

__all__ = ["TABLE_BITS", "STEPS", "MAX_STEPS", "table", "steps_per_radian", "cos_sin_dd"]

TABLE_BITS = 13
STEPS = 1 << TABLE_BITS
"""Table entries per turn, :math:`N`."""
MAX_STEPS = 2.0**52
""":math:`|p\\nu|` must stay below this (the integer part then is exact in float64)."""
_BLOCK = 1 << 13  # angles per block: the temporaries of a block stay in cache

_STEP = Multi.of(pi(3) / float(STEPS // 2), 2)  # 2 pi / N, two words
_STEP_SPLIT = split(float(_STEP.words[0]))
_SIXTH = Multi.of(Multi.of(1.0, 3) / 6.0, 2)
_SIXTH_SPLIT = split(float(_SIXTH.words[0]))


@cache
def table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(cos_hi, cos_lo, sin_hi, sin_lo)``: :math:`\\cos(2\\pi j/N)` and :math:`\\sin(2\\pi j/N)` as double-doubles,
    ``j = 0..N-1`` (each word pair the rounding of a triple-double value; exact 0 and ±1 at the quarter turns).

    >>> c_hi, c_lo, s_hi, s_lo = table()
    >>> [float(t[STEPS // 4]) for t in (c_hi, c_lo, s_hi, s_lo)], float(c_hi[STEPS // 8] - s_hi[STEPS // 8])
    ([0.0, 0.0, 1.0, 0.0], 0.0)
    """
    eighth = STEPS // 8
    j = np.arange(eighth + 1, dtype=np.float64)
    cos, sin = cos_sin_small(pi(3) * (j / (STEPS // 2)))
    base_cos, base_sin = (np.stack(Multi.of(v, 2).words, axis=-1) for v in (cos, sin))
    index = np.arange(STEPS)
    quarter, m = np.divmod(index, STEPS // 4)
    mirrored = m > eighth  # cos(2 pi m / N) = sin(2 pi (N/4 - m) / N) past the eighth turn
    k = np.where(mirrored, STEPS // 4 - m, m)
    c = np.where(mirrored[:, None], base_sin[k], base_cos[k])
    s = np.where(mirrored[:, None], base_cos[k], base_sin[k])
    turn = [quarter[:, None] == q for q in range(3)]  # a quarter turn maps (cos, sin) to (-sin, cos)
    c, s = np.select(turn, [c, -s, -c], s) + 0.0, np.select(turn, [s, c, -s], -c) + 0.0  # + 0.0: no -0.0
    return tuple(np.ascontiguousarray(a) for a in (c[:, 0], c[:, 1], s[:, 0], s[:, 1]))


def steps_per_radian(omega: Multi) -> Multi:
    """:math:`\\nu = \\omega N/(2\\pi)` in three words: the angle per unit position in table steps."""
    return Multi.of(omega, 3) * float(STEPS // 2) / pi(3)


def cos_sin_dd(positions: np.ndarray, nu: Multi, positions_lo: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""``(cos_hi, cos_lo, sin_hi, sin_lo)`` of the angles :math:`p\,\omega` (in steps :math:`p\,\nu`), shape
    ``positions.shape + nu.shape``; each hi word is the float64 rounding of its pair.

    ``positions`` are float64 (any real values); :math:`|p\,\nu|` must stay below :data:`MAX_STEPS` (the
    caller checks). ``positions_lo`` (same shape, :math:`|p_{lo}| \le \mathrm{ulp}(p)`), if given, makes each
    position the double-double :math:`p + p_{lo}` (exact attention's outer passes): :math:`p_{lo}\nu_0` joins the
    reduction as an exact two-word product. Spec: [P-EXACT-3], [P-ATTN-1].

    >>> import math
    >>> c_hi, c_lo, s_hi, s_lo = cos_sin_dd(np.array([1.0, 3.0]), steps_per_radian(Multi.of(np.array([0.5]), 3)))
    >>> c_hi[:, 0].tolist() == [math.cos(0.5), math.cos(1.5)], s_hi[:, 0].tolist() == [math.sin(0.5), math.sin(1.5)]
    (True, True)
    """
    words = [np.broadcast_to(np.asarray(w, dtype=np.float64), nu.shape) for w in nu.words]
    pos = np.asarray(positions, dtype=np.float64)
    shape = pos.shape + nu.shape
    flat = pos.reshape(-1)
    flat_lo = None if positions_lo is None else np.broadcast_to(positions_lo, pos.shape).reshape(-1)
    out = [np.empty((flat.shape[0],) + nu.shape) for _ in range(4)]
    rows = max(1, _BLOCK // max(1, int(np.prod(nu.shape))))
    splits = (split(words[0]), split(words[1]))
    def run(block: slice) -> None:   # blocks are independent: spread over the oracle's threads, same bits
        lo = None if flat_lo is None else flat_lo[block]
        for target, value in zip(out, _block(flat[block], words, splits, lo)):
            target[block] = value

    parallel_map(run, [slice(start, start + rows) for start in range(0, flat.shape[0], rows)])
    return tuple(o.reshape(shape) for o in out)


def _block(p: np.ndarray, words: list, splits: tuple, p_lo: np.ndarray | None = None) -> tuple:
    p = p[:, None]
    ph, pl = split(p)
    (n0h, n0l), (n1h, n1l) = splits
    h0, l0 = two_prod_split(p, ph, pl, words[0], n0h, n0l)
    h1, l1 = two_prod_split(p, ph, pl, words[1], n1h, n1l)
    j = np.rint(h0)
    a, e1 = two_sum(h0 - j, l0)  # h0 - j is exact
    a, e2 = two_sum(a, h1)
    tail = l1 + p * words[2]
    if p_lo is not None:  # the low word of a double-double position: p_lo nu_0 exactly, p_lo nu_1 rounded
        h2, l2 = two_prod(p_lo[:, None], words[0])
        a, e3 = two_sum(a, h2)
        e2 = e2 + e3
        tail = tail + (l2 + p_lo[:, None] * words[1])
    j2 = np.rint(a)
    r_hi, r_lo = two_sum(a - j2, (e1 + e2) + tail)
    index = np.remainder(j + j2, STEPS).astype(np.intp)
    c_hi, c_lo, s_hi, s_lo = (np.take(t, index) for t in table())
    d_hi, d_lo = _times_step(r_hi, r_lo)
    u_hi, u_lo, sd_hi, sd_lo = _cos_sin_delta(d_hi, d_lo)
    cos = _combine(c_hi, c_lo, u_hi, u_lo, -s_hi, -s_lo, sd_hi, sd_lo)
    sin = _combine(s_hi, s_lo, u_hi, u_lo, c_hi, c_lo, sd_hi, sd_lo)
    return cos + sin


def _times_step(r_hi, r_lo):
    """:math:`\\delta = r \\cdot 2\\pi/N` in two words."""
    rh, rl = split(r_hi)
    d, e = two_prod_split(r_hi, rh, rl, _STEP.words[0], *_STEP_SPLIT)
    return fast_two_sum(d, e + (r_hi * _STEP.words[1] + r_lo * _STEP.words[0]))


def _cos_sin_delta(d_hi, d_lo):
    r"""``(U_hi, U_lo, sin_hi, sin_lo)`` with :math:`\cos\delta = 1 + U` and :math:`\sin\delta` in two words."""
    dh, dl = split(d_hi)
    q, qe = two_prod_split(d_hi, dh, dl, d_hi, dh, dl)
    q_lo = qe + 2.0 * d_hi * d_lo  # delta^2 = q + q_lo
    x = d_hi * d_hi
    # cos d = 1 - d^2/2 (1 - w), sin d = d (1 - d^2/6 (1 - v)): w, v the higher Taylor terms
    w = x * (1.0 / 12.0 - x * (1.0 / 360.0 - x * (1.0 / 20160.0)))
    v = x * (1.0 / 20.0 - x * (1.0 / 840.0 - x * (1.0 / 60480.0)))
    u_hi, u_lo = fast_two_sum(-0.5 * q, 0.5 * (q * w - q_lo))
    qh, ql = split(q)
    t, te = two_prod_split(q, qh, ql, _SIXTH.words[0], *_SIXTH_SPLIT)
    te = te + (q * _SIXTH.words[1] + q_lo * _SIXTH.words[0])  # (t, te) = delta^2 / 6
    t_hi, t_lo = -t, t * v - te  # T = -delta^2/6 (1 - v)
    m, me = two_prod(d_hi, t_hi)  # delta T, about 2^-24 delta: added exactly, its errors with the low words
    sin_hi, e = fast_two_sum(d_hi, m)
    sin_hi, sin_lo = fast_two_sum(sin_hi, e + (d_lo + (me + (d_hi * t_lo + d_lo * t_hi))))
    return u_hi, u_lo, sin_hi, sin_lo


def _combine(a_hi, a_lo, u_hi, u_lo, b_hi, b_lo, s_hi, s_lo):
    r""":math:`A(1 + U) + B\sin\delta` in two words, :math:`A = (a_{hi}, a_{lo})`, :math:`B = (b_{hi}, b_{lo})`
    table values (:math:`|A|, |B| \le 1`)."""
    au, aue = two_prod(a_hi, u_hi)
    bs, bse = two_prod(b_hi, s_hi)
    total, e1 = two_sum(a_hi, bs)
    total, e2 = two_sum(total, au)
    tail = (e1 + e2) + (a_lo + (aue + bse) + (a_hi * u_lo + a_lo * u_hi) + (b_hi * s_lo + b_lo * s_hi))
    return fast_two_sum(total, tail)
