r"""The rotation of :func:`refrope.apply_rope` over blocks of rows, spread over threads.

Each block of rows of the rotary slice is rotated as whole contiguous rows,

.. math:: y = x \odot C + \mathrm{swap}(x) \odot S,\qquad C = (c, c),\; S = (-s, s)

(the ``"half"`` layout; ``"interleaved"`` interleaves the same tables, ``"interleaved_to_half"`` first gathers the
pairs into halves), with :math:`c = m\cos\phi`, :math:`s = m\sin\phi` of the block's positions, computed in the
block (once per position, whatever the number of heads sharing it). Since :math:`u + (-v) = u - v` and
:math:`\mathrm{fl}(b \cdot (-s)) = -\mathrm{fl}(b s)` exactly, every value has the bits of
:func:`refrope.rotary.rotate_pairs`' :math:`(ac - bs,\ bc + as)`, for any block size and thread count.
``precision="exact"`` rotates whole rows the same way with the operations of
:func:`refrope.precision.exact.rotate_words` (double-double tables, one final rounding).
Spec: [R-APPLY-1], [PERF-THREADS-1].
"""

from __future__ import annotations

import itertools

import numpy as np

from ._parallel import parallel_map
from .precision import exact
from .precision.eft import split, two_prod_split, two_sum

__all__ = ["rotate_rows", "rotate_rows_exact"]

_BLOCK = 1 << 15          # values (rows x rotary dim) per block: two scratch blocks stay in the L2 cache
_EXACT_BLOCK = 1 << 14    # the exact rotation has about thirty temporaries per block
_PARALLEL_MIN = 1 << 17   # below this many values, one thread (a pool costs more than it saves)


