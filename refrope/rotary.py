r"""Rotating vectors: :func:`apply_rope`, :func:`cos_sin`, :func:`rotation_matrix`.

For pair :math:`i` of the rotary slice at position :math:`p` with angle
:math:`\phi = p\,\omega_i` and magnitude :math:`m` (``attention_factor``):

.. math:: (a, b) \mapsto m\,(a\cos\phi - b\sin\phi,\; b\cos\phi + a\sin\phi)

The layout (:mod:`refrope.layouts`) says which coordinates form the pair. Each function takes
``precision``: ``"fast"`` (float64, the default) or ``"exact"`` (:mod:`refrope.precision`: every value within
one ulp of the exact one).
Spec: docs/spec/rotary.md, clauses ``[R-APPLY-*]``, ``[R-COSSIN-*]``, ``[R-MATRIX-*]``;
docs/spec/precision.md ``[P-*]``; docs/spec/numerics.md [N-FAST-2].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._rotate_rows import rotate_rows, rotate_rows_exact
from ._validation import check_int, check_real, finite_real_array, real_array
from .frequencies.base import Frequencies
from .layouts import check_layout, interleave_permutation, pair_slices
from .precision import exact
from .precision.namespaces import check_precision

__all__ = ["apply_rope", "cos_sin", "rotation_matrix", "resolve_freqs", "rotate_pairs"]


def resolve_freqs(freqs: Any) -> tuple[np.ndarray, float]:
    """``(inv_freq, attention_factor)`` from a :class:`Frequencies` or a 1-D array of inverse frequencies.

    >>> resolve_freqs([1.0, 0.5])
    (array([1. , 0.5]), 1.0)
    """
    if isinstance(freqs, Frequencies):
        return freqs.inv_freq, freqs.attention_factor
    return Frequencies(freqs).inv_freq, 1.0


def _positions(positions: Any) -> np.ndarray:
    return finite_real_array("positions", positions)


def _angles(positions: np.ndarray, inv_freq: np.ndarray) -> np.ndarray:
    """:math:`\\phi = p\\,\\omega_i`, shape ``positions.shape + (d/2,)``: the only angle formula."""
    return positions[..., None] * inv_freq


def rotate_pairs(
    x: np.ndarray, cos: np.ndarray, sin: np.ndarray, layout: str, *, out: np.ndarray | None = None
) -> np.ndarray:
    r"""Rotate every pair of ``x`` (last axis = the rotary slice) by the given cos/sin.

    ``cos`` and ``sin`` hold one value per pair, shape broadcastable to ``x.shape[:-1] + (d/2,)``,
    magnitude already folded in. Writes into ``out`` (float64, same shape as ``x``) when given.
    This is the one rotation formula of the package [R-APPLY-1].

    >>> rotate_pairs(np.array([1.0, 0.0]), np.array([0.0]), np.array([1.0]), "half")
    array([0., 1.])
    """
    d = x.shape[-1]
    a_in, b_in = pair_slices(d, layout)
    a_out, b_out = pair_slices(d, layout, output=True)
    if out is None:
        out = np.empty(x.shape, dtype=np.float64)
    a, b = x[..., a_in], x[..., b_in]
    oa, ob = out[..., a_out], out[..., b_out]
    if layout == "interleaved_to_half" or not np.shares_memory(out, x):
        _rotate_into(a, b, cos, sin, oa, ob, np.empty(np.broadcast_shapes(a.shape, cos.shape)))
    else:  # in place on the same pairs: read both members before writing
        na = a * cos - b * sin
        ob[...] = b * cos + a * sin
        oa[...] = na
    return out


def apply_rope(x: Any, positions: Any, freqs: Any, *, layout: str = "half", rotary_offset: int = 0,
               precision: str = "fast") -> np.ndarray:
    r"""Rotate the rotary slice of ``x`` by the angles :math:`p\,\omega_i`, in float64.

    Parameters
    ----------
    x : array_like, shape ``(..., seq, head_dim)``
        Any real dtype; never modified.
    positions : array_like, broadcastable to ``(..., seq)``
        Integer or real, finite.
    freqs : Frequencies or array_like of shape ``(d/2,)``
        Inverse frequencies :math:`\omega_i` (and the magnitude :math:`m`, if a :class:`Frequencies`).
    layout : {"half", "interleaved", "interleaved_to_half"}
    rotary_offset : int
        Start of the rotary slice ``[rotary_offset, rotary_offset + d)``.
    precision : {"fast", "exact"}
        ``"fast"``: float64 angles and cos/sin, within the bound of [N-FAST-2]. ``"exact"``: each rotated
        coordinate within one ulp of :math:`m(a\cos\phi - b\sin\phi)` with :math:`\phi` the exact angle of the
        variant's formula (:math:`|p\,\omega| \le 2^{41}`) [P-EXACT-4].

    Returns
    -------
    ndarray, float64, shape of ``x``
        :math:`m\,R(p)\,x` on the rotary slice; every other coordinate equals ``x`` exactly.

    Notes
    -----
    Spec: [R-APPLY-1], [R-APPLY-2], [R-APPLY-3], [P-EXACT-4]. Source: RoFormer eq. (34); HF
    ``apply_rotary_pos_emb``.

    Examples
    --------
    >>> apply_rope([[1.0, 0.0, 5.0]], [1], [np.pi / 2], rotary_offset=0).round(12)
    array([[0., 1., 5.]])
    >>> apply_rope([[1.0, 0.0]], [2**40], [1.0], precision="exact")  # cos and sin of 2^40, correctly rounded
    array([[-0.91400407, -0.40570501]])
    """
    layout = check_layout(layout)
    exact_mode = check_precision(precision) == "exact"
    xa = real_array("x", x)
    if xa.ndim < 1:
        raise ValueError(f"x must have at least one axis (head_dim), got shape {xa.shape}")
    omega, magnitude = resolve_freqs(freqs)
    d = 2 * omega.shape[0]
    offset = check_int("rotary_offset", rotary_offset, minimum=0)
    if offset + d > xa.shape[-1]:
        raise ValueError(
            f"rotary slice [{offset}, {offset + d}) (rotary_offset={offset}, rotary_dim={d}) "
            f"does not fit in head_dim={xa.shape[-1]}")
    pos = _positions(positions)
    batch = xa.shape[:-1]
    try:
        shape = np.broadcast_shapes(pos.shape, batch)
    except ValueError:
        shape = None
    if shape != batch:
        raise ValueError(f"positions of shape {pos.shape} do not broadcast to x.shape[:-1] = {batch}")
    pos = pos.reshape((1,) * (len(batch) - pos.ndim) + pos.shape)
    out = np.empty(xa.shape, dtype=np.float64)
    out[..., :offset] = xa[..., :offset]          # pass-through coordinates: the input widened to float64
    out[..., offset + d:] = xa[..., offset + d:]
    x_rot, out_rot = xa[..., offset:offset + d], out[..., offset:offset + d]
    if xa.ndim == 1:  # one vector: a sequence of one row
        x_rot, pos, out_rot = x_rot[None], pos[None], out_rot[None]
    if exact_mode:
        rotate_rows_exact(x_rot, pos, freqs, layout, out_rot)
    else:
        rotate_rows(x_rot, pos, omega, magnitude, layout, out_rot)  # blocks of rows, over threads
    return out


def _rotate_into(a, b, cos, sin, oa, ob, tmp) -> None:
    """``(oa, ob) = (a cos - b sin, b cos + a sin)``: the pair rotation, every temporary written into ``tmp``."""
    np.multiply(a, cos, out=oa)
    np.multiply(b, sin, out=tmp)
    np.subtract(oa, tmp, out=oa)
    np.multiply(b, cos, out=ob)
    np.multiply(a, sin, out=tmp)
    np.add(ob, tmp, out=ob)


def cos_sin(positions: Any, freqs: Any, *, layout: str = "half", precision: str = "fast"
            ) -> tuple[np.ndarray, np.ndarray]:
    r"""The cos and sin tables, magnitude folded in, laid out for ``layout``.

    ``"half"`` (and ``"interleaved_to_half"``, whose rotation HF performs with the half table after
    de-interleaving) repeats the :math:`d/2` angles as two halves, ``cat(φ, φ)``;
    ``"interleaved"`` repeats each angle twice, ``(φ_0, φ_0, φ_1, φ_1, ...)``.

    Returns two float64 arrays of shape ``positions.shape + (rotary_dim,)``. ``precision="exact"``: each entry
    within one ulp of :math:`m\cos\phi` (:math:`m\sin\phi`), :math:`\phi` the exact angle of the variant's
    formula, :math:`|\phi| \le 2^{41}` [P-EXACT-3]; ``"fast"``: within the bound of [N-FAST-2].
    Spec: [R-COSSIN-1], [P-EXACT-3]. Source: HF ``LlamaRotaryEmbedding.forward``; vLLM ``cos_sin_cache``.

    >>> c, s = cos_sin([0, 1], [np.pi / 2, 0.0], layout="interleaved")
    >>> c.round(12), s.round(12)
    (array([[1., 1., 1., 1.],
           [0., 0., 1., 1.]]), array([[0., 0., 0., 0.],
           [1., 1., 0., 0.]]))
    """
    layout = check_layout(layout)
    if check_precision(precision) == "exact":
        omega, magnitude = exact.exact_inv_freq(freqs)
        c_hi, c_lo, s_hi, s_lo = exact.cos_sin_words(_positions(positions), omega)
        pairs = [exact.round_scaled(c_hi, c_lo, magnitude), exact.round_scaled(s_hi, s_lo, magnitude)]
        return tuple(_laid_out(t, layout) for t in pairs)
    omega, magnitude = resolve_freqs(freqs)
    phi = _laid_out(_angles(_positions(positions), omega), layout)
    return np.cos(phi) * magnitude, np.sin(phi) * magnitude


def _laid_out(pairs: np.ndarray, layout: str) -> np.ndarray:
    """One value per pair spread over the rotary slice: ``cat(v, v)``, or each twice for ``"interleaved"``."""
    return np.repeat(pairs, 2, axis=-1) if layout == "interleaved" else np.concatenate([pairs, pairs], axis=-1)


def rotation_matrix(position: Any, freqs: Any, *, layout: str = "half", precision: str = "fast") -> np.ndarray:
    r"""The explicit ``(d, d)`` orthogonal matrix :math:`R(p)` of the layout (magnitude excluded).

    ``apply_rope(x, p, freqs, layout=layout)`` equals ``attention_factor * R @ x`` on the rotary slice.
    For ``"interleaved"`` :math:`R` is block-diagonal with blocks
    :math:`\begin{pmatrix}\cos p\omega_i & -\sin p\omega_i\\ \sin p\omega_i & \cos p\omega_i\end{pmatrix}`;
    ``"half"`` is the same matrix conjugated by the permutation :math:`P`
    (:func:`refrope.layouts.interleave_permutation`); ``"interleaved_to_half"`` is :math:`P` times it.
    ``precision="exact"``: every entry within one ulp of the exact :math:`\pm\cos p\omega_i`,
    :math:`\pm\sin p\omega_i` [P-EXACT-3]. Spec: [R-MATRIX-1]. Source: RoFormer eq. (15).

    >>> rotation_matrix(1.0, [np.pi / 2], layout="interleaved").round(12)
    array([[ 0., -1.],
           [ 1.,  0.]])
    """
    layout = check_layout(layout)
    exact_mode = check_precision(precision) == "exact"
    p = check_real("position", position)
    omega, _ = resolve_freqs(freqs)
    d = 2 * omega.shape[0]
    if exact_mode:
        c, _, s, _ = (w[0] for w in exact.cos_sin_words(np.array([p]), exact.exact_inv_freq(freqs)[0]))
    else:
        phi = p * omega
        c, s = np.cos(phi), np.sin(phi)
    inter = np.zeros((d, d))
    idx = np.arange(0, d, 2)
    inter[idx, idx] = c
    inter[idx + 1, idx + 1] = c
    inter[idx, idx + 1] = -s
    inter[idx + 1, idx] = s
    perm = interleave_permutation(d)
    if layout == "interleaved":
        return inter
    if layout == "interleaved_to_half":
        return inter[perm, :]
    return inter[np.ix_(perm, perm)]
