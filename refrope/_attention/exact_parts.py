r"""What ``precision="exact"`` attention computes per pair: exact masks and pieces, and q, k rotated to double-doubles.

* **Relative positions** :math:`r = p_i - p_j` are exact double-doubles (``two_sum``): the masks ([A-MASK-1] to
  [A-MASK-3]), the chunks :math:`\lfloor p/C\rfloor` ([A-MASK-5]) and the piece of the map ([A-PASS-1]) are
  decided on the exact :math:`r`, not on its float64 rounding.
* **Rotations**: every piece of a map is linear, :math:`f(r) = \sigma w + s(r - \sigma w)`, so pass
  :math:`\sigma` rotates :math:`q_i` by :math:`(p_i - \sigma w)\,s\omega + \sigma w\,\omega` and :math:`k_j` by
  :math:`p_j\,s\omega` (pass 0: :math:`p_i\omega` and :math:`p_j\omega`), with :math:`\omega` the exact frequencies
  in three words (:func:`refrope.precision.exact.exact_inv_freq`), :math:`s\omega = \omega/k` divided exactly
  (:math:`s = 1/k`; ReRoPE's :math:`s = 0` leaves keys unrotated), :math:`p_i - \sigma w` an exact double-double.
  Each term's cosine and sine are double-doubles within :math:`2^{-100}`
  (:func:`refrope.precision.exact.cos_sin_words`), joined by the angle-addition formula, and q and k are rotated
  with the magnitude :math:`m` to double-doubles (:func:`refrope.precision.exact.rotate_words_dd`): the dot product
  of the two then is the exact logit's rotary part to about :math:`2^{-95}`, at any position, for every map (no
  per-pair angle is needed).

Spec: docs/spec/precision.md [P-ATTN-1]. Source: Dekker (1971), Knuth (TAOCP 2, §4.2.2) for the error-free sum and
product; kexue.fm/archives/9708 (the two passes).
"""

from __future__ import annotations

import math

import numpy as np

from ..layouts import pair_slices
from ..precision.dd import add_dd, mul_dd
from ..precision.eft import two_prod, two_sum
from ..precision.exact import cos_sin_words, rotate_words_dd
from .setup import Head, Options

__all__ = ["relative", "less", "greater", "visible", "pass_ids", "outer_divisor", "ExactPasses"]

_SAFE = 2.0**900  # two_prod of a chunk index and its size needs both far below 2^995


