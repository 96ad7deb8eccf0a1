r"""``precision="exact"``: attention, logits and weights within a couple of ulps of the exact values.

One algorithm for every ``method`` and ``block_size`` (the result depends on neither): tiles of
:data:`ROWS` queries by :data:`COLS` keys, tiles with no visible pair skipped, and for each tile

1. the logits as double-doubles: :math:`\tilde q_i^\top\tilde k_j` of the rotated q and k
   (:class:`~refrope._attention.exact_parts.ExactPasses`) by :func:`~refrope.precision.dd.matmul_dd` (Ozaki's
   slices, each product exact in BLAS) plus the cross products of high and low words, times :math:`c_i` and plus
   the bias exactly; the piece and the mask of each pair from its exact relative position;
2. an online softmax in double-double: the running row maximum :math:`M` (of the high words),
   :math:`P = e^{s - M}` by :func:`~refrope.precision.dd.exp_dd`, and :math:`P[V \mid 1]` as
   ``matmul_dd(P_hi, [V|1]) + P_lo [V|1]``, earlier sums rescaled by :math:`e^{M_{old} - M_{new}}`;
3. the quotient of the two sums in double-double, rounded once.

The exact output :math:`t` is the formula of [A-OUT-1] in real arithmetic with the float64 inputs, the
frequencies' exact values, the stored magnitude :math:`m`, the float64 multipliers :math:`c_i`
(:func:`refrope.budgets.logit_multiplier`) and the float64 bias values :math:`b(\mathrm{fl}(p_i - p_j))`.
Spec: docs/spec/precision.md [P-ATTN-1]. Source: K. Ozaki, T. Ogita, S. Oishi, S. M. Rump, Numer. Algorithms 59
(2012); Milakov & Gimelshein (arXiv:1805.02867), the online softmax.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from ..precision.dd import add_dd, div_dd, exp_dd, matmul_dd, mul_dd
from ..precision.eft import two_prod, two_sum
from . import exact_parts as parts
from .setup import Head, Options
from .strips import strips

__all__ = ["ROWS", "COLS", "ExactTiles", "exact_attention", "exact_scores", "exact_probs"]

ROWS = 128
"""Query rows per tile in exact mode."""
COLS = 256
"""Keys per tile in exact mode."""
BITS = 62
"""The products of exact mode are within :math:`2^{-62}` of their exact values (absolute, or relative to their size
below 1): far below the :math:`u = 2^{-53}` that the output's bound allows."""


def _bits(k: int, scale: float) -> int:
    r"""Bits the slices of :func:`~refrope.precision.dd.matmul_dd` must cover so that a product of inner dimension
    ``k`` whose rows' and columns' largest entries multiply to at most ``scale`` is within :math:`2^{-62}`
    (:data:`BITS`) of the exact one, and within :math:`2^{-62}\,\mathrm{scale}` below 1; at most the 114 bits of a
    full double-double (above :math:`\mathrm{scale} = 2^{45}` the error grows as :math:`2^{-107}\,\mathrm{scale}`)."""
    size = math.frexp(scale)[1] if scale > 0 else -1074
    return min(114, BITS + math.ceil(math.log2(max(k, 1))) + max(0, size))


