r"""Dual-chunk attention (DCA): RoPE attention whose relative positions never exceed ``chunk_size``.

Positions are cut into chunks of :math:`c` = ``chunk_size - local_size``; with :math:`r(x) = x \bmod c`,
query :math:`p` in chunk :math:`a = \lfloor p/c\rfloor` and key :math:`t \le p` in chunk :math:`b`, the relative
position is

.. math::

    M(p, t) = \begin{cases}
      r(p) - r(t) & a = b \quad\text{(intra-chunk: the true distance)}\\
      \min(r(p) + c,\ \text{chunk\_size}) - r(t) & a = b + 1 \quad\text{(successive chunks)}\\
      \text{chunk\_size} - r(t) & a \ge b + 2 \quad\text{(inter-chunk)}
    \end{cases}

so that :math:`0 \le M \le \min(p - t, \text{chunk\_size})`, :math:`M = p - t` whenever
:math:`p - t \le \text{local\_size} + 1`, and nothing changes while every position is below ``chunk_size``.
This is vLLM's ``DualChunkRotaryEmbedding`` (keys at :math:`r(t)`; queries at :math:`r(p)`,
:math:`\min(r(p) + c, \text{chunk\_size})` and :math:`\min(2c - 1, \text{chunk\_size})`) merged into one
softmax as its dual-chunk flash-attention backend does on the dense path. In the paper's notation (An et al.
2024) :math:`s = c`, its chunk size is ``chunk_size + 1`` and its local window :math:`w` = ``local_size + 1``.
Spec: docs/spec/schemes.md, [DCA-POS-1], [DCA-BOUND-1], [DCA-ATTN-1], [DCA-ROPE-1]. Source: An et al.,
*Training-Free Long-Context Scaling of Large Language Models* (arXiv:2402.17463) §3; vLLM
``vllm/model_executor/layers/rotary_embedding/dual_chunk_rope.py`` (``DualChunkRotaryEmbedding``); Qwen2.5-1M
(``dual_chunk_attention_config``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._attention.keywords import KEYWORDS, resolve
from ._attention.setup import Head, Options, setup
from ._attention.strips import softmax_rows, strips
from ._validation import check_int, finite_real_array

__all__ = ["dual_chunk_positions", "dual_chunk_attention"]


def _sizes(chunk_size: Any, local_size: Any) -> tuple[int, int]:
    chunk = check_int("chunk_size", chunk_size, minimum=1)
    local = check_int("local_size", local_size, minimum=0)
    if 2 * local >= chunk:
        raise ValueError(f"dual-chunk attention needs 2 * local_size < chunk_size, got local_size={local}, "
                         f"chunk_size={chunk}")
    return chunk, local


def dual_chunk_positions(positions_q: Any, positions_k: Any, *, chunk_size: int, local_size: int) -> np.ndarray:
    r"""The matrix :math:`M(p_i, t_j)` of the module docstring, float64, shape ``(n_q, n_k)``.

    Positions are integers :math:`\ge 0` (1-D); entries with :math:`t > p` (masked by causality) are
    :math:`r(p) - r(t)`. Spec: [DCA-POS-1], [DCA-BOUND-1]. Source: vLLM ``dual_chunk_rope.py``
    (``_compute_cos_sin_cache``, ``forward``); An et al. (arXiv:2402.17463) §3.

    >>> dual_chunk_positions(np.arange(7), np.arange(7), chunk_size=4, local_size=1)[5:]  # c = 3
    array([[4., 3., 2., 2., 1., 0., 2.],
           [4., 3., 2., 3., 2., 1., 0.]])
    """
    chunk, local = _sizes(chunk_size, local_size)
    p, t = (finite_real_array(name, value) for name, value in (("positions_q", positions_q),
                                                                ("positions_k", positions_k)))
    for name, x in (("positions_q", p), ("positions_k", t)):
        if x.ndim != 1 or np.any(x < 0) or np.any(x != np.floor(x)):
            raise ValueError(f"{name} must be a 1-D array of integers >= 0, got {x!r}")
    c = chunk - local
    rp, rt = (p % c)[:, None], (t % c)[None, :]
    a, b = (p // c)[:, None], (t // c)[None, :]
    return np.select([a == b + 1, a >= b + 2], [np.minimum(rp + c, chunk) - rt, chunk - rt], rp - rt)


def _head_output(head: Head, options: Options, positions: np.ndarray) -> np.ndarray:
    n_k = len(head.pk)
    out = np.empty((len(head.pq), head.v.shape[1]))
    for rows in strips(len(head.pq), n_k, options.block):
        s = np.empty((rows.stop - rows.start, n_k))
        for t, i in enumerate(range(rows.start, rows.stop)):  # keys turned by -M(p_i, t_j), the query as is
            turned = options.rope(head.k, -positions[i], options.magnitude ** 2, options.pair_layout)
            s[t] = (turned @ head.q[i]) * head.factor[i]
        s[head.pk[None, :] > head.pq[rows, None]] = -np.inf
        out[rows] = softmax_rows(s) @ head.v
    return out


def dual_chunk_attention(q: Any, k: Any, v: Any, freqs: Any, *, chunk_size: int, local_size: int,
                         layout: str = "half", scale: float | None = None) -> np.ndarray:
    r"""Causal dual-chunk attention, in float64: one softmax over every key :math:`t \le p` with the logit

    .. math:: s_{pt} = \lambda\big[\, m^2\, q_{\mathrm{rot}}^\top \mathcal{R}(-M(p, t))\, k_{\mathrm{rot}}
              + q_{\mathrm{pass}}^\top k_{\mathrm{pass}} \big]

    Parameters
    ----------
    q, k, v : array_like
        As for :func:`refrope.attention`: ``(..., heads_q, n_q, d)``, ``(..., heads_kv, n_k, d)``,
        ``(..., heads_kv, n_k, dv)``, GQA and batch broadcasting included; :math:`n_q \le n_k`.
    freqs : Frequencies or array_like ``(d_rot/2,)``
        :math:`\omega` and the magnitude :math:`m`; the rotary slice is the first ``d_rot`` coordinates.
    chunk_size, local_size : int
        ``local_size`` :math:`\ge 0`, ``2 * local_size < chunk_size``.
    layout : {"half", "interleaved", "interleaved_to_half"}
    scale : float, optional
        :math:`\lambda > 0`, default :math:`1/\sqrt d`.

    Returns
    -------
    ndarray, float64, shape ``(..., heads_q, n_q, dv)``
        Queries sit at the last :math:`n_q` key positions of ``arange(n_k)``. For :math:`n_k \le`
        ``chunk_size`` this is plain causal RoPE attention ([DCA-ROPE-1]).

    Spec: [DCA-ATTN-1], [DCA-ROPE-1]. Source: An et al. (arXiv:2402.17463) §3; vLLM ``dual_chunk_rope.py`` and
    ``vllm/attention/backends/dual_chunk_flash_attn.py`` (intra, succ and inter logits merged by their
    log-sum-exp: one softmax).

    >>> q = np.array([[[1.0, 0.0]]]); k = np.array([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])
    >>> v = np.array([[[1.0], [2.0], [3.0]]])
    >>> dual_chunk_attention(q, k, v, [np.pi / 2], chunk_size=2, local_size=0, scale=1.0).round(8)  # M = 2, 1, 0
    array([[[2.26695639]]])
    >>> float((np.exp(-1) + 2 + 3) / (np.exp(-1) + 2))  # logits -1, 0, 0
    2.266956394754555
    """
    chunk, local = _sizes(chunk_size, local_size)
    options = resolve("dual_chunk_attention", {"layout": layout, "scale": scale}, KEYWORDS)
    if np.ndim(q) >= 3 and np.ndim(k) >= 3 and np.shape(q)[-2] > np.shape(k)[-2]:
        raise ValueError(f"dual_chunk_attention needs n_q <= n_k (queries at the last n_q key positions), got "
                         f"q.shape={np.shape(q)}, k.shape={np.shape(k)}")
    problem = setup(q, k, v, freqs, options)
    n_q, n_k = problem.q.shape[-2], problem.k.shape[-2]
    pk = np.arange(n_k, dtype=np.float64)
    positions = dual_chunk_positions(pk[n_k - n_q:], pk, chunk_size=chunk, local_size=local)
    out = np.empty(problem.q.shape[:-1] + (problem.v.shape[-1],))
    for index, head in problem.heads():
        out[index] = _head_output(head, problem.options, positions)
    return out
