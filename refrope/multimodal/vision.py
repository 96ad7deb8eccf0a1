r"""2-D RoPE of vision towers: :func:`vision_rope` returns the positions, pair-to-axis map, frequencies and
layout that make :func:`refrope.apply_rope_nd` the model's own vision rotary; :func:`apply_vision_rope` applies it.

Axis 0 is the patch row :math:`h`, axis 1 the column :math:`w`; :math:`d` is the head dimension (the whole
head rotates), :math:`q = d/4`, :math:`k = 0, \dots, q - 1`:

* ``qwen2_vl`` (layout ``half``): tokens frame by frame, the merge windows row-major, the patches of a
  window row-major; positions ``(row, col)`` repeated per frame; pairs :math:`k` follow h and :math:`q + k`
  follow w, both at :math:`\theta^{-4k/d}`.
* ``pixtral`` (layout ``half``): tokens row-major, positions ``(row, col)``; h takes the even-indexed
  frequencies :math:`\theta^{-2(2k)/d}`, w the odd-indexed :math:`\theta^{-2(2k+1)/d}`.
* ``llama4`` (layout ``interleaved``): tokens row-major then the class token; positions
  ``(row + 1, col + 1)``, the class token ``(0, 0)``; pairs :math:`k` follow the **column** and
  :math:`q + k` the row, both at :math:`\theta^{-4k/d}`.

Spec: docs/spec/multimodal.md, clauses ``[MM-VIS-1]`` to ``[MM-VIS-4]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from .._validation import _short, check_choice, check_int, check_real, real_array
from ..frequencies.base import rope_inv_freq
from .nd import apply_rope_nd, int_sequence

__all__ = ["VisionKind", "VisionRope", "VISION_KINDS", "vision_rope", "apply_vision_rope"]


def _readonly(arr: np.ndarray, dtype=np.int64) -> np.ndarray:
    arr = np.array(arr, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class VisionKind:
    """One vision tower's 2-D rotary: its layout, clause, source, and how it lays out tokens and frequencies."""

    name: str
    layout: str
    clause: str
    source: str
    grid_lengths: tuple[int, ...]
    merges: bool
    positions: Callable[[tuple[int, ...], int], np.ndarray]
    freqs_axes: Callable[[int, float], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True, eq=False)
class VisionRope:
    """The result of :func:`vision_rope`: ``apply_rope_nd(x, v.positions, v.freqs, axes=v.axes, layout=v.layout)``
    is the model's vision rotary of ``x`` (tokens in the model's order, shape ``(..., n_tokens, head_dim)``).

    Attributes: ``kind``, ``freqs`` (float64, the ``head_dim/2`` inverse frequencies; the towers have magnitude 1),
    ``axes`` (int64, ``head_dim/2``; 0 = row, 1 = column), ``positions`` (int64, ``(2, n_tokens)``), ``layout``,
    and the arguments ``grid``, ``head_dim``, ``theta``, ``spatial_merge_size``. Arrays are read-only.
    """

    kind: str
    freqs: np.ndarray
    axes: np.ndarray
    positions: np.ndarray
    layout: str
    grid: tuple[int, ...]
    head_dim: int
    theta: float
    spatial_merge_size: int | None

    @property
    def n_tokens(self) -> int:
        """The number of tokens (``positions.shape[1]``)."""
        return int(self.positions.shape[1])