def relative(pq: np.ndarray, pk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(r_hi, r_lo)``: :math:`p_i - p_j` for every pair, ``(n_q, n_k)``, exactly (``r_lo`` 0 where it overflows)."""
    with np.errstate(over="ignore", invalid="ignore"):
        r_hi, r_lo = two_sum(pq[:, None], -pk[None, :])
    return r_hi, np.where(np.isfinite(r_hi), r_lo, 0.0)


def less(r: tuple, bound: float) -> np.ndarray:
    """:math:`r < t` for the double-double ``r`` (exact).

    >>> less((np.array([2.0, 2.0]), np.array([-1e-20, 0.0])), 2.0)
    array([ True, False])
    """
    return (r[0] < bound) | ((r[0] == bound) & (r[1] < 0))


def greater(r: tuple, bound: float) -> np.ndarray:
    """:math:`r > t` for the double-double ``r`` (exact)."""
    return (r[0] > bound) | ((r[0] == bound) & (r[1] > 0))


def _chunks(p: np.ndarray, chunk: int) -> np.ndarray:
    r""":math:`\lfloor p/C\rfloor` exactly (the float64 quotient corrected by the exact products :math:`mC`)."""
    m = np.floor(p / chunk)
    safe = np.abs(p) < _SAFE
    hi, lo = two_prod(np.where(safe, m, 0.0), float(chunk))
    m = np.where(safe & ((hi > p) | ((hi == p) & (lo > 0))), m - 1, m)  # m C > p
    hi, lo = two_prod(np.where(safe, m + 1, 0.0), float(chunk))
    return np.where(safe & ((hi < p) | ((hi == p) & (lo <= 0))), m + 1, m)  # (m + 1) C <= p


def visible(pq: np.ndarray, pk: np.ndarray, r: tuple, key_mask: np.ndarray | None, options: Options) -> np.ndarray:
    """[A-MASK-1] to [A-MASK-3], [A-MASK-5] on the exact relative positions ``r`` (:func:`relative`)."""
    ok = r[0] >= 0 if options.causal else np.ones(r[0].shape, dtype=bool)
    n = options.window
    if n is not None:
        ok &= less(r, n) if options.causal else (less(r, n) & greater(r, -n))
    if options.chunk is not None:
        ok &= _chunks(pq, options.chunk)[:, None] == _chunks(pk, options.chunk)[None, :]
    if key_mask is not None:
        ok &= key_mask[None, :]
    return ok


def pass_ids(r: tuple, inner_window: float) -> np.ndarray:
    """0 where :math:`|r| < W`, else the sign of :math:`r` (+1 for :math:`r \\ge 0`), on the exact ``r``."""
    side = np.where(r[0] >= 0, 1, -1).astype(np.int8)
    return np.where(less(r, inner_window) & greater(r, -inner_window), np.int8(0), side)


def outer_divisor(relpos) -> float | None:
    """:math:`k` with outer slope :math:`s = 1/k` (None for :math:`s = 0`); ``ValueError`` for a map whose slope
    exact mode cannot form exactly.

    >>> from refrope import relpos
    >>> outer_divisor(relpos.leaky_rerope(4, 16)), outer_divisor(relpos.rerope(4))
    (16.0, None)
    """
    if relpos.outer_slope == 0.0 or not math.isfinite(relpos.inner_window):
        return None
    factor = getattr(relpos, "factor", None)
    if not isinstance(factor, float) or relpos.outer_slope != 1.0 / factor:
        raise ValueError(f"precision='exact' forms the outer slope 1/k of a map with a factor k; {relpos!r} has "
                         f"outer slope {relpos.outer_slope!r} without one")
    return factor


class ExactPasses:
    """``((Q_hi, Q_lo), (K_hi, K_lo))`` of each pass for one head, double-doubles of the shapes of q and k, computed
    on first use: the rotary slice rotated exactly with magnitude :math:`m` (so that the dot product carries
    :math:`m^2`), the other coordinates as given (low words 0)."""

    def __init__(self, head: Head, options: Options) -> None:
        self._head, self._options = head, options
        self.rotary = options.exact_omega is not None and options.exact_omega.shape[0] > 0
        self._divisor = outer_divisor(options.relpos) if self.rotary else None
        self._cache: dict[int, tuple] = {}

    def __getitem__(self, side: int) -> tuple:
        side = side if self.rotary else 0
        if side not in self._cache:
            head, omega = self._head, self._options.exact_omega
            if side == 0:
                q_terms, k_terms = [(head.pq, None, omega)], [(head.pk, None, omega)]
            else:
                w = side * self._options.relpos.inner_window
                slow = None if self._divisor is None else omega / self._divisor
                q_terms = [] if slow is None else [(*two_sum(head.pq, -w), slow)]
                q_terms += [(np.full(head.pq.shape, w), None, omega)] if w else []
                k_terms = [] if slow is None else [(head.pk, None, slow)]
            other = self._cache.get(-side)
            keys = other[1] if side and other is not None else self._rotate(head.k, k_terms)
            self._cache[side] = (self._rotate(head.q, q_terms), keys)
        return self._cache[side]

    def _rotate(self, x: np.ndarray, terms: list) -> tuple[np.ndarray, np.ndarray]:
        hi, lo = np.array(x, dtype=np.float64), np.zeros(x.shape)
        if not self.rotary:
            return hi, lo
        half = self._options.exact_omega.shape[0]
        a, b = pair_slices(2 * half, self._options.layout)
        words = _words(terms, x.shape[0], half)
        (hi[:, a], lo[:, a]), (hi[:, b], lo[:, b]) = rotate_words_dd(x[:, a], x[:, b], words,
                                                                      self._options.magnitude)
        return hi, lo


def _words(terms: list, n: int, half: int) -> tuple:
    """cos and sin of the sum of the terms' angles :math:`p\\,\\nu` as double-doubles ``(n, half)`` each."""
    words = (np.ones((n, half)), np.zeros((n, half)), np.zeros((n, half)), np.zeros((n, half)))
    for position, position_lo, nu in terms:
        c_hi, c_lo, s_hi, s_lo = cos_sin_words(position, nu, position_lo)
        if len(terms) == 1:
            return c_hi, c_lo, s_hi, s_lo
        cc, ss = mul_dd(words[0], words[1], c_hi, c_lo), mul_dd(words[2], words[3], s_hi, s_lo)
        sc, cs = mul_dd(words[2], words[3], c_hi, c_lo), mul_dd(words[0], words[1], s_hi, s_lo)
        words = (*add_dd(*cc, -ss[0], -ss[1]), *add_dd(*sc, *cs))
    return words
