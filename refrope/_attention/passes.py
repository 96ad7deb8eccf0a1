r"""The two-pass decomposition: which linear piece of :math:`f` scores a pair, and the rotated q/k of each pass.

A relative-position map is :math:`f(r) = r` for :math:`|r| < W` (pass 0: plain RoPE, :math:`q` at
:math:`p_i`, :math:`k` at :math:`p_j`) and :math:`f(r) = \sigma w + s(r - \sigma w)` for
:math:`\sigma r \ge W`, :math:`\sigma = \pm 1` (pass :math:`\sigma`: :math:`q` and :math:`k` at
:meth:`refrope.relpos.RelPos.outer_positions`). The score of a pair is the dot product of its pass's
rotated :math:`q_i` and :math:`k_j`, since :math:`(\mathcal{R}(a)q)^\top(\mathcal{R}(b)k) =
q^\top\mathcal{R}(b - a)k`. Pass :math:`-1` is only reached with ``causal=False``.
Spec: [A-PASS-1] (docs/spec/attention.md). Source: kexue.fm/archives/9708; bojone/rerope ``rerope_patch.py``,
``leaky_rerope_patch.py``.
"""

from __future__ import annotations

import math

import numpy as np

from .setup import Head, Options
from .turns import pass_positions, rotate

__all__ = ["pass_ids", "tile_passes", "Passes"]


def pass_ids(r: np.ndarray, inner_window: float) -> np.ndarray:
    r"""Elementwise pass: 0 where :math:`|r| < W`, else +1 for :math:`r \ge 0` and -1 for :math:`r < 0`.

    >>> pass_ids(np.array([-5.0, -1.0, 0.0, 2.0, 7.0]), 2.0)
    array([-1,  0,  0,  1,  1], dtype=int8)
    """
    side = np.where(r >= 0, 1, -1).astype(np.int8)
    return np.where(np.abs(r) < inner_window, np.int8(0), side)


def tile_passes(r_lo: float, r_hi: float, inner_window: float) -> tuple[int, ...]:
    """The passes a tile whose (visible) relative positions span ``[r_lo, r_hi]`` needs.

    >>> tile_passes(0.0, 511.0, 1024.0), tile_passes(513.0, 1535.0, 1024.0), tile_passes(1025.0, 2047.0, 1024.0)
    ((0,), (0, 1), (1,))
    """
    w = inner_window
    needed = []
    if w > 0 and r_lo < w and r_hi > -w:
        needed.append(0)
    if math.isfinite(w):
        if r_hi >= w:
            needed.append(1)
        if r_lo < 0 and r_lo <= -w:
            needed.append(-1)
    return tuple(needed)


class Passes:
    """Rotated ``(Q, K)`` of each pass for one head, computed on first use.

    ``Q`` rows are already multiplied by the head's row factor (scale, query scale, softmax factor);
    both carry the magnitude :math:`m` (so their product carries :math:`m^2`), as in ``apply_rope``. The angles are
    carried in two words (:mod:`~refrope._attention.turns`), so the logits' error does not grow with the positions.
    """

    def __init__(self, head: Head, options: Options) -> None:
        self._head, self._options = head, options
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _rotate(self, x: np.ndarray, position: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        options = self._options
        return rotate(x, *position, options.omega, options.magnitude, options.layout)

    def __getitem__(self, side: int) -> tuple[np.ndarray, np.ndarray]:
        if side not in self._cache:
            head = self._head
            pq, pk = pass_positions(self._options.relpos, head.pq, head.pk, side)
            q = self._rotate(head.q, pq)
            q *= head.factor[:, None]
            other = self._cache.get(-side)
            k = other[1] if side and other is not None else self._rotate(head.k, pk)
            self._cache[side] = (q, k)
        return self._cache[side]
