r"""One rotation over several position axes: :func:`apply_rope_nd`.

Pair :math:`i` of the rotary slice is turned by the position of the axis it follows,

.. math:: \phi_i = p_{a_i}\,\omega_i, \qquad a_i = \texttt{axes}[i] \in [0, n_{axes}),

and rotated exactly as :func:`refrope.apply_rope` rotates it (same angle formula, same pair
rotation, same layouts). Every multimodal scheme (M-RoPE, interleaved M-RoPE, 2-D vision
towers, the engine tables of :mod:`refrope.multimodal.engines`) is a choice of ``axes``,
positions and frequencies, never new rotation code.
Spec: docs/spec/multimodal.md, clauses ``[MM-ND-1]`` to ``[MM-ND-4]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import _short, check_int, finite_real_array, real_array
from ..layouts import check_layout
from ..rotary import _angles, resolve_freqs, rotate_pairs

__all__ = ["apply_rope_nd", "check_axes", "int_sequence"]


def int_sequence(name: str, value: Any) -> np.ndarray:
    """``value`` as a 1-D int64 array of integers; anything else is a ``ValueError`` naming ``name``.

    Booleans and non-integral numbers are refused (``1.0`` is not an index). The input is never modified.

    >>> int_sequence("sections", [16, 24, 24])
    array([16, 24, 24])
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged nesting
        raise ValueError(f"{name} must be a sequence of integers, got {_short(value)}") from exc
    if arr.ndim == 1 and arr.size == 0:
        return arr.astype(np.int64)
    flags = isinstance(value, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in value)
    if arr.ndim != 1 or arr.dtype.kind not in "iu" or flags:
        raise ValueError(f"{name} must be a 1-D sequence of integers, got {_short(value)}")
    return arr.astype(np.int64)


def check_axes(axes: Any, pairs: int, n_axes: int) -> np.ndarray:
    """The pair-to-axis map: exactly ``pairs`` integers in ``[0, n_axes)``, as int64 [MM-ND-3].

    Negative entries are refused, not wrapped.

    >>> check_axes([0, 1, 1], 3, 2)
    array([0, 1, 1])
    """
    arr = int_sequence("axes", axes)
    if arr.shape[0] != pairs:
        raise ValueError(f"axes must hold exactly d/2 = {pairs} entries (one axis per pair), got {arr.shape[0]}: "
                         f"{_short(list(arr))}")
    bad = np.flatnonzero((arr < 0) | (arr >= n_axes))
    if bad.size:
        raise ValueError(f"axes entries must be in [0, n_axes) = [0, {n_axes}) (negative entries are not wrapped), "
                         f"got axes[{bad[0]}] = {arr[bad[0]]}")
    return arr


def apply_rope_nd(x: Any, positions: Any, freqs: Any, *, axes: Any, layout: str = "half",
                  rotary_offset: int = 0) -> np.ndarray:
    r"""Rotate pair :math:`i` of the rotary slice of ``x`` by :math:`p_{a_i}\,\omega_i`, in float64.

    Parameters
    ----------
    x : array_like, shape ``(..., seq, head_dim)``
        Any real dtype; never modified.
    positions : array_like, shape ``(n_axes, ..., seq)``
        One row of positions per axis; each ``positions[a]`` broadcasts to ``x.shape[:-1]`` as the
        positions of :func:`refrope.apply_rope` do. Integer or real, finite.
    freqs : Frequencies or array_like of shape ``(d/2,)``
        As for :func:`refrope.apply_rope` (the magnitude of a :class:`~refrope.Frequencies` included).
    axes : sequence of int, length ``d/2``
        ``axes[i]`` is the axis pair ``i`` follows, in ``[0, n_axes)``; ``ValueError`` naming ``axes``
        otherwise (negative entries are not wrapped).
    layout : {"half", "interleaved", "interleaved_to_half"}
    rotary_offset : int
        Start of the rotary slice ``[rotary_offset, rotary_offset + d)``.

    Returns
    -------
    ndarray, float64, shape of ``x``
        Pair :math:`i` of the result is pair :math:`i` of
        ``apply_rope(x, positions[axes[i]], freqs, layout=layout, rotary_offset=rotary_offset)``,
        bit for bit; every coordinate outside the rotary slice equals ``x`` exactly.

    Notes
    -----
    Spec: [MM-ND-1], [MM-ND-2], [MM-ND-3]. Source: Qwen2-VL (arXiv:2409.12191) §2.1 (M-RoPE);
    transformers 5.24 ``Qwen2VLRotaryEmbedding.recomposition_frequencies``.

    Examples
    --------
    >>> x = [[1.0, 0.0, 1.0, 0.0]]            # two pairs, interleaved layout
    >>> apply_rope_nd(x, [[1], [2]], [np.pi / 2, np.pi / 4], axes=[0, 1], layout="interleaved").round(12)
    array([[0., 1., 0., 1.]])
    """
    layout = check_layout(layout)
    xa = real_array("x", x)
    if xa.ndim < 1:
        raise ValueError(f"x must have at least one axis (head_dim), got shape {xa.shape}")
    omega, magnitude = resolve_freqs(freqs)
    pairs = omega.shape[0]
    d = 2 * pairs
    offset = check_int("rotary_offset", rotary_offset, minimum=0)
    if offset + d > xa.shape[-1]:
        raise ValueError(f"rotary slice [{offset}, {offset + d}) (rotary_offset={offset}, rotary_dim={d}) "
                         f"does not fit in head_dim={xa.shape[-1]}")
    pos = finite_real_array("positions", positions)
    if pos.ndim < 1 or pos.shape[0] < 1:
        raise ValueError(f"positions must have shape (n_axes, ..., seq) with n_axes >= 1, got shape {pos.shape}")
    ax = check_axes(axes, pairs, pos.shape[0])
    batch, row = xa.shape[:-1], pos.shape[1:]
    try:
        shape = np.broadcast_shapes(row, batch)
    except ValueError:
        shape = None
    if shape != batch:
        raise ValueError(f"positions of shape {pos.shape}: each row positions[a] of shape {row} must broadcast to "
                         f"x.shape[:-1] = {batch}")
    pos = pos.reshape(pos.shape[:1] + (1,) * (len(batch) - len(row)) + row)
    phi_all = _angles(pos, omega)  # (n_axes, ..., d/2): the angles of every axis, apply_rope's formula
    index = ax.reshape((1,) * (phi_all.ndim - 1) + (pairs,))
    phi = np.take_along_axis(phi_all, index, axis=0)[0]  # pair i keeps the angle of its axis [MM-ND-1]
    cos, sin = np.cos(phi), np.sin(phi)
    if magnitude != 1.0:
        cos, sin = cos * magnitude, sin * magnitude
    out = np.empty(xa.shape, dtype=np.float64)
    out[..., :offset] = xa[..., :offset]  # pass-through coordinates: the input widened to float64 [MM-ND-2]
    out[..., offset + d:] = xa[..., offset + d:]
    rotate_pairs(xa[..., offset:offset + d], cos, sin, layout, out=out[..., offset:offset + d])
    return out
