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
from .layouts import pair_slices
from .precision import exact
from .precision.eft import SPLITTER, split

__all__ = ["rotate_rows", "rotate_rows_exact"]

_BLOCK = 1 << 16          # values (rows x rotary dim) per block: large enough that two threads rarely wait on the GIL
_EXACT_BLOCK = 1 << 16    # the same for the exact rotation's eleven scratch arrays per block
_PARALLEL_MIN = 1 << 17   # below this many values, one thread (a pool costs more than it saves)


def _items(x_shape: tuple, pos_shape: tuple, block: int) -> list[tuple]:
    """``(positions index, row slice)`` work items: one per distinct row of positions and block of rows."""
    seq, d = x_shape[-2], x_shape[-1]
    step = max(1, block // d)
    return [(p, slice(r, r + step)) for p in np.ndindex(*pos_shape[:-1]) for r in range(0, seq, step)]


def _heads(lead: tuple, pos_lead: tuple, pidx: tuple):
    """The leading indices of ``x`` whose positions are row ``pidx`` of the (broadcast) positions."""
    return itertools.product(*(range(n) if p == 1 else (i,) for n, p, i in zip(lead, pos_lead, pidx)))


def _tables(positions: np.ndarray, omega: np.ndarray, magnitude: float, outs: tuple[slice, slice]):
    """``(C, S)`` of the block: ``(c, c)`` and ``(-s, s)`` at the output slices ``outs`` of the pairs' members,
    magnitude folded in, each written in place (``c m`` and ``-(s m)``: the negation is exact, so these are the bits
    of ``m cos``, ``m sin``)."""
    phi = positions[..., None] * omega          # the angle formula of refrope.rotary._angles
    C, S = np.empty(phi.shape[:-1] + (2 * phi.shape[-1],)), np.empty(phi.shape[:-1] + (2 * phi.shape[-1],))
    first, second = outs
    np.cos(phi, out=C[..., first])
    np.sin(phi, out=S[..., second])
    if magnitude != 1.0:
        np.multiply(C[..., first], magnitude, out=C[..., first])
        np.multiply(S[..., second], magnitude, out=S[..., second])
    C[..., second] = C[..., first]
    np.negative(S[..., second], out=S[..., first])
    return C, S


def _laid(first: np.ndarray, second: np.ndarray, outs: tuple[slice, slice]) -> np.ndarray:
    """One value per pair for each member, at the output slices ``outs``."""
    out = np.empty(first.shape[:-1] + (2 * first.shape[-1],))
    out[..., outs[0]], out[..., outs[1]] = first, second
    return out


def _gather(x: np.ndarray, ins: tuple[slice, slice], outs: tuple[slice, slice], into: np.ndarray, *,
            swap: bool) -> np.ndarray:
    """The pairs' members of ``x`` (at the slices ``ins``) written to ``into`` at the slices ``outs``, each pair's
    members exchanged when ``swap``."""
    first, second = x[..., ins[0]], x[..., ins[1]]
    if swap:
        first, second = second, first
    into[..., outs[0]], into[..., outs[1]] = first, second
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
    ins, outs = pair_slices(d, layout), pair_slices(d, layout, output=True)

    def run(item) -> None:
        pidx, block = item
        p = positions[pidx]
        C, S = _tables(p[block] if p.shape[0] == seq else p, omega, magnitude, outs)
        ordered = np.empty((min(rows, seq), d)) if ins != outs else None
        swapped = np.empty((min(rows, seq), d))
        for idx in _heads(lead, positions.shape[:-1], pidx):
            xs, os_ = x[idx][block], out[idx][block]
            count = xs.shape[0]
            src = xs if ordered is None else _gather(xs, ins, outs, ordered[:count], swap=False)
            np.multiply(src, C, out=os_)
            tmp = _gather(xs, ins, outs, swapped[:count], swap=True)
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
    ins, outs = pair_slices(d, layout), pair_slices(d, layout, output=True)

    def run(item) -> None:
        pidx, block = item

        def laid(first, second):
            first, second = first[pidx], second[pidx]
            if first.shape[0] == seq:
                first, second = first[block], second[block]
            return _laid(first, second, outs)

        tables = (laid(c_hi, c_hi), laid(c_lo, c_lo), laid(-s_hi, s_hi), laid(-s_lo, s_lo))
        splits = (laid(ch, ch), laid(cl, cl), laid(-sh, sh), laid(-sl, sl))
        count = min(rows, seq)
        work = np.empty((_EXACT_SCRATCH + 1, count, d))   # every temporary of the block, allocated once per item
        for idx in _heads(lead, positions.shape[:-1], pidx):
            xs = x[idx][block]
            n = xs.shape[0]
            src = xs if ins == outs else _gather(xs, ins, outs, work[-1, :n], swap=False)
            _exact_rows(np.asarray(src, dtype=np.float64), xs, (ins, outs), tables, splits, magnitude,
                        out[idx][block], work[:-1, :n])

    _run(run, _items(x.shape, positions.shape, _EXACT_BLOCK), x.size)


_EXACT_SCRATCH = 10  # temporaries of _exact_rows


def _exact_rows(x: np.ndarray, rows: np.ndarray, slices: tuple, tables, splits, magnitude: float, out: np.ndarray,
                ws: np.ndarray) -> None:
    r""":math:`m(x C + \mathrm{swap}(x) S)` rounded once into ``out``, :math:`C`, :math:`S` double-double tables,
    the products of the high words exact: per coordinate the operations, in the order, of
    ``exact.rotate_words`` (with :math:`S = -s` for the first member of a pair, whose negation is exact in every
    step). ``x`` is the block in the output's pair order, ``rows`` the block as stored, ``slices`` the members'
    input and output slices (the swap is gathered from ``rows``; the split of the swapped rows is the swapped
    split, elementwise, so it is gathered from the split of ``x``); every temporary is a slice of ``ws``
    (``_EXACT_SCRATCH`` arrays of the block's shape), so no array is allocated per block."""
    c_hi, c_lo, s_hi, s_lo = tables
    ch, cl, sh, sl = splits
    ins, outs = slices
    y, xh, xl, yh, yl, p, q, e, f, t = ws
    _gather(rows, ins, outs, y, swap=True)
    _split_into(x, xh, xl, t)
    _gather(xh, outs, outs, yh, swap=True)
    _gather(xl, outs, outs, yl, swap=True)
    _two_prod_into(x, xh, xl, c_hi, ch, cl, p, e, t)
    _two_prod_into(y, yh, yl, s_hi, sh, sl, q, f, t)
    # two_sum(p, q) -> (xh, t): s = p + q, bb = s - p, err = (p - (s - bb)) + (q - bb)
    np.add(p, q, out=xh)
    np.subtract(xh, p, out=xl)
    np.subtract(xh, xl, out=t)
    np.subtract(p, t, out=t)
    np.subtract(q, xl, out=xl)
    np.add(t, xl, out=t)
    # tail = ((e + f) + err) + (x c_lo + y s_lo)
    np.add(e, f, out=e)
    np.add(e, t, out=e)
    np.multiply(x, c_lo, out=t)
    np.multiply(y, s_lo, out=f)
    np.add(t, f, out=t)
    np.add(e, t, out=e)
    if magnitude == 1.0:
        np.add(xh, e, out=out)
        return
    mh, ml = split(magnitude)       # m (h + tail) rounded once, as exact._rounded: p + (err + tail m)
    _split_into(xh, yh, yl, t)
    _two_prod_into(xh, yh, yl, magnitude, mh, ml, p, f, t)
    np.multiply(e, magnitude, out=e)
    np.add(f, e, out=f)
    np.add(p, f, out=out)


def _split_into(a, hi, lo, t) -> None:
    """``(hi, lo) = split(a)`` (Veltkamp: ``t = K a``, ``hi = t - (t - a)``, ``lo = a - hi``), written in place."""
    np.multiply(SPLITTER, a, out=t)
    np.subtract(t, a, out=hi)
    np.subtract(t, hi, out=hi)
    np.subtract(a, hi, out=lo)


def _two_prod_into(a, ah, al, b, bh, bl, p, e, t) -> None:
    """``(p, e) = two_prod_split(a, ah, al, b, bh, bl)``: ``e = ((ah bh - p) + ah bl + al bh) + al bl``."""
    np.multiply(a, b, out=p)
    np.multiply(ah, bh, out=e)
    np.subtract(e, p, out=e)
    np.multiply(ah, bl, out=t)
    np.add(e, t, out=e)
    np.multiply(al, bh, out=t)
    np.add(e, t, out=e)
    np.multiply(al, bl, out=t)
    np.add(e, t, out=e)


def _run(run, items: list, size: int) -> None:
    if size < _PARALLEL_MIN:
        for item in items:
            run(item)
    else:
        parallel_map(run, items)
