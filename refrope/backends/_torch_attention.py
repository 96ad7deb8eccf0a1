r"""Attention for the ``torch`` reference adapter: logits in float32, softmax in float32, output cast back.

For ``relpos="rope"`` the usual path: rotate q at :math:`p_q` and k at :math:`p_k` with the adapter's
``apply_rope`` (activation dtype), then :math:`q^\top k` in float32. For any other map :math:`f` the
relative form of each pair, :math:`(q_a k_a + q_b k_b)\cos f\omega + (q_a k_b - q_b k_a)\sin f\omega`,
which is how ReRoPE-style maps must be computed (kexue.fm/archives/9708); ``relpos="none"`` is the plain
:math:`q^\top k` (no rotation, no magnitude; ``freqs`` may be None). Masks (chunks included), GQA, query scales,
DeepSeek's softmax factor and biases (added after every factor, on the raw distance) as in
:func:`refrope.attention`. Spec: [K-ATTN-1]; budget [N-ATTN-1], [N-ATTN-2].
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .protocol import feature_name


def _positions(positions_q: Any, positions_k: Any, n_q: int, n_k: int) -> tuple[np.ndarray, np.ndarray]:
    pk = np.arange(n_k, dtype=np.float64) if positions_k is None else np.asarray(positions_k, dtype=np.float64)
    pq = np.arange(n_k - n_q, n_k, dtype=np.float64) if positions_q is None else np.asarray(positions_q, np.float64)
    return pq, pk


def _per_head(t: torch.Tensor, extra: int) -> torch.Tensor:
    """Insert the heads axis (and ``extra`` trailing axes) into a per-batch ``(..., n)`` tensor."""
    if t.ndim > 1:
        t = t.unsqueeze(-2)
    return t.reshape(t.shape + (1,) * extra)


def visible_pairs(rel: torch.Tensor, causal, sliding_window, key_mask, same_chunk=None) -> torch.Tensor:
    """Which (query, key) pairs may attend, from ``rel = p_q - p_k``: causal, window, key padding, same chunk."""
    visible = torch.ones_like(rel, dtype=torch.bool)
    if same_chunk is not None:
        visible = visible & same_chunk
    if causal:
        visible &= rel >= 0
    if sliding_window is not None:
        visible &= (rel if causal else rel.abs()) < sliding_window
    if key_mask is not None:
        mask = torch.as_tensor(np.asarray(key_mask), device=rel.device)
        visible = visible & (mask[..., None, None, :] if mask.ndim > 1 else mask)
    return visible


def rope_logits(backend, q, k, freqs, pq, pk, relpos, layout) -> torch.Tensor:
    """Rotary-slice logits :math:`m^2 q_{rot}^\\top \\mathcal{R}(-f(p_q - p_k)) k_{rot}` (float32, no scale)."""
    d = freqs.rotary_dim
    if feature_name("relpos", relpos) == "rope":
        qr = backend.apply_rope(q[..., :d], pq if pq.ndim < 2 else pq[..., None, :], freqs, layout=layout)
        kr = backend.apply_rope(k[..., :d], pk if pk.ndim < 2 else pk[..., None, :], freqs, layout=layout)
        return qr.float() @ kr.float().transpose(-1, -2)
    rel = backend.relpos_map(relpos)(backend.tensor(pq)[..., :, None] - backend.tensor(pk)[..., None, :])
    if rel.ndim > 2:  # per-batch positions: the same for every head
        rel = rel.unsqueeze(-3)
    phi = rel[..., None] * backend.tensor(freqs.inv_freq)
    n = d // 2
    qf, kf = q[..., :d].float(), k[..., :d].float()
    if layout == "half":
        qa, qb, ka, kb = qf[..., :n], qf[..., n:], kf[..., :n], kf[..., n:]
    else:
        qa, qb, ka, kb = qf[..., 0::2], qf[..., 1::2], kf[..., 0::2], kf[..., 1::2]
    qa, qb, ka, kb = qa[..., :, None, :], qb[..., :, None, :], ka[..., None, :, :], kb[..., None, :, :]
    m = freqs.attention_factor
    return ((qa * ka + qb * kb) * phi.cos() + (qa * kb - qb * ka) * phi.sin()).sum(-1) * (m * m)


def attention(backend, q, k, v, freqs, *, positions_q=None, positions_k=None, relpos="rope", layout="half",
              rotary_offset=0, causal=True, sliding_window=None, key_mask=None, scale=None, query_scale=None,
              mscale_all_dim=None, bias=None, chunk_size=None):
    """Softmax attention of the torch reference, through the backend's ``logits``, ``query_scales``,
    ``softmax_factor``, ``bias_values``, ``chunk_mask`` and ``softmax`` (which a subclass may replace)."""
    if rotary_offset and freqs is not None:  # q = [pass | rot | pass] as [rot | pass], as DeepSeek's MLA concatenates
        o, d = rotary_offset, freqs.rotary_dim
        q, k = (torch.cat([t[..., o:o + d], t[..., :o], t[..., o + d:]], dim=-1) for t in (q, k))
    dev, heads_q, heads_kv = q.device, q.shape[-3], k.shape[-3]
    if heads_q != heads_kv:
        k = k.repeat_interleave(heads_q // heads_kv, dim=-3)
        v = v.repeat_interleave(heads_q // heads_kv, dim=-3)
    pq, pk = _positions(positions_q, positions_k, q.shape[-2], k.shape[-2])
    nope = feature_name("relpos", relpos) == "none"
    d = 0 if nope else freqs.rotary_dim
    s = q[..., d:].float() @ k[..., d:].float().transpose(-1, -2)
    if not nope:
        s = s + backend.logits(q, k, freqs, pq, pk, relpos, layout)
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    factor *= backend.softmax_factor(freqs, mscale_all_dim)
    tq, tk = backend.tensor(pq), backend.tensor(pk)
    row = torch.full(tq.shape, factor, device=dev)
    if query_scale is not None:
        row = row * backend.query_scales(query_scale, tq)
    s = s * _per_head(row, 1)
    rel = _per_head(tq, 1) - _per_head(tk, 0).unsqueeze(-2)
    if bias is not None:
        s = s + backend.bias_values(bias, rel, tq, tk)
    chunk = None if chunk_size is None else backend.chunk_mask(_per_head(tq, 1), _per_head(tk, 0).unsqueeze(-2),
                                                                chunk_size)
    visible = visible_pairs(rel, causal, sliding_window, key_mask, chunk)
    s = s.masked_fill(~visible, -math.inf)
    probs = torch.where(visible.any(-1, keepdim=True), backend.softmax(s), 0.0)
    return (probs @ v.float()).to(q.dtype)
