r"""Multimodal RoPE (M-RoPE) of the Qwen vision-language models: :func:`mrope_axes`, :func:`apply_mrope`.

Positions have three rows, :math:`(t, h, w)`; ``sections`` :math:`s = (s_t, s_h, s_w)` counts **pairs**
(:math:`\sum s = d/2`; Qwen2-VL ``[16, 24, 24]`` at head_dim 128, Qwen3-VL ``[24, 20, 20]``). Pair
:math:`i` keeps its own frequency :math:`\omega_i` (the frequency index is not reset per section) and
follows axis :math:`a_i`:

* ``"blocked"`` (Qwen2-VL, Qwen2.5-VL): :math:`a_i = a` for :math:`\sum_{b<a} s_b \le i < \sum_{b\le a} s_b`;
* ``"interleaved"`` (Qwen3-VL, Qwen3.5): :math:`a_i = 1` if :math:`i \bmod 3 = 1` and :math:`i < 3 s_h`,
  :math:`a_i = 2` if :math:`i \bmod 3 = 2` and :math:`i < 3 s_w`, else :math:`a_i = 0`.

Spec: docs/spec/multimodal.md, clauses ``[MM-AXES-1]`` to ``[MM-AXES-3]``, ``[MM-MROPE-1]`` to ``[MM-MROPE-3]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import _short, check_choice, finite_real_array
from ..rotary import resolve_freqs
from .nd import apply_rope_nd, int_sequence

__all__ = ["MODES", "mrope_axes", "apply_mrope", "check_sections"]

MODES = ("blocked", "interleaved")
"""The M-RoPE pair-to-axis rules of :func:`mrope_axes`."""


def check_sections(sections: Any) -> tuple[int, ...]:
    """``sections`` as a tuple of non-negative ints with a positive sum; ``ValueError`` naming it otherwise [MM-AXES-3].

    >>> check_sections([16, 24, 24])
    (16, 24, 24)
    """
    arr = int_sequence("sections", sections)
    if arr.size == 0:
        raise ValueError("sections must have at least one entry (pairs per axis), got []")
    if np.any(arr < 0):
        raise ValueError(f"sections entries must be >= 0 (pairs per axis), got {_short(list(arr))}")
    if int(arr.sum()) < 1:
        raise ValueError(f"sections must sum to d/2 >= 1 pairs, got {_short(list(arr))}")
    return tuple(int(v) for v in arr)


def mrope_axes(sections: Any, mode: str = "blocked") -> np.ndarray:
    r"""The M-RoPE pair-to-axis map: ``d/2 = sum(sections)`` axes, 0 = t, 1 = h, 2 = w.

    Parameters
    ----------
    sections : sequence of int
        Pairs per axis (**not** dimensions). ``"interleaved"`` needs exactly three, :math:`(s_t, s_h, s_w)`;
        ``"blocked"`` takes any number of axes (one block each, in order).
    mode : {"blocked", "interleaved"}
        ``"blocked"``: axis :math:`a` for :math:`\sum_{b<a} s_b \le i < \sum_{b \le a} s_b`.
        ``"interleaved"``: axis 1 if :math:`i \bmod 3 = 1` and :math:`i < 3 s_1`, axis 2 if
        :math:`i \bmod 3 = 2` and :math:`i < 3 s_2`, else axis 0.

    Returns
    -------
    ndarray of int64, shape ``(sum(sections),)``

    Notes
    -----
    Spec: [MM-AXES-1], [MM-AXES-2], [MM-AXES-3]. Source: transformers 5.24
    ``Qwen2VLRotaryEmbedding.recomposition_frequencies`` (blocked) and
    ``Qwen3VLTextRotaryEmbedding.recomposition_frequencies`` (interleaved); vLLM 0.33
    ``rotary_embedding/mrope.py`` (``MRotaryEmbedding``, ``apply_interleaved_rope``).

    Examples
    --------
    >>> mrope_axes([2, 1, 1])
    array([0, 0, 1, 2])
    >>> mrope_axes([3, 2, 2], mode="interleaved")
    array([0, 1, 2, 0, 1, 2, 0])
    """
    mode = _mode(mode)
    s = check_sections(sections)
    if mode == "blocked":
        return np.repeat(np.arange(len(s), dtype=np.int64), s)
    if len(s) != 3:
        raise ValueError(f"sections must have three entries (t, h, w) for mode='interleaved', got {list(s)}")
    i = np.arange(sum(s))
    axes = np.zeros(i.shape, dtype=np.int64)
    axes[(i % 3 == 1) & (i < 3 * s[1])] = 1
    axes[(i % 3 == 2) & (i < 3 * s[2])] = 2
    return axes


def _mode(mode: Any) -> str:
    """``mode`` checked; the error for another name points to the engine tables (``from_hf_config`` returns one's
    name for Ernie-4.5-VL)."""
    try:
        return check_choice("mode", mode, MODES)
    except ValueError as exc:
        raise ValueError(f"{exc}; an engine table's name (refrope.multimodal.ENGINE_TABLES) goes to "
                         "refrope.multimodal.engine_axes(name, sections, rotary_dim=d) with apply_rope_nd") from None


def apply_mrope(x: Any, positions: Any, freqs: Any, *, sections: Any, mode: str = "blocked", layout: str = "half",
                rotary_offset: int = 0) -> np.ndarray:
    r"""M-RoPE: :func:`apply_rope_nd` with ``axes = mrope_axes(sections, mode)``.

    Parameters
    ----------
    x : array_like, shape ``(..., seq, head_dim)``
        Never modified; coordinates outside the rotary slice (partial rotary, e.g. Qwen3.5's
        ``partial_rotary_factor`` 0.25 with sections ``[11, 11, 10]``) pass through exactly.
    positions : array_like, shape ``(len(sections), ..., seq)``
        The :math:`(t, h, w)` rows (:func:`refrope.mrope_positions` builds them for text, images and videos).
    freqs : Frequencies or array_like of shape ``(d/2,)``
    sections : sequence of int
        Pairs per axis, summing to :math:`d/2`.
    mode : {"blocked", "interleaved"}
    layout, rotary_offset
        As for :func:`refrope.apply_rope`.

    Returns
    -------
    ndarray, float64, shape of ``x``
        With :math:`t = h = w` it equals ``apply_rope(x, t, freqs, ...)`` bit for bit.

    Notes
    -----
    ``ValueError`` naming ``sections`` for a sum other than :math:`d/2` (sections given in dimensions
    sum to :math:`d`), a negative entry, or a count other than ``positions.shape[0]``; naming ``mode``
    for an unknown mode. Spec: [MM-MROPE-1], [MM-MROPE-2], [MM-MROPE-3]. Source: Qwen2-VL
    (arXiv:2409.12191) §2.1; transformers 5.24 ``models/qwen2_vl/modeling_qwen2_vl.py``.

    Examples
    --------
    >>> x = np.ones((1, 4))
    >>> apply_mrope(x, [[0], [1], [0]], [np.pi / 2, np.pi / 2], sections=[1, 1, 0]).round(12)
    array([[ 1., -1.,  1.,  1.]])
    """
    mode = _mode(mode)
    s = check_sections(sections)
    pairs = resolve_freqs(freqs)[0].shape[0]
    if sum(s) != pairs:
        hint = " (twice d/2: are the sections given in dimensions?)" if sum(s) == 2 * pairs else ""
        raise ValueError(f"sections must sum to d/2 = {pairs} pairs (len(freqs)), got {list(s)} with sum "
                         f"{sum(s)}{hint}")
    pos = finite_real_array("positions", positions)
    if pos.ndim < 1 or pos.shape[0] != len(s):
        rows = pos.shape[0] if pos.ndim else "no"
        raise ValueError(f"sections has {len(s)} entries but positions has {rows} rows (positions.shape = "
                         f"{pos.shape}); give one row of positions per section")
    return apply_rope_nd(x, pos, freqs, axes=mrope_axes(s, mode), layout=layout, rotary_offset=rotary_offset)