def _items(x_shape: tuple, pos_shape: tuple, block: int) -> list[tuple]:
    """``(positions index, row slice)`` work items: one per distinct row of positions and block of rows."""
    seq, d = x_shape[-2], x_shape[-1]
    step = max(1, block // d)
    return [(p, slice(r, r + step)) for p in np.ndindex(*pos_shape[:-1]) for r in range(0, seq, step)]


def _heads(lead: tuple, pos_lead: tuple, pidx: tuple):
    """The leading indices of ``x`` whose positions are row ``pidx`` of the (broadcast) positions."""
    return itertools.product(*(range(n) if p == 1 else (i,) for n, p, i in zip(lead, pos_lead, pidx)))


def _tables(positions: np.ndarray, omega: np.ndarray, magnitude: float, layout: str):
    """``(C, S)`` of the block: ``(c, c)`` and ``(-s, s)`` laid out for ``layout``, magnitude folded in."""
    phi = positions[..., None] * omega          # the angle formula of refrope.rotary._angles
    c, s = np.cos(phi), np.sin(phi)
    if magnitude != 1.0:
        c, s = c * magnitude, s * magnitude
    return _laid(c, c, layout), _laid(-s, s, layout)


def _laid(first: np.ndarray, second: np.ndarray, layout: str) -> np.ndarray:
    n = first.shape[-1]
    out = np.empty(first.shape[:-1] + (2 * n,))
    if layout == "interleaved":
        out[..., 0::2], out[..., 1::2] = first, second
    else:
        out[..., :n], out[..., n:] = first, second
    return out


def _gather(x: np.ndarray, layout: str, into: np.ndarray, *, swap: bool) -> np.ndarray:
    """The block's rows in the output's pair order (``swap``: each pair's members exchanged), written to ``into``."""
    n = x.shape[-1] // 2
    if layout == "interleaved":
        first, second = (x[..., 1::2], x[..., 0::2]) if swap else (x[..., 0::2], x[..., 1::2])
        into[..., 0::2], into[..., 1::2] = first, second
        return into
    if layout == "interleaved_to_half":
        first, second = x[..., 0::2], x[..., 1::2]
    else:
        first, second = x[..., :n], x[..., n:]
    if swap:
        first, second = second, first
    into[..., :n], into[..., n:] = first, second
    return into


def rotate_rows(x: np.ndarray, positions: np.ndarray, omega: np.ndarray, magnitude: float, layout: str,
                out: np.ndarray) -> None:
    """Rotate ``x`` (``(..., seq, d)``, the rotary slice) into ``out`` (same shape, float64, not ``x``);
    ``positions`` has the rank of ``x.shape[:-1]``, each axis 1 or that of ``x`` (``apply_rope`` checked it).

    >>> out = np.empty((1, 2))
    >>> rotate_rows(np.array([[1.0, 0.0]]), np.array([1.0]), np.array([np.pi / 2]), 1.0, "half", out)
    >>> out.round(12)
    array([[0., 1.]])
    """
    lead, seq, d = x.shape[:-2], x.shape[-2], x.shape[-1]
    if x.size == 0:
        return
    rows = max(1, _BLOCK // d)

    def run(item) -> None:
        pidx, block = item
        p = positions[pidx]
        C, S = _tables(p[block] if p.shape[0] == seq else p, omega, magnitude, layout)
        ordered = np.empty((min(rows, seq), d)) if layout == "interleaved_to_half" else None
        swapped = np.empty((min(rows, seq), d))
        for idx in _heads(lead, positions.shape[:-1], pidx):
            xs, os_ = x[idx][block], out[idx][block]
            count = xs.shape[0]
            src = xs if ordered is None else _gather(xs, layout, ordered[:count], swap=False)
            np.multiply(src, C, out=os_)
            tmp = _gather(xs, layout, swapped[:count], swap=True)
            np.multiply(tmp, S, out=tmp)
            np.add(os_, tmp, out=os_)

    _run(run, _items(x.shape, positions.shape, _BLOCK), x.size)


def rotate_rows_exact(x: np.ndarray, positions: np.ndarray, freqs, layout: str, out: np.ndarray) -> None:
    """:func:`rotate_rows` with ``precision="exact"``: double-double cos/sin (and the splits of their high words)
    once per position, laid out as :math:`C`, :math:`S` per block, then :func:`_exact_rows` on whole rows (the bits
    of :func:`refrope.precision.exact.rotate_words`)."""
    omega, magnitude = exact.exact_inv_freq(freqs)
    lead, seq, d = x.shape[:-2], x.shape[-2], x.shape[-1]
    if x.size == 0:
        return
    c_hi, c_lo, s_hi, s_lo = exact.cos_sin_words(positions, omega)
    ch, cl = split(c_hi)
    sh, sl = split(s_hi)
    rows = max(1, _EXACT_BLOCK // d)

    def run(item) -> None:
        pidx, block = item

        def laid(first, second):
            first, second = first[pidx], second[pidx]
            if first.shape[0] == seq:
                first, second = first[block], second[block]
            return _laid(first, second, layout)

        tables = (laid(c_hi, c_hi), laid(c_lo, c_lo), laid(-s_hi, s_hi), laid(-s_lo, s_lo))
        splits = (laid(ch, ch), laid(cl, cl), laid(-sh, sh), laid(-sl, sl))
        ordered = np.empty((min(rows, seq), d)) if layout == "interleaved_to_half" else None
        swapped = np.empty((min(rows, seq), d))
        for idx in _heads(lead, positions.shape[:-1], pidx):
            xs = x[idx][block]
            count = xs.shape[0]
            src = xs if ordered is None else _gather(xs, layout, ordered[:count], swap=False)
            other = _gather(xs, layout, swapped[:count], swap=True)
            out[idx][block] = _exact_rows(np.asarray(src, dtype=np.float64), other, tables, splits, magnitude)

    _run(run, _items(x.shape, positions.shape, _EXACT_BLOCK), x.size)


def _exact_rows(x: np.ndarray, swapped: np.ndarray, tables, splits, magnitude: float) -> np.ndarray:
    r""":math:`m(x C + \mathrm{swap}(x) S)` rounded once, :math:`C`, :math:`S` double-double tables, the products of
    the high words exact: per coordinate the operations of ``exact.rotate_words`` (with :math:`S = -s` for the
    first member of a pair, whose negation is exact in every step)."""
    c_hi, c_lo, s_hi, s_lo = tables
    ch, cl, sh, sl = splits
    xh, xl = split(x)
    yh, yl = split(swapped)
    xc, xc_e = two_prod_split(x, xh, xl, c_hi, ch, cl)
    ys, ys_e = two_prod_split(swapped, yh, yl, s_hi, sh, sl)
    high, e = two_sum(xc, ys)
    return exact._rounded(high, ((xc_e + ys_e) + e) + (x * c_lo + swapped * s_lo), magnitude)


def _run(run, items: list, size: int) -> None:
    if size < _PARALLEL_MIN:
        for item in items:
            run(item)
    else:
        parallel_map(run, items)
