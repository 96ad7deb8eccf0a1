r"""The bias and the chunk mask of attention (``bias=``, ``chunk_size=``), and NoPE's missing rotation.

* ``bias`` :math:`b`: the logit of query :math:`i` and key :math:`j` in head :math:`h` gains
  :math:`b(p_i - p_j)[h]` after every factor (scale, query scale, softmax factor), on the raw distance
  (not the relative-position map); masked pairs stay :math:`-\infty`.
* ``chunk_size`` :math:`C`: a pair is visible only if :math:`\lfloor p_i/C\rfloor = \lfloor p_j/C\rfloor`
  (positions, not indices), in addition to every other mask (Llama 4's chunked layers).

Spec: [A-BIAS-1], [A-MASK-5], [A-NOPE-1] (docs/spec/attention.md). Source: Press et al., ALiBi
(arXiv:2108.12409); HF 5.24 ``masking_utils.py`` (``chunked_overlay``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import bias as _bias
from .._validation import check_int

__all__ = ["OVERFLOW", "head_biases", "add_bias", "check_chunk", "chunk_ids", "chunk_state", "same_chunk"]

OVERFLOW = 1e300  # logits, biases or value sums beyond this could overflow float64
HeadBias = Callable[[np.ndarray], np.ndarray]


def _values(bias: Any, r: np.ndarray) -> np.ndarray:
    out = np.asarray(bias(r.copy()))
    if out.dtype.kind not in "iuf":
        raise TypeError(f"bias(r) must return real numbers, got dtype {out.dtype} from {bias!r}")
    out = out.astype(np.float64, copy=False)
    if not np.all(np.abs(out) < OVERFLOW):
        bad = out[~(np.abs(out) < OVERFLOW)][0]
        raise ValueError(f"bias(r) must be finite and below {OVERFLOW:g} in size, got {bad} from {bias!r}")
    return out


def _custom(bias: Any, h: int, heads_q: int) -> HeadBias:
    def evaluate(r: np.ndarray) -> np.ndarray:
        out = _values(bias, r)
        if out.ndim > r.ndim:  # a head axis at -3
            out = out[..., min(h, out.shape[-3] - 1), :, :]
        return np.broadcast_to(out, r.shape)
    return evaluate


def _registered(bias: _bias.Bias) -> HeadBias:
    return lambda r: _values(bias, r)


def head_biases(bias: Any, heads_q: int) -> tuple[HeadBias, ...] | None:
    """One function ``r -> b(r)`` of shape ``r.shape`` per query head, or None without a bias.

    A bias of :data:`refrope.bias.BIASES` with per-head parameters needs ``heads_q`` of them; any other
    callable ``b(r)`` must return values broadcastable to ``(heads_q,) + r.shape`` ([A-BIAS-1]).

    >>> [f(np.array([[2.0]])).item() for f in head_biases(_bias.alibi([0.5, 0.25]), 2)]
    [-1.0, -0.5]
    """
    if bias is None:
        return None
    if _bias.name_of(bias) != "custom":
        heads = bias.heads
        if heads is None:
            return (_registered(bias),) * heads_q
        if heads != heads_q:
            raise ValueError(f"bias has {heads} per-head parameters but there are heads_q={heads_q} query heads: "
                             f"{bias!r}")
        return tuple(_registered(bias.head(h)) for h in range(heads))
    if not callable(bias):
        raise TypeError(f"bias must be None or a callable of the relative positions (refrope.bias), got {bias!r}")
    probe = _values(bias, np.zeros((1, 1)))
    try:
        np.broadcast_to(probe, (heads_q, 1, 1))
    except ValueError:
        raise ValueError(f"bias(r) of shape {probe.shape} for r of shape (1, 1) does not broadcast to "
                         f"(heads_q, 1, 1) = {(heads_q, 1, 1)}") from None
    return tuple(_custom(bias, h, heads_q) for h in range(heads_q))


def add_bias(s: np.ndarray, pq: np.ndarray, pk: np.ndarray, bias: HeadBias | None) -> np.ndarray:
    """``s += b(pq[:, None] - pk[None, :])`` in place (no-op without a bias); return ``s``."""
    if bias is not None:
        s += bias(pq[:, None] - pk[None, :])
    return s


def check_chunk(chunk_size: Any) -> int | None:
    """``chunk_size``: None or an integer >= 1 ([A-MASK-5]).

    >>> check_chunk(None), check_chunk(8192)
    (None, 8192)
    """
    return None if chunk_size is None else check_int("chunk_size", chunk_size, minimum=1)


def same_chunk(pq: np.ndarray, pk: np.ndarray, chunk: int) -> np.ndarray:
    r"""Boolean ``(n_q, n_k)``: :math:`\lfloor p_i/C\rfloor = \lfloor p_j/C\rfloor`.

    >>> same_chunk(np.array([3.0, 4.0]), np.array([0.0, 3.0, 4.0]), 4)
    array([[ True,  True, False],
           [False, False,  True]])
    """
    return np.floor(pq / chunk)[:, None] == np.floor(pk / chunk)[None, :]


def chunk_ids(positions: np.ndarray, chunk: int | None) -> np.ndarray | None:
    r"""The distinct chunks :math:`\lfloor p/C\rfloor` of some positions, sorted (None without a chunk size).

    >>> chunk_ids(np.array([9.0, 0.5, 3.0]), 4)
    array([0., 2.])
    """
    return None if chunk is None else np.unique(np.floor(positions / chunk))


def chunk_state(q_chunks: np.ndarray | None, k_chunks: np.ndarray | None) -> int:
    """0 (no pair), 1 (some) or 2 (every pair) of a tile in the same chunk, from its rows' and columns' chunk ids
    (:func:`chunk_ids`; None: no chunk mask).

    >>> chunk_state(np.array([0.0]), np.array([1.0])), chunk_state(np.array([1.0]), np.array([0.0, 1.0])), \\
    ...     chunk_state(np.array([1.0]), np.array([1.0])), chunk_state(None, None)
    (0, 1, 2, 2)
    """
    if q_chunks is None:
        return 2
    if not np.intersect1d(q_chunks, k_chunks, assume_unique=True).size:
        return 0
    return 2 if len(q_chunks) == len(k_chunks) == 1 else 1
