r"""``method="auto"``: tiles of BLAS products, fully masked tiles skipped, one pass per tile where possible.

The score matrix is cut into tiles of ``block x block`` (query rows x keys). A tile is skipped when
no pair in it may attend (the causal upper triangle, beyond the sliding window, padded keys); it is
one GEMM of pre-rotated :math:`Q_\sigma K_\sigma^\top` when all its pairs use the same pass
(wholly inside or wholly outside the ReRoPE window), and the passes it spans combined elementwise
otherwise. Consecutive tiles of a query block that are fully visible and use the same single pass
are computed as one wider product (up to ``_RUN_TILES`` tiles): fewer, larger BLAS calls.
Attention runs an online (streaming) softmax over the tiles of each query block:

.. math:: m' = \max(m, \max_j s_j),\quad a' = a\,e^{m - m'} + \sum_j e^{s_j - m'}[v_j, 1]

so memory is ``O(block^2 + n d)`` whatever the lengths. A bias is added to every computed tile; a chunk mask
([A-MASK-5]) classifies tiles from their chunks too (tiles whose queries and keys share no chunk are skipped,
tiles within one chunk are as visible as the other masks allow).
Spec: [A-METHOD-1], [A-COST-1], [A-CHUNK-1], [A-MEM-1], [A-MASK-5]. Source: Milakov & Gimelshein 2018 (online
softmax); Dao et al., FlashAttention (arXiv:2205.14135).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from .._parallel import parallel_map
from .masks import ALL, NONE, SOME, mask_logits, tile_visibility, visible_range
from .passes import Passes, pass_ids, tile_passes
from .schemes import add_bias, chunk_ids, chunk_state
from .setup import Head, Options

__all__ = ["blocked_attention", "blocked_scores"]

_RUN_TILES = 8  # at most this many merged tiles per product (512 x 4096 logits at the default block)
_PARALLEL_LOGITS = 1 << 21  # fewer logits than this (about 10 ms of work): one thread


class _Span(NamedTuple):
    """A run of key columns of one query block with its visibility (SOME/ALL) and passes."""

    cols: slice
    state: int
    sides: tuple[int, ...]


class _Tiles:
    """Block boundaries, per-block position ranges and rotated passes of one head."""

    def __init__(self, head: Head, options: Options) -> None:
        self.head, self.options, b = head, options, options.block
        self.rows = [slice(s, min(s + b, len(head.pq))) for s in range(0, len(head.pq), b)]
        self.cols = [slice(s, min(s + b, len(head.pk))) for s in range(0, len(head.pk), b)]
        self.row_range = [(head.pq[s].min(), head.pq[s].max()) for s in self.rows]
        self.col_range = [(head.pk[s].min(), head.pk[s].max()) for s in self.cols]
        self.row_chunks = [chunk_ids(head.pq[s], options.chunk) for s in self.rows]
        self.col_chunks = [chunk_ids(head.pk[s], options.chunk) for s in self.cols]
        self.passes = Passes(head, options)
        self._buffers = threading.local()  # one logits buffer per thread (query blocks may run in threads)

    @property
    def _buffer(self) -> np.ndarray:
        if not hasattr(self._buffers, "array"):
            b, head = self.options.block, self.head
            self._buffers.array = np.empty((min(b, len(head.pq)), min(_RUN_TILES * b, len(head.pk))))
        return self._buffers.array

    def spans(self, i: int) -> Iterator[_Span]:
        """The visible runs of query block ``i``: each tile classified, equal fully visible one-pass tiles merged."""
        head, options, window = self.head, self.options, self.options.relpos.inner_window
        run: _Span | None = None
        for j, cols in enumerate(self.cols):
            r_lo = self.row_range[i][0] - self.col_range[j][1]
            r_hi = self.row_range[i][1] - self.col_range[j][0]
            state = min(tile_visibility(r_lo, r_hi, None if head.key_mask is None else head.key_mask[cols], options),
                        chunk_state(self.row_chunks[i], self.col_chunks[j]))
            if state == NONE:
                continue
            tile = _Span(cols, state, tile_passes(*visible_range(r_lo, r_hi, options), window))
            if (run is not None and tile.state == run.state == ALL and tile.sides == run.sides
                    and len(tile.sides) == 1 and run.cols.stop == cols.start
                    and cols.stop - run.cols.start <= self._buffer.shape[1]):
                run = _Span(slice(run.cols.start, cols.stop), ALL, run.sides)
                continue
            if run is not None:
                yield run
            run = tile
        if run is not None:
            yield run

    def logits(self, i: int, span: _Span) -> np.ndarray:
        """Logits of query block ``i`` against the span's keys, masked pairs ``-inf``.

        The result lives in a buffer that the next call overwrites.
        """
        head, rows, cols = self.head, self.rows[i], span.cols
        q, k = self.passes[span.sides[0]]
        s = np.matmul(q[rows], k[cols].T, out=self._buffer[: rows.stop - rows.start, : cols.stop - cols.start])
        if len(span.sides) > 1:
            ids = pass_ids(head.pq[rows, None] - head.pk[None, cols], self.options.relpos.inner_window)
            for side in span.sides[1:]:
                q, k = self.passes[side]
                np.copyto(s, q[rows] @ k[cols].T, where=ids == side)
        add_bias(s, head.pq[rows], head.pk[cols], head.bias)
        if span.state == SOME:
            mask = None if head.key_mask is None else head.key_mask[cols]
            mask_logits(s, head.pq[rows], head.pk[cols], mask, self.options)
        return s


def blocked_attention(head: Head, options: Options) -> np.ndarray:
    """Attention output ``(n_q, dv)`` of one head by tiles and an online softmax (all-masked rows: 0)."""
    tiles = _Tiles(head, options)
    n_k, dv = head.v.shape
    v1 = np.empty((n_k, dv + 1))       # [v | 1]: the GEMM also sums the weights
    v1[:, :dv], v1[:, dv] = head.v, 1.0
    out = np.empty((len(head.pq), dv))
    plan = [list(tiles.spans(i)) for i in range(len(tiles.rows))]
    for side in sorted({side for spans in plan for span in spans for side in span.sides}):
        tiles.passes[side]  # rotated once, before any thread reads them

    def query_block(i: int) -> None:
        rows = tiles.rows[i]
        peak = np.full(rows.stop - rows.start, -np.inf)
        acc = np.zeros((rows.stop - rows.start, dv + 1))
        for span in plan[i]:
            s = tiles.logits(i, span)
            new = np.maximum(peak, s.max(axis=1))
            shift = np.where(np.isneginf(new), 0.0, new)
            s -= shift[:, None]
            np.exp(s, out=s)
            acc *= np.exp(peak - shift)[:, None]
            acc += s @ v1[span.cols]
            peak = new
        total = acc[:, dv:]
        out[rows] = acc[:, :dv] / np.where(total > 0, total, 1.0)

    # the query blocks are independent: over threads, the costliest first (same bits as one by one [PERF-THREADS-1])
    cost = [sum(span.cols.stop - span.cols.start for span in spans) for spans in plan]
    order = sorted(range(len(plan)), key=lambda i: -cost[i])
    if sum(cost) * options.block < _PARALLEL_LOGITS:
        order.sort()
        for i in order:
            query_block(i)
    else:
        parallel_map(query_block, order)
    return out


def blocked_scores(head: Head, options: Options) -> np.ndarray:
    """All logits ``(n_q, n_k)`` of one head, tile by tile (skipped tiles are ``-inf``)."""
    tiles = _Tiles(head, options)
    out = np.full((len(head.pq), len(head.pk)), -np.inf)
    for i, rows in enumerate(tiles.rows):
        for span in tiles.spans(i):
            out[rows, span.cols] = tiles.logits(i, span)
    return out
