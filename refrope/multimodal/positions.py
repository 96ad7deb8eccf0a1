r"""The M-RoPE position ids of a text, image and video sequence: :func:`mrope_positions`.

Segments come in token order. Text gets :math:`p, p+1, \dots` on all three rows. A vision block of
grid :math:`(t, h, w)` (patches) holds :math:`t\,h'\,w'` tokens, :math:`h' = \lfloor h/m\rfloor`,
:math:`w' = \lfloor w/m\rfloor` (:math:`m` the spatial merge size), in row-major :math:`(t, h', w')`
order; starting at :math:`p`, token :math:`(k, r, c)` gets :math:`(p + \tau(k),\ p + r,\ p + c)` with
:math:`\tau(k) = k`, or :math:`\lfloor k \cdot \mathrm{tps} \cdot \mathrm{spg}\rfloor` for Qwen2.5-VL
videos (tokens per second times seconds per temporal grid step). After a block the next segment starts
at the block's maximum plus one (``resume="max"``) or at :math:`p + \max(h', w')` (``resume="spatial"``,
transformers 5.x).

Spec: docs/spec/multimodal.md, clauses ``[MM-POS-1]`` to ``[MM-POS-4]``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import _short, check_choice, check_int, check_real

__all__ = ["RESUMES", "SEGMENT_KINDS", "mrope_positions"]

SEGMENT_KINDS = ("text", "image", "video")
RESUMES = ("max", "spatial")
"""Where the position continues after a vision block: its maximum + 1, or transformers 5.x's ``p + max(h', w')``."""


