r"""The reference methods ``"direct"`` and ``"two_pass"`` (and the driver ``"decode"`` shares).

Each computes the logits of a strip of query rows against every key, masks them, and applies a
plain two-pass stable softmax (row max, then normalised exponentials) before multiplying by
:math:`V`. Strips hold at most ``2**18`` logits (at least one row), so memory grows with
:math:`n_k`, never with :math:`n_q \times n_k`.

* ``direct`` is the definition, :math:`s_{ij} = c_i\,(\mathcal{R}(f(p_i - p_j))\,q_i)^\top k_j`
  with the rotation (magnitude :math:`m^2`) applied to a copy of :math:`q_i` for every pair;
* ``two_pass`` is the articles' computation: full products of pass 1 (plain RoPE) and pass 2
  (and pass -1 when not causal), combined by the window mask (kexue.fm/archives/9708: two attention
  matrices and a mask).

Spec: [A-METHOD-2], [A-METHOD-3], [A-MEM-1].
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .masks import mask_logits
from .passes import Passes, pass_ids
from .schemes import add_bias
from .setup import Head, Options

__all__ = ["STRIP_ELEMENTS", "strips", "softmax_rows", "strip_attention", "strip_scores",
           "direct_logits", "two_pass_logits"]

STRIP_ELEMENTS = 1 << 18
_PAIR_ELEMENTS = 1 << 16  # rotated copies of q held at once by "direct"

Logits = Callable[[slice], np.ndarray]


def strips(n_q: int, n_k: int, rows: int) -> list[slice]:
    """Row slices of at most ``rows`` rows and ``STRIP_ELEMENTS`` logits (at least one row).

    >>> strips(5, 4, 2)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    step = max(1, min(rows, STRIP_ELEMENTS // n_k))
    return [slice(s, min(s + step, n_q)) for s in range(0, n_q, step)]


def softmax_rows(s: np.ndarray) -> np.ndarray:
    r"""Row softmax :math:`e^{s_j - \max s}/\sum e^{s_j - \max s}`; a row of only ``-inf`` gives zeros.

    >>> softmax_rows(np.array([[0.0, -np.inf], [-np.inf, -np.inf]]))
    array([[1., 0.],
           [0., 0.]])
    """
    peak = s.max(axis=-1, keepdims=True)
    p = np.exp(s - np.where(np.isneginf(peak), 0.0, peak))
    total = p.sum(axis=-1, keepdims=True)
    return p / np.where(total > 0, total, 1.0)


def strip_attention(head: Head, logits: Logits, rows: int) -> np.ndarray:
    """Output ``(n_q, dv)``: for each strip, ``softmax_rows(logits(strip)) @ v``."""
    out = np.empty((len(head.pq), head.v.shape[1]))
    for sl in strips(len(head.pq), len(head.pk), rows):
        out[sl] = softmax_rows(logits(sl)) @ head.v
    return out


def strip_scores(head: Head, logits: Logits, rows: int) -> np.ndarray:
    """All logits ``(n_q, n_k)``, strip by strip."""
    out = np.empty((len(head.pq), len(head.pk)))
    for sl in strips(len(head.pq), len(head.pk), rows):
        out[sl] = logits(sl)
    return out


def direct_logits(head: Head, options: Options) -> Logits:
    r"""Logits by the definition: :math:`c_i\,(m^2\mathcal{R}(f(p_i - p_j))\,q_i)^\top k_j` per pair."""
    n_k, d = head.k.shape

    def logits(rows: slice) -> np.ndarray:
        q, pq = head.q[rows], head.pq[rows]
        out = np.empty((len(pq), n_k))
        step = max(1, _PAIR_ELEMENTS // (len(pq) * d))
        for s in range(0, n_k, step):
            cols = slice(s, min(s + step, n_k))
            f = options.relpos(pq[:, None] - head.pk[None, cols])
            turned = options.rope(np.broadcast_to(q[:, None, :], f.shape + (d,)), f, options.magnitude ** 2,
                                  options.pair_layout)
            out[:, cols] = np.einsum("ijd,jd->ij", turned, head.k[cols])
        out *= head.factor[rows, None]
        add_bias(out, pq, head.pk, head.bias)
        return mask_logits(out, pq, head.pk, head.key_mask, options)

    return logits


def two_pass_logits(head: Head, options: Options) -> Logits:
    """Logits as the articles compute them: every pass over the whole strip, then the window mask selects."""
    passes = Passes(head, options)
    window = options.relpos.inner_window
    sides = ([0] if window > 0 else []) + ([1] if math.isfinite(window) else [])
    if math.isfinite(window) and not options.causal:
        sides.append(-1)

    def logits(rows: slice) -> np.ndarray:
        products = {side: passes[side][0][rows] @ passes[side][1].T for side in sides}
        if len(sides) == 1:
            out = products[sides[0]]
        else:
            ids = pass_ids(head.pq[rows, None] - head.pk[None, :], window)
            out = np.select([ids == side for side in sides], [products[side] for side in sides], -np.inf)
        add_bias(out, head.pq[rows], head.pk, head.bias)
        return mask_logits(out, head.pq[rows], head.pk, head.key_mask, options)

    return logits
