r"""The block-wise backward pass behind :func:`refrope.attention_vjp` (private).

Shapes use a grouped view of the heads: ``q`` ``(..., heads_kv, group, n_q, d)`` and ``k``, ``v``
``(..., heads_kv, 1, n_k, d)``, so that query head ``h = kv * group + g`` reads key head ``kv``
(``h // group``, as in :func:`refrope.attention`). One block of query rows is processed at a time.

The probabilities come from the forward pass's own scores (one score formula, one mask rule) of the
problem validated once; the bilinear form :math:`M_{ij}` is applied with :func:`refrope.apply_rope` at the per-pair
angle :math:`\mp f(p_i - p_j)` and magnitude :math:`m^2`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import finite_real_array
from ..precision.namespaces import check_precision
from .api import problem_scores
from .setup import check_method, setup
from .strips import softmax_rows

__all__ = ["attention_backward"]

# Elements of the largest per-block temporary (heads_q * rows * n_k * head_dim) before a block is split.
_BLOCK_ELEMENTS = 1 << 18


def _grouped(x: np.ndarray, heads_kv: int) -> np.ndarray:
    """``(..., heads, n, e)`` viewed as ``(..., heads_kv, heads // heads_kv, n, e)``."""
    return x.reshape(x.shape[:-3] + (heads_kv, x.shape[-3] // heads_kv) + x.shape[-2:])


def _sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum the axes that broadcasting added or stretched so that ``x`` gets ``shape`` (the adjoint of broadcast)."""
    x = x.sum(axis=tuple(range(x.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[i] != 1)
    return x.sum(axis=stretched, keepdims=True)


def _block_grads(dout, probs, q, k, v, coef, rel, rotate):
    """Gradient contributions of one block of query rows (grouped arrays, see the module docstring).

    ``coef`` is :math:`c_i`, broadcastable to ``(..., 1, 1, rows)``; ``rel`` is :math:`f(p_i - p_j)`,
    ``(..., 1, 1, rows, n_k)`` (positions are per batch entry, shared by all heads).
    ``rotate(x, angles)`` is ``apply_rope`` at magnitude :math:`m^2` (the problem's ``Options.rope``).
    Returns ``(dq, dk, dv)``; dk and dv are summed over the block's rows and the group.
    """
    dv = (np.swapaxes(probs, -1, -2) @ dout).sum(axis=-3, keepdims=True)
    dp = dout @ np.swapaxes(v, -1, -2)
    ds = probs * (dp - (probs * dp).sum(axis=-1, keepdims=True)) * coef[..., None]
    # dq_i = sum_j dS_ij M_ij k_j, where M_ij k_j = apply_rope(k_j, -f_ij) at magnitude m^2
    keys = np.broadcast_to(k[..., None, :, :], k.shape[:-2] + rel.shape[-2:] + k.shape[-1:])
    dq = (ds[..., None, :] @ rotate(keys, -rel))[..., 0, :]
    # dk_j = sum_i dS_ij M_ij^T q_i, where M_ij^T y = apply_rope(y, +f_ij) at magnitude m^2; the angle is
    # the same for every head of a group, so the group is summed before rotating
    weighted = (ds[..., None] * q[..., :, None, :]).sum(axis=-4, keepdims=True)
    dk = rotate(weighted, rel).sum(axis=-3)
    return dq, dk, dv


def attention_backward(grad_out: Any, q: Any, k: Any, v: Any, freqs: Any, options: dict) -> tuple:
    """The body of :func:`refrope.attention_vjp`; ``options`` holds its keywords (those of attention, resolved)."""
    options = dict(options)
    if check_precision(options["precision"]) == "exact":
        raise ValueError("attention_vjp has no exact mode: precision='exact' covers attention, attention_scores, "
                         "attention_probs and decode_attention; the gradients are float64 (precision='fast')")
    method = check_method(options.pop("method"))
    problem = setup(q, k, v, freqs, options)
    opts = problem.options
    heads_q, n_q, head_dim = problem.q.shape[-3:]
    heads_kv, n_k, d_v = problem.k.shape[-3], problem.k.shape[-2], problem.v.shape[-1]
    out_shape = problem.batch + (heads_q, n_q, d_v)
    dout = finite_real_array("grad_out", grad_out)
    if dout.shape != out_shape:
        raise ValueError(f"grad_out must have the attention output's shape {out_shape}, got {dout.shape}")
    def rotate(x, angles):
        return opts.rope(x, angles, opts.magnitude ** 2, opts.pair_layout)

    q_g, dout_g = _grouped(problem.q, heads_kv), _grouped(dout, heads_kv)
    k_g, v_g = problem.k[..., None, :, :], problem.v[..., None, :, :]
    pq, pk, coef = (x[..., None, None, :] for x in (problem.pq, problem.pk, problem.factor))
    dq, dk, dv = np.zeros(q_g.shape), np.zeros(k_g.shape), np.zeros(v_g.shape)
    rows = max(1, _BLOCK_ELEMENTS // (math.prod(problem.batch) * heads_q * n_k * max(head_dim, d_v)))
    for start in range(0, n_q, rows):
        block = slice(start, start + rows)
        probs = softmax_rows(problem_scores(problem.rows(block), method))
        rel = opts.relpos(pq[..., block, None] - pk[..., None, :])
        dq[..., block, :], dk_b, dv_b = _block_grads(dout_g[..., block, :], _grouped(probs, heads_kv),
                                                      q_g[..., block, :], k_g, v_g, coef[..., block], rel,
                                                      rotate)
        dk += dk_b
        dv += dv_b
    dq, dk = dq.reshape(problem.q.shape), dk[..., 0, :, :]
    if problem.order is not None:  # back to the caller's coordinate order (setup put the rotary slice first)
        back = np.argsort(problem.order)
        dq, dk = dq[..., back], dk[..., back]
    return _sum_to(dq, np.shape(q)), _sum_to(dk, np.shape(k)), _sum_to(dv[..., 0, :, :], np.shape(v))