def _segment(index: int, seg: Any, merge: int) -> tuple[str, tuple]:
    where = f"segments[{index}] = {_short(seg)}"
    if not isinstance(seg, (tuple, list)) or not seg or seg[0] not in SEGMENT_KINDS:
        raise ValueError(f"{where}: a segment must be ('text', n), ('image', t, h, w), ('video', t, h, w) or "
                         "('video', t, h, w, second_per_grid_t)")
    kind, args = seg[0], tuple(seg[1:])
    arity = {"text": (1,), "image": (3,), "video": (3, 4)}[kind]
    if len(args) not in arity:
        raise ValueError(f"{where}: a {kind!r} segment takes {' or '.join(str(a) for a in arity)} values after "
                         f"its kind, got {len(args)}")
    try:
        if kind == "text":
            return kind, (check_int("n", args[0], minimum=0),)
        t, h, w = (check_int(name, v, minimum=1) for name, v in zip("thw", args[:3]))
        second = check_real("second_per_grid_t", args[3], minimum=0.0, strict_minimum=True) if len(args) == 4 else 1.0
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from exc
    if h // merge < 1 or w // merge < 1:
        raise ValueError(f"{where}: h // spatial_merge_size and w // spatial_merge_size must be >= 1 (a vision "
                         f"block of at least one token), got h={h}, w={w}, spatial_merge_size={merge}")
    return kind, (t, h // merge, w // merge, second)


SNAP = 1e-9
"""A temporal product within this relative distance of an integer is that integer ([MM-POS-2])."""


def _floor(value: float) -> int:
    """:math:`\\lfloor v \\rfloor`, except that a ``v`` within :data:`SNAP` (relative) of an integer is that integer."""
    nearest = round(value)
    return int(nearest) if abs(value - nearest) <= SNAP * max(1.0, abs(value)) else math.floor(value)


def _temporal(kind: str, t: int, tokens_per_second: float | None, second: float) -> np.ndarray:
    """:math:`\\tau(k)`: ``k``, or :math:`\\lfloor k\\,\\mathrm{tps}\\,\\mathrm{spg}\\rfloor` for videos with
    ``tokens_per_second`` [MM-POS-2]."""
    if kind != "video" or tokens_per_second is None:
        return np.arange(t, dtype=np.int64)
    rate = tokens_per_second * second
    return np.array([_floor(k * rate) for k in range(t)], dtype=np.int64)


def mrope_positions(segments: Any, *, spatial_merge_size: int = 2, tokens_per_second: float | None = None,
                    resume: str = "max") -> tuple[np.ndarray, int]:
    r"""The :math:`(t, h, w)` position ids of a sequence of text, image and video segments.

    Parameters
    ----------
    segments : sequence of tuples, in token order
        ``("text", n)``, ``("image", t, h, w)``, ``("video", t, h, w)`` or
        ``("video", t, h, w, second_per_grid_t)``; ``t, h, w`` is the vision grid in patches (``grid_thw``).
        A vision segment is ``t * (h // m) * (w // m)`` tokens, row-major in ``(t, h // m, w // m)``.
        Qwen3-VL: each video frame is its own ``("video", 1, h, w)`` between its timestamp text.
    spatial_merge_size : int
        :math:`m`, the patches merged per side into one token (2 in every Qwen-VL).
    tokens_per_second : float, optional
        Qwen2.5-VL: video token :math:`(k, r, c)` takes the temporal position
        :math:`p + \lfloor k \cdot \mathrm{tps} \cdot \mathrm{spg}\rfloor` (``spg`` the segment's
        ``second_per_grid_t``, default 1); a product within :math:`10^{-9}` (relative) of an integer is that
        integer, because the seconds (``temporal_patch_size / fps``) are decimal or rational values that binary
        floats only approximate. ``None`` (Qwen2-VL, Qwen3-VL) and images always: :math:`p + k`.
        ``second_per_grid_t`` is read only with it.
    resume : {"max", "spatial"}
        After a vision block at :math:`p`: ``"max"`` (default; what the models were trained with, the Qwen
        reference code, transformers 4.x and vLLM) continues at the block's maximum + 1; ``"spatial"``
        reproduces transformers 5.x ``get_rope_index``, which continues at :math:`p + \max(h', w')` and so
        overlaps the temporal positions of a video longer than it is wide (docs/known_libraries.md).

    Returns
    -------
    positions : ndarray of int64, shape ``(3, seq)``
    next_position : int
        ``positions.max() + 1`` (0 for an empty sequence): where generated text continues;
        transformers' rope delta is ``next_position - seq``.

    Notes
    -----
    ``ValueError`` naming ``segments[i]`` for a malformed segment. Spec: [MM-POS-1], [MM-POS-2], [MM-POS-3],
    [MM-POS-4]. Source: Qwen2-VL (arXiv:2409.12191) §2.1; Qwen2.5-VL (arXiv:2502.13923) §2.1.3;
    transformers 5.24 ``Qwen2VLModel.get_rope_index``, ``Qwen2_5_VLModel.get_rope_index``,
    ``Qwen3VLModel.get_rope_index``; vLLM 0.33 ``MRotaryEmbedding.get_input_positions_tensor``.

    Examples
    --------
    >>> pos, nxt = mrope_positions([("text", 2), ("image", 1, 4, 6), ("text", 1)])
    >>> pos
    array([[0, 1, 2, 2, 2, 2, 2, 2, 5],
           [0, 1, 2, 2, 2, 3, 3, 3, 5],
           [0, 1, 2, 3, 4, 2, 3, 4, 5]])
    >>> nxt, nxt - pos.shape[1]
    (6, -3)
    """
    merge = check_int("spatial_merge_size", spatial_merge_size, minimum=1)
    if tokens_per_second is not None:
        tokens_per_second = check_real("tokens_per_second", tokens_per_second, minimum=0.0, strict_minimum=True)
    resume = check_choice("resume", resume, RESUMES)
    if isinstance(segments, (str, bytes)) or not hasattr(segments, "__iter__"):
        raise ValueError(f"segments must be a sequence of segment tuples, got {_short(segments)}")
    blocks, p = [], 0
    for index, seg in enumerate(segments):
        kind, dims = _segment(index, seg, merge)
        if kind == "text":
            block = np.broadcast_to(p + np.arange(dims[0], dtype=np.int64), (3, dims[0]))
            p += dims[0]
        else:
            t, rows, cols, second = dims
            tt, hh, ww = np.meshgrid(p + _temporal(kind, t, tokens_per_second, second), p + np.arange(rows),
                                     p + np.arange(cols), indexing="ij")
            block = np.stack([tt, hh, ww]).reshape(3, -1)
            p = int(block.max()) + 1 if resume == "max" else p + max(rows, cols)
        blocks.append(block)
    positions = np.concatenate(blocks, axis=1) if blocks else np.zeros((3, 0), dtype=np.int64)
    positions = positions.astype(np.int64)
    return positions, int(positions.max()) + 1 if positions.size else 0
