r"""The ``torch`` reference's biases, xPos and dual-chunk attention, in float32, written independently of the oracle.

* biases (:data:`BIASES`): the papers' formulas on float32 distances, Sandwich as its sum of cosines minus
  :math:`D/2` (the oracle uses :math:`-2\sum\sin^2`), per-head parameters on the head axis :math:`-3`;
* xPos: :math:`\zeta_i` and :math:`\exp((p/B)\log\zeta_i)` in float32, times the adapter's rotated pairs;
* dual-chunk attention the way vLLM computes it: keys rotated at :math:`t \bmod c`, queries at three positions
  (intra, successive, inter), the logit of each pair taken from the part its chunk distance selects, then one
  float32 softmax.

Spec: [K-ATTN-1], [K-XPOS-1], [K-DCA-1] (docs/spec/conformance.md). Source: Press et al. (arXiv:2108.12409);
Chi et al. (arXiv:2205.09921, arXiv:2212.10356); rotary-embedding-torch 0.9.1 ``get_scale``; vLLM
``dual_chunk_rope.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch


def _param(backend, value: Any) -> torch.Tensor:
    t = backend.tensor(np.asarray(value, dtype=np.float64))
    return t.reshape(-1, 1, 1) if t.ndim else t


def _sandwich(backend, b, r: torch.Tensor) -> torch.Tensor:
    omega = backend.tensor(float(b.theta) ** (-np.arange(0, b.dim, 2) / b.dim))
    return _param(backend, b.lam) * (torch.cos(r[..., None] * omega).sum(-1) - b.dim / 2)


BIASES = {
    "alibi": lambda backend, b, r: -_param(backend, b.slopes) * r.abs(),
    "kerple_power": lambda backend, b, r: -_param(backend, b.r1) * r.abs() ** _param(backend, b.r2),
    "kerple_log": lambda backend, b, r: -_param(backend, b.r1) * torch.log1p(_param(backend, b.r2) * r.abs()),
    "sandwich": _sandwich,
}
"""The biases this reference implements: name -> ``(backend, bias, r) -> b(r)`` on float32 tensors."""


def xpos(backend, x, positions, freqs, *, role, scale_base=512.0, gamma=0.4, layout="half"):
    """``apply_rope`` of the adapter, then rotated pair i times zeta_i^(+-p/B) computed in float32."""
    d = freqs.rotary_dim
    out = backend.apply_rope(x, positions, freqs, layout=layout)
    zeta = (torch.arange(0, d, 2, dtype=torch.float32, device=backend.device) / d + gamma) / (1.0 + gamma)
    exponent = (backend.tensor(positions) / float(scale_base))[..., None] * torch.log(zeta)
    scale = torch.exp(exponent if role == "q" else -exponent).to(x.dtype)
    if layout == "interleaved":
        scale = scale.repeat_interleave(2, dim=-1)
    else:
        scale = torch.cat([scale, scale], dim=-1)
    out = out.clone()
    out[..., :d] = out[..., :d] * scale
    return out


def dca_queries(p: np.ndarray, chunk: int, local: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """vLLM's three query positions: intra ``p mod c``, successive ``min(p mod c + c, chunk)``, inter
    ``min(2c - 1, chunk)``, with ``c = chunk - local``."""
    c = chunk - local
    return p % c, np.minimum(p % c + c, chunk), np.full(p.shape, min(2 * c - 1, chunk))


def _dca_positions(backend, n_q: int, n_k: int, chunk: int, local: int):
    """The backend's query positions (intra, successive, inter), key positions and the part each pair takes."""
    c = chunk - local
    p = np.arange(n_k - n_q, n_k)
    t = np.arange(n_k)
    queries = backend.dual_chunk_queries(p, chunk, local)
    distance = (p // c)[:, None] - (t // c)[None, :]
    part = np.where(distance <= 0, 0, np.where(distance == 1, 1, 2))
    return queries, t % c, part, t[None, :] > p[:, None]


def dual_chunk_attention(backend, q, k, v, freqs, *, chunk_size, local_size, layout="half", scale=None):
    """Dual-chunk attention the vLLM way: three rotated query sets against keys at ``t mod c``, one softmax."""
    heads_q, heads_kv = q.shape[-3], k.shape[-3]
    if heads_q != heads_kv:
        k = k.repeat_interleave(heads_q // heads_kv, dim=-3)
        v = v.repeat_interleave(heads_q // heads_kv, dim=-3)
    n_q, n_k, d = q.shape[-2], k.shape[-2], freqs.rotary_dim
    queries, key_positions, part, later = _dca_positions(backend, n_q, n_k, int(chunk_size), int(local_size))
    kr = backend.apply_rope(k[..., :d], key_positions.astype(np.float64), freqs, layout=layout).float()
    logits = [backend.apply_rope(q[..., :d], pos.astype(np.float64), freqs, layout=layout).float()
              @ kr.transpose(-1, -2) for pos in queries]
    chosen = torch.as_tensor(part, device=q.device)
    s = torch.where(chosen == 0, logits[0], torch.where(chosen == 1, logits[1], logits[2]))
    s = s + q[..., d:].float() @ k[..., d:].float().transpose(-1, -2)
    s = s * (1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale))
    s = s.masked_fill(torch.as_tensor(later, device=q.device), -math.inf)
    return (torch.softmax(s, dim=-1) @ v.float()).to(q.dtype)