def _qwen2_vl_positions(grid: tuple[int, ...], m: int) -> np.ndarray:
    t, h, w = grid if len(grid) == 3 else (1, *grid)
    rows = np.broadcast_to(np.arange(h).reshape(h // m, m, 1, 1), (h // m, m, w // m, m))
    cols = np.broadcast_to(np.arange(w).reshape(1, 1, w // m, m), (h // m, m, w // m, m))
    window_major = [a.transpose(0, 2, 1, 3).ravel() for a in (rows, cols)]  # windows row-major, then their patches
    return np.tile(np.stack(window_major), (1, t))


def _row_major(grid: tuple[int, ...]) -> np.ndarray:
    h, w = grid
    return np.stack([np.repeat(np.arange(h), w), np.tile(np.arange(w), h)])


def _llama4_positions(grid: tuple[int, ...], m: int) -> np.ndarray:
    return np.concatenate([_row_major(grid) + 1, np.zeros((2, 1), dtype=np.int64)], axis=1)  # class token last


def _split_axes(d: int, first: int) -> np.ndarray:
    return np.repeat(np.array([first, 1 - first]), d // 4)


def _qwen2_vl_freqs(d: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    quarter = rope_inv_freq(d // 2, theta)  # theta^(-2k/(d/2)) = theta^(-4k/d), k < d/4
    return np.concatenate([quarter, quarter]), _split_axes(d, 0)


def _pixtral_freqs(d: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    full = rope_inv_freq(d, theta)  # theta^(-2j/d), j < d/2
    return np.concatenate([full[0::2], full[1::2]]), _split_axes(d, 0)


def _llama4_freqs(d: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    quarter = rope_inv_freq(d // 2, theta)
    return np.concatenate([quarter, quarter]), _split_axes(d, 1)  # the column first


VISION_KINDS: Mapping[str, VisionKind] = MappingProxyType({
    "qwen2_vl": VisionKind("qwen2_vl", "half", "MM-VIS-1",
                           "transformers 5.24 vision_utils.get_vision_position_ids, Qwen2VLVisionRotaryEmbedding, "
                           "apply_rotary_pos_emb_vision (Qwen2-VL, Qwen2.5-VL, Qwen3-VL towers)",
                           (2, 3), True, _qwen2_vl_positions, _qwen2_vl_freqs),
    "pixtral": VisionKind("pixtral", "half", "MM-VIS-2",
                          "transformers 5.24 models/pixtral/modeling_pixtral.py (PixtralVisionRotaryEmbedding, "
                          "PixtralVisionModel.forward)", (2,), False, lambda grid, m: _row_major(grid),
                          _pixtral_freqs),
    "llama4": VisionKind("llama4", "interleaved", "MM-VIS-3",
                         "transformers 5.24 models/llama4/modeling_llama4.py (Llama4VisionRotaryEmbedding, "
                         "vision_apply_rotary_emb)", (2,), False, _llama4_positions, _llama4_freqs),
})
"""The vision towers :func:`vision_rope` knows, by name."""

DEFAULT_THETA = 10000.0


def _grid(kind: VisionKind, grid: Any, merge: int | None) -> tuple[int, ...]:
    arr = int_sequence("grid", grid)
    if arr.shape[0] not in kind.grid_lengths or np.any(arr < 1):
        shapes = " or ".join({2: "(h, w)", 3: "(t, h, w)"}[n] for n in kind.grid_lengths)
        raise ValueError(f"grid must be {shapes} of positive patch counts for kind={kind.name!r}, got {_short(grid)}")
    grid_t = tuple(int(v) for v in arr)
    h, w = grid_t[-2:]
    if merge is not None and (h % merge or w % merge):
        raise ValueError(f"grid {grid_t}: h and w must be multiples of spatial_merge_size={merge} (whole merge "
                         "windows)")
    if kind.name == "llama4" and h != w:
        raise ValueError(f"grid must be square for kind='llama4' (image_size // patch_size per side), got {grid_t}")
    return grid_t


def vision_rope(kind: str, *, head_dim: int, grid: Any, theta: float | None = None,
                spatial_merge_size: int | None = None) -> VisionRope:
    r"""The 2-D rotary of a vision tower, as inputs of :func:`refrope.apply_rope_nd`.

    Parameters
    ----------
    kind : {"qwen2_vl", "pixtral", "llama4"}
        ``"qwen2_vl"`` is the tower of Qwen2-VL, Qwen2.5-VL and Qwen3-VL (Qwen2.5-VL's window
        permutation is the caller's: a permuted ``x[perm]`` takes ``positions[:, perm]``).
    head_dim : int
        A positive multiple of 4; the whole head rotates.
    grid : sequence of int
        Patches per side: ``(h, w)``, or ``(t, h, w)`` for ``"qwen2_vl"`` (frames repeat the positions,
        no temporal angle); ``"llama4"`` needs a square grid. Never modified.
    theta : float, optional
        None: the model's default, 10000.
    spatial_merge_size : int, optional
        ``"qwen2_vl"`` only (None means 2): the merge window side; ``h`` and ``w`` must be multiples of it.

    Returns
    -------
    VisionRope
        ``freqs`` (the ``head_dim/2`` inverse frequencies, float64), ``axes`` (0 = row, 1 = column),
        ``positions`` ``(2, n_tokens)`` in the model's token order, ``layout``.

    Notes
    -----
    ``ValueError`` naming ``kind``, ``head_dim``, ``grid`` or ``spatial_merge_size``.
    Spec: [MM-VIS-1], [MM-VIS-2], [MM-VIS-3], [MM-VIS-4]. Source: the transformers 5.24 files of
    :data:`VISION_KINDS`; Pixtral 12B (arXiv:2410.07073) §2.1.2 (RoPE-2D).

    Examples
    --------
    >>> v = vision_rope("qwen2_vl", head_dim=8, grid=(1, 2, 4))
    >>> v.positions
    array([[0, 0, 1, 1, 0, 0, 1, 1],
           [0, 1, 0, 1, 2, 3, 2, 3]])
    >>> v.axes, v.freqs, v.layout
    (array([0, 0, 1, 1]), array([1.  , 0.01, 1.  , 0.01]), 'half')
    """
    entry = VISION_KINDS[check_choice("kind", kind, tuple(VISION_KINDS))]
    d = check_int("head_dim", head_dim, minimum=4)
    if d % 4:
        raise ValueError(f"head_dim must be a positive multiple of 4 (two axes of d/4 pairs), got {d}")
    theta = DEFAULT_THETA if theta is None else check_real("theta", theta, minimum=0.0, strict_minimum=True)
    if entry.merges:
        merge = 2 if spatial_merge_size is None else check_int("spatial_merge_size", spatial_merge_size, minimum=1)
    elif spatial_merge_size is not None:
        raise ValueError(f"spatial_merge_size is for kind='qwen2_vl' only, got {spatial_merge_size!r} for "
                         f"kind={kind!r}")
    else:
        merge = None
    grid_t = _grid(entry, grid, merge)
    omega, axes = entry.freqs_axes(d, theta)
    return VisionRope(kind, _readonly(omega, np.float64), _readonly(axes), _readonly(entry.positions(grid_t, merge)),
                      entry.layout, grid_t, d, theta, merge)


def apply_vision_rope(x: Any, kind: str, *, grid: Any, theta: float | None = None,
                      spatial_merge_size: int | None = None) -> np.ndarray:
    """The vision tower's rotary of ``x`` (shape ``(..., n_tokens, head_dim)``, tokens in the model's order).

    ``apply_rope_nd(x, v.positions, v.freqs, axes=v.axes, layout=v.layout)`` with
    ``v = vision_rope(kind, head_dim=x.shape[-1], grid=grid, ...)``. Spec: [MM-VIS-1], [K-VISION-1].

    >>> apply_vision_rope(np.ones((5, 4)), "llama4", grid=(2, 2))[-1]  # the class token: angle 0
    array([1., 1., 1., 1.])
    """
    xa = real_array("x", x)
    if xa.ndim < 2:
        raise ValueError(f"x must have shape (..., n_tokens, head_dim), got shape {xa.shape}")
    v = vision_rope(kind, head_dim=xa.shape[-1], grid=grid, theta=theta, spatial_merge_size=spatial_merge_size)
    if xa.shape[-2] != v.n_tokens:
        raise ValueError(f"x has {xa.shape[-2]} tokens (x.shape[-2]) but grid {v.grid} of kind {kind!r} gives "
                         f"{v.n_tokens}")
    return apply_rope_nd(xa, v.positions, v.freqs, axes=v.axes, layout=v.layout)