def _dot_dd(q: tuple, k: tuple, factor: float) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`Q K^\top` of two double-double matrices: the high words' product by Ozaki's slices (enough of them for
    the logits, :math:`c_i` times this, to be within :math:`2^{-62}` of exact; ``factor`` the largest :math:`|c_i|`),
    the cross products in float64 (the low words' product, below :math:`2^{-106}`, dropped)."""
    scale = float(np.abs(q[0]).max(initial=0.0)) * float(np.abs(k[0]).max(initial=0.0))
    bits = _bits(q[0].shape[-1], scale) + max(0, math.frexp(factor)[1])
    hi, lo = matmul_dd(q[0], k[0].T, min(114, bits))
    return two_sum(hi, lo + (q[0] @ k[1].T + q[1] @ k[0].T))


class ExactTiles:
    """The double-double logits of one head, tile by tile."""

    def __init__(self, head: Head, options: Options) -> None:
        self.head, self.options = head, options
        self.passes = parts.ExactPasses(head, options)
        self.rows = [slice(s, min(s + ROWS, len(head.pq))) for s in range(0, len(head.pq), ROWS)]
        self.cols = [slice(s, min(s + COLS, len(head.pk))) for s in range(0, len(head.pk), COLS)]
        for side in (0, 1, -1):  # rotate up front: an angle beyond the limit is an error before any tile
            if side == 0 or np.isfinite(options.relpos.inner_window):
                self.passes[side]

    def _skipped(self, rows: slice, cols: slice) -> bool:
        """True when no pair of the tile can be visible (causal, causal window, padded keys), decided exactly."""
        head, options = self.head, self.options
        if head.key_mask is not None and not head.key_mask[cols].any():
            return True
        if not options.causal:
            return False
        lowest = two_sum(head.pq[rows].min(), -head.pk[cols].max())
        highest = two_sum(head.pq[rows].max(), -head.pk[cols].min())
        return bool(highest[0] < 0 or (options.window is not None and not parts.less(lowest, options.window)))

    def logits(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray] | None:
        """``(hi, lo)``: the logits of a tile, masked pairs ``(-inf, 0)``; None when no pair is visible."""
        if self._skipped(rows, cols):
            return None
        head, options = self.head, self.options
        pq, pk = head.pq[rows], head.pk[cols]
        r = parts.relative(pq, pk)
        ok = parts.visible(pq, pk, r, None if head.key_mask is None else head.key_mask[cols], options)
        if not ok.any():
            return None
        ids = parts.pass_ids(r, options.relpos.inner_window) if self.passes.rotary else np.zeros(ok.shape, np.int8)
        hi, lo = np.zeros(ok.shape), np.zeros(ok.shape)
        largest = float(np.abs(head.factor[rows]).max())
        for side in np.unique(ids[ok]):
            q, k = self.passes[int(side)]
            s_hi, s_lo = _dot_dd((q[0][rows], q[1][rows]), (k[0][cols], k[1][cols]), largest)
            chosen = ids == side
            hi, lo = np.where(chosen, s_hi, hi), np.where(chosen, s_lo, lo)
        factor = head.factor[rows, None]
        hi, e = two_prod(hi, factor)
        e = e + lo * factor
        if head.bias is not None:
            hi, e2 = two_sum(hi, head.bias(pq[:, None] - pk[None, :]))
            e = e + e2
        hi, lo = two_sum(hi, e)
        return np.where(ok, hi, -np.inf), np.where(ok, lo, 0.0)

    def row_tiles(self, rows: slice) -> Iterator[tuple[slice, tuple[np.ndarray, np.ndarray]]]:
        """``(cols, logits)`` of the tiles of a query block that have a visible pair."""
        for cols in self.cols:
            tile = self.logits(rows, cols)
            if tile is not None:
                yield cols, tile


def _weights(s: tuple, peak: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:math:`e^{s - M}` as double-doubles (0 for a masked logit); ``peak`` is finite."""
    finite = np.isfinite(s[0])
    x_hi, x_lo = two_sum(np.where(finite, s[0], 0.0), -peak[:, None])
    return exp_dd(np.where(finite, x_hi, -np.inf), np.where(finite, x_lo + s[1], 0.0))


def exact_attention(head: Head, options: Options) -> np.ndarray:
    """Output ``(n_q, dv)`` of one head in exact mode (rows with no visible key: 0)."""
    tiles = ExactTiles(head, options)
    n_k, dv = head.v.shape
    v1 = np.empty((n_k, dv + 1))
    v1[:, :dv], v1[:, dv] = head.v, 1.0
    out = np.zeros((len(head.pq), dv))
    for rows in tiles.rows:
        n = rows.stop - rows.start
        peak = np.full(n, -np.inf)
        acc = (np.zeros((n, dv + 1)), np.zeros((n, dv + 1)))
        for cols, s in tiles.row_tiles(rows):
            new = np.maximum(peak, s[0].max(axis=1))
            shift = np.where(np.isneginf(new), 0.0, new)
            p_hi, p_lo = _weights(s, shift)
            term_hi, term_lo = matmul_dd(p_hi, v1[cols], _bits(p_hi.shape[1], 1.0))
            term = two_sum(term_hi, term_lo + p_lo @ v1[cols])
            if np.any(new > peak):
                seen = np.isfinite(peak)
                g_hi, g_lo = two_sum(np.where(seen, peak, 0.0), -shift)
                scale = exp_dd(np.where(seen, g_hi, -np.inf), np.where(seen, g_lo, 0.0))
                acc = mul_dd(*acc, scale[0][:, None], scale[1][:, None])
            acc = add_dd(*acc, *term)
            peak = new
        total = (acc[0][:, dv:], acc[1][:, dv:])
        live = total[0] > 0
        quotient = div_dd(acc[0][:, :dv], acc[1][:, :dv], np.where(live, total[0], 1.0), total[1])[0]
        out[rows] = np.where(live, quotient, 0.0)
    return out


def exact_scores(head: Head, options: Options) -> np.ndarray:
    """All logits ``(n_q, n_k)`` of one head in exact mode, each rounded once; masked pairs ``-inf``."""
    tiles = ExactTiles(head, options)
    out = np.full((len(head.pq), len(head.pk)), -np.inf)
    for rows in tiles.rows:
        for cols, s in tiles.row_tiles(rows):
            out[rows, cols] = s[0]
    return out


def exact_probs(head: Head, options: Options) -> np.ndarray:
    """The weights ``(n_q, n_k)`` of one head in exact mode: :math:`e^{s - M}` over their double-double sum, each
    rounded once; masked pairs and rows with no visible key 0."""
    tiles = ExactTiles(head, options)
    n_k = len(head.pk)
    out = np.zeros((len(head.pq), n_k))
    ones = np.ones((n_k, 1))
    for rows in strips(len(head.pq), n_k, ROWS):  # at most 2**18 logits at once
        n = rows.stop - rows.start
        s = (np.full((n, n_k), -np.inf), np.zeros((n, n_k)))
        for cols, tile in tiles.row_tiles(rows):
            s[0][:, cols], s[1][:, cols] = tile
        peak = s[0].max(axis=1)
        live = np.isfinite(peak)
        p_hi, p_lo = _weights(s, np.where(live, peak, 0.0))
        z_hi, z_lo = matmul_dd(p_hi, ones, _bits(n_k, 1.0))
        z_hi, z_lo = two_sum(z_hi, z_lo + p_lo.sum(axis=1, keepdims=True))
        quotient = div_dd(p_hi, p_lo, np.where(live[:, None], z_hi, 1.0), z_lo)[0]
        out[rows] = np.where(live[:, None], quotient, 0.0)
    return out
