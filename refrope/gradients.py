r"""Vector-Jacobian products (reverse-mode gradients) of :func:`refrope.apply_rope` and of RoPE attention.

Both are derived, not differentiated numerically:

* ``apply_rope`` is linear in ``x`` with matrix :math:`m\,R(p)` on the rotary slice, so its VJP is
  :math:`m\,R(p)^\top = m\,R(-p)`: the same rotation with :math:`\sin \to -\sin`
  (flash-attn's ``conjugate=True``, ggml's ``rope_back``).
* attention is softmax of the bilinear score :math:`s_{ij} = c_i\, q_i^\top M_{ij} k_j`; its VJP follows the
  standard softmax backward (FlashAttention-2, Algorithm 2) and then the bilinear form.

Spec: docs/spec/gradients.md, clauses ``[D-ROPE-*]`` and ``[D-ATTN-*]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._attention.backward import attention_backward
from ._attention.keywords import KEYWORDS, METHOD, resolve, takes
from ._validation import check_int, finite_real_array, real_array
from .layouts import check_layout, interleave_permutation
from .rotary import apply_rope, resolve_freqs

__all__ = ["apply_rope_vjp", "attention_vjp"]


def apply_rope_vjp(
    grad_out: Any, positions: Any, freqs: Any, *, layout: str = "half", rotary_offset: int = 0
) -> np.ndarray:
    r"""Gradient with respect to ``x`` of :math:`\sum g \odot \mathrm{apply\_rope}(x, p)`, in float64.

    On the rotary slice ``[rotary_offset, rotary_offset + d)``

    .. math:: \nabla_x = \big(m\,R(p)\big)^\top g = m\,R(-p)\,g,

    and :math:`\nabla_x = g` on every other coordinate. For ``"interleaved_to_half"`` the forward is
    :math:`P\,R_{\mathrm{int}}(p)` (rotate GPT-J pairs, then write evens first), so the transpose first
    re-interleaves the gradient, :math:`P^\top g` (``g[..., argsort(perm)]`` with ``perm`` from
    :func:`refrope.layouts.interleave_permutation`), then rotates it with the ``"interleaved"`` layout by :math:`-p`.

    Parameters
    ----------
    grad_out : array_like, shape ``(..., seq, head_dim)``
        :math:`g`, the cotangent of ``apply_rope``'s output (the shape of ``x``); never modified.
    positions, freqs, layout, rotary_offset
        Exactly as given to :func:`refrope.apply_rope`.

    Returns
    -------
    ndarray, float64, shape of ``grad_out``

    Notes
    -----
    Spec: [D-ROPE-1], [D-ROPE-2], [D-ROPE-3]. Source: RoFormer eq. (15) (orthogonality of :math:`R`);
    flash-attn ``ApplyRotaryEmb.backward`` (``conjugate=True``); ggml ``ggml_rope_ext_back``.

    Examples
    --------
    >>> apply_rope_vjp([[0.0, 1.0, 7.0]], [1], [np.pi / 2]).round(12)
    array([[1., 0., 7.]])
    >>> apply_rope_vjp([[1.0, 0.0, 0.0, 0.0]], [0], [1.0, 1.0], layout="interleaved_to_half")
    array([[1., 0., 0., 0.]])
    >>> apply_rope_vjp([[0.0, 1.0, 0.0, 0.0]], [0], [1.0, 1.0], layout="interleaved_to_half")
    array([[0., 0., 1., 0.]])
    """
    layout = check_layout(layout)
    g = real_array("grad_out", grad_out)
    if g.ndim < 1:
        raise ValueError(f"grad_out must have at least one axis (head_dim), got shape {g.shape}")
    d = 2 * resolve_freqs(freqs)[0].shape[0]
    offset = check_int("rotary_offset", rotary_offset, minimum=0)
    if offset + d > g.shape[-1]:
        raise ValueError(
            f"rotary slice [{offset}, {offset + d}) (rotary_offset={offset}, rotary_dim={d}) "
            f"does not fit in grad_out's head_dim={g.shape[-1]}")
    pos = finite_real_array("positions", positions)
    try:
        fits = np.broadcast_shapes(pos.shape, g.shape[:-1]) == g.shape[:-1]
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"positions of shape {pos.shape} do not broadcast to grad_out.shape[:-1] = {g.shape[:-1]}")
    if layout == "interleaved_to_half":
        g = g.astype(np.float64, copy=True)
        rot = slice(offset, offset + d)
        g[..., rot] = g[..., rot][..., np.argsort(interleave_permutation(d))]
        layout = "interleaved"
    return apply_rope(g, -pos, freqs, layout=layout, rotary_offset=offset)


@takes(("grad_out", "q", "k", "v", "freqs"), KEYWORDS + (METHOD,))
def attention_vjp(grad_out: Any, q: Any, k: Any, v: Any, freqs: Any,
                  **options: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients ``(grad_q, grad_k, grad_v)`` of :math:`\sum dO \odot \mathrm{attention}(q, k, v, \dots)`, in float64.

    With :math:`P = \mathrm{softmax}(S)` row by row over the visible keys and :math:`O = PV`:

    .. math::

        dV = P^\top dO, \qquad dP = dO\,V^\top, \qquad
        dS_{ij} = P_{ij}\Big(dP_{ij} - \sum_{j'} P_{ij'}\,dP_{ij'}\Big)

    (:math:`\sum_{j'} P_{ij'} dP_{ij'} = \mathrm{rowsum}(dO \odot O)_i`). The logit
    :math:`s_{ij} = c_i\,q_i^\top M_{ij} k_j` is bilinear, with :math:`c_i = \lambda\,g\,\sigma(p_i)`
    (``scale``, the ``mscale_all_dim`` softmax factor, the query scale) and
    :math:`M_{ij} = \mathrm{diag}\big(I_{\mathrm{pass}},\; m^2 R(-f(p_i - p_j))\big)`, so

    .. math::

        dq_i = c_i \sum_j dS_{ij}\, M_{ij}\, k_j, \qquad
        dk_j = \sum_i c_i\, dS_{ij}\, M_{ij}^\top q_i, \qquad
        M_{ij}^\top = \mathrm{diag}\big(I, m^2 R(f(p_i - p_j))\big).

    A masked pair has :math:`P_{ij} = 0`, hence :math:`dS_{ij} = 0`: it contributes nothing, and a
    query with no visible key (a zero output row) gets a zero gradient row. A ``bias`` adds
    :math:`b(p_i - p_j)` to the logit, a constant of :math:`q, k, v`: it enters through :math:`P` only, and
    ``relpos="none"`` makes :math:`M_{ij} = I` (no rotation, no magnitude). With grouped-query
    attention ``grad_k`` and ``grad_v`` sum over the query heads sharing a key head; inputs broadcast
    over batch axes get gradients summed over them. The probabilities come from
    :func:`refrope.attention_probs` one block of query rows at a time, so memory grows as
    block × ``n_k``, never ``n_q`` × ``n_k``.

    Parameters
    ----------
    grad_out : array_like, shape ``(..., heads_q, n_q, d_v)``
        :math:`dO`, the cotangent of the attention output; exactly the output's shape.
    q, k, v, freqs
        As given to :func:`refrope.attention`; never modified.
    positions_q, positions_k, relpos, layout, rotary_offset, causal, sliding_window
        The keywords of :func:`refrope.attention`, with the same meaning and checks.
    key_mask, scale, query_scale, mscale_all_dim, bias, chunk_size, method, block_size
        Likewise.
    precision : {"fast"}
        The gradients are float64 computations (``"fast"``); ``"exact"`` raises ``ValueError`` (exact mode covers the
        forward functions only, [P-ATTN-2]); any other value too, naming it.

    Returns
    -------
    tuple of ndarray
        ``(grad_q, grad_k, grad_v)``, float64, with the shapes of ``q``, ``k`` and ``v``.

    Notes
    -----
    Spec: [D-ATTN-1] to [D-ATTN-6], [P-ATTN-2]. Source: Dao, FlashAttention-2 (arXiv:2307.08691) Algorithm 2
    (the softmax backward); kexue.fm/archives/9708 §8.2 (the per-pair rotation :math:`R(-f(i - j))`).

    Examples
    --------
    >>> q = np.array([[[1.0, 0.0]]]); k = np.array([[[1.0, 0.0], [0.0, 1.0]]]); v = np.array([[[1.0], [3.0]]])
    >>> dq, dk, dv = attention_vjp(np.array([[[1.0]]]), q, k, v, [0.0], scale=1.0)
    >>> dv.round(6)  # P = softmax(1, 0) = (e, 1) / (e + 1)
    array([[[0.731059],
            [0.268941]]])
    >>> dq.round(6)  # dS = P (v - P.v) = (-0.393224, 0.393224); dq = dS_0 k_0 + dS_1 k_1
    array([[[-0.393224,  0.393224]]])
    """
    return attention_backward(grad_out, q, k, v, freqs, resolve("attention_vjp", options, KEYWORDS + (METHOD,)))
