r"""Which (query, key) pairs may attend: the causal, sliding-window and key-padding masks.

With :math:`r = p_q - p_k` (positions, not indices):

* ``causal``: :math:`r \ge 0`;
* ``sliding_window`` :math:`N`: :math:`0 \le r < N` when causal, :math:`|r| < N` otherwise;
* ``key_mask``: key :math:`j` may be attended iff ``key_mask[j]``;
* ``chunk_size`` :math:`C`: :math:`\lfloor p_q/C\rfloor = \lfloor p_k/C\rfloor` (same chunk).

A masked logit is :math:`-\infty` and its probability exactly 0. Tiles of the score matrix are
classified from the range of :math:`r` they span, so that fully masked tiles are never computed.
Spec: [A-MASK-1] to [A-MASK-5] (docs/spec/attention.md).
"""

from __future__ import annotations

import numpy as np

from .schemes import same_chunk
from .setup import Options

__all__ = ["NONE", "SOME", "ALL", "visible", "mask_logits", "tile_visibility", "visible_range"]

NONE, SOME, ALL = 0, 1, 2


def visible(r: np.ndarray, options: Options) -> np.ndarray:
    r"""Boolean array: :math:`r \ge 0` (causal) and :math:`r < N` or :math:`|r| < N` (window).

    >>> from refrope._attention.setup import Options
    >>> opts = Options(np.ones(1), 1.0, "half", None, True, 2.0, 4)
    >>> visible(np.array([-1.0, 0.0, 1.0, 2.0]), opts)
    array([False,  True,  True, False])
    """
    ok = r >= 0 if options.causal else np.ones(r.shape, dtype=bool)
    if options.window is not None:
        ok &= (r < options.window) if options.causal else (np.abs(r) < options.window)
    return ok


def mask_logits(s: np.ndarray, pq: np.ndarray, pk: np.ndarray, key_mask: np.ndarray | None,
                options: Options) -> np.ndarray:
    """Set ``s[i, j] = -inf`` (in place) where query ``pq[i]`` may not attend key ``pk[j]``; return ``s``."""
    ok = visible(pq[:, None] - pk[None, :], options)
    if options.chunk is not None:
        ok &= same_chunk(pq, pk, options.chunk)
    if key_mask is not None:
        ok &= key_mask[None, :]
    np.copyto(s, -np.inf, where=~ok)
    return s


def visible_range(r_lo: float, r_hi: float, options: Options) -> tuple[float, float]:
    """``[r_lo, r_hi]`` clipped to the closed hull of the visible relative positions."""
    if options.causal:
        r_lo = max(r_lo, 0.0)
    if options.window is not None:
        r_hi = min(r_hi, options.window)
        if not options.causal:
            r_lo = max(r_lo, -options.window)
    return r_lo, r_hi


def tile_visibility(r_lo: float, r_hi: float, key_mask: np.ndarray | None, options: Options) -> int:
    """NONE, SOME or ALL: how many pairs of a tile whose relative positions span ``[r_lo, r_hi]`` may attend.

    ``key_mask`` is the tile's slice of the key mask (None: every key).

    >>> from refrope._attention.setup import Options
    >>> opts = Options(np.ones(1), 1.0, "half", None, True, None, 4)
    >>> tile_visibility(-3.0, -1.0, None, opts), tile_visibility(-1.0, 2.0, None, opts), \\
    ...     tile_visibility(0.0, 3.0, None, opts)
    (0, 1, 2)
    """
    causal, window = options.causal, options.window
    if key_mask is not None and not key_mask.any():
        return NONE
    if causal and r_hi < 0:
        return NONE
    if window is not None and (r_lo >= window or (not causal and r_hi <= -window)):
        return NONE
    full = (not causal or r_lo >= 0) and (key_mask is None or bool(key_mask.all()))
    if window is not None:
        full = full and r_hi < window and (causal or r_lo > -window)
    return ALL if full else SOME
