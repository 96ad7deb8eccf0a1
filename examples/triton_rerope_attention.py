r"""A blockwise (flash-attention style) Triton kernel for the ReRoPE family with logn, and its refrope adapter.

The worked example of what refrope is for: an attention kernel whose position handling is not plain
RoPE, validated against the oracle by the spec suite (and the golden vectors) without a GPU, under
Triton's interpreter (``TRITON_INTERPRET=1``), and compiled when one is present.

The logit of query :math:`i` and key :math:`j` (docs/spec/attention.md) is

.. math:: s_{ij} = \lambda\,\sigma(p_i)\,\big[q_{i,\mathrm{pass}}^\top k_{j,\mathrm{pass}}
          + m^2\,q_{i,\mathrm{rot}}^\top \mathcal{R}(-f(p_i - p_j))\,k_{j,\mathrm{rot}}\big]

with :math:`f` a map of :mod:`refrope.relpos`. ReRoPE cannot be computed by rotating q and k once,
because :math:`f` is not linear; but every map of the family is two linear pieces (docs/spec/relpos.md L-PASS-1):
:math:`f(r) = r` inside the window, :math:`|r| < W`, and :math:`f(r) = \pm w + s\,(r \mp w)` outside it.
Each piece *is* a rotation of q and k at shifted positions:

* inside: q at :math:`p_i`, k at :math:`p_j` (the plain RoPE scores);
* outside, :math:`r \ge W`: q at :math:`w + s(p_i - w)`, k at :math:`s\,p_j` (ReRoPE, :math:`s = 0`:
  q at :math:`w`, k unrotated; Leaky ReRoPE :math:`s = 1/k`; the blog's two ``attention`` calls);
* outside, :math:`r \le -W` (bidirectional only): q at :math:`-w + s(p_i + w)`, k at :math:`s\,p_j`.

The kernel walks key blocks with an online softmax. For each (query block, key block) tile it counts
which pieces the tile's relative positions need: a tile wholly inside the window computes the RoPE
scores only, a tile wholly outside only the fixed (ReRoPE) or scaled (Leaky) rotation, and a tile
across the boundary both, merged elementwise by the window mask: the two score matrices and the mask
of kexue.fm/archives/9708 §8.2, computed per tile as in the blockwise ReRoPE discussed in the comments
of kexue.fm/archives/9728, so at most two score products per tile, and one for most tiles of a long
sequence. The query scale :math:`\sigma` (``logn``, ``logn_clipped``, Llama 4's temperature)
multiplies each row's logits; masked logits are :math:`-\infty`, and a query with no visible key gets
a zero row.

Everything is float32 (angles, scores, softmax), with ``input_precision="ieee"`` so that a GPU does
not use TF32. Run the spec suite against it::

    TRITON_INTERPRET=1 PYTHONPATH=examples python -m pytest spec_tests/conformance --backend triton_rerope_attention

Spec: docs/spec/attention.md (A-SCORE-1, A-OUT-1, A-RERO-1), budget docs/spec/numerics.md (N-ATTN-1).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import triton
import triton.language as tl
from triton_rope import LAYOUT_CODES, TritonRope

QUERY_SCALES = {None: 0, "LogN": 1, "LogNClipped": 2, "Llama4Temperature": 3}
RELPOS = ("rope", "linear", "rerope", "leaky_rerope", "inv_leaky_rerope")


@triton.jit
def _rotate(a, b, pos, omega, magnitude):
    """m R(pos) on pairs (a, b): float32 angles pos * omega, one row of positions per row of a and b."""
    phi = pos[:, None] * omega[None, :]
    c = tl.cos(phi) * magnitude
    s = tl.sin(phi) * magnitude
    return a * c - b * s, b * c + a * s


@triton.jit
def _pair_logits(qa, qb, ka, kb):
    """q_rot . k_rot for every (query, key) of the tile: the two pair members as two products."""
    return (tl.dot(qa, tl.trans(ka), input_precision="ieee")
            + tl.dot(qb, tl.trans(kb), input_precision="ieee"))


@triton.jit
def rerope_attention_kernel(
        q_ptr, k_ptr, v_ptr, o_ptr, pq_ptr, pk_ptr, freq_ptr, kmask_ptr,
        n_q, n_k, head_dim, dv, n_pairs, group,
        magnitude, logit_scale, window, slope, sliding, qs_a, qs_b,
        LAYOUT: tl.constexpr, HAS_OUTER: tl.constexpr, CAUSAL: tl.constexpr, HAS_SLIDING: tl.constexpr,
        HAS_KMASK: tl.constexpr, QS: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
        BLOCK_P: tl.constexpr, BLOCK_X: tl.constexpr, BLOCK_DV: tl.constexpr):
    head = tl.program_id(1)
    kv_head = head // group
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    row_ok = rows < n_q
    pairs = tl.arange(0, BLOCK_P)
    pair_ok = pairs < n_pairs
    if LAYOUT == 0:  # half: pair i is (i, i + d/2); the interleaved layouts read (2i, 2i + 1)
        in_a = pairs
        in_b = pairs + n_pairs
    else:
        in_a = 2 * pairs
        in_b = 2 * pairs + 1
    extra = 2 * n_pairs + tl.arange(0, BLOCK_X)  # pass-through coordinates after the rotary slice
    extra_ok = extra < head_dim
    dvs = tl.arange(0, BLOCK_DV)
    dv_ok = dvs < dv

    q_rows = q_ptr + (head * n_q + rows.to(tl.int64))[:, None] * head_dim
    qmask = row_ok[:, None] & pair_ok[None, :]
    qa = tl.load(q_rows + in_a[None, :], mask=qmask, other=0.0)
    qb = tl.load(q_rows + in_b[None, :], mask=qmask, other=0.0)
    qx = tl.load(q_rows + extra[None, :], mask=row_ok[:, None] & extra_ok[None, :], other=0.0)
    pq = tl.load(pq_ptr + rows, mask=row_ok, other=0.0)
    omega = tl.load(freq_ptr + pairs, mask=pair_ok, other=0.0)

    # the row multiplier lambda * sigma(p), n = p + 1 tokens seen (refrope.query_scale)
    n_tokens = pq + 1.0
    if QS == 1:    # logn: log_L n, qs_a = 1 / ln L
        row_scale = logit_scale * tl.log(n_tokens) * qs_a
    elif QS == 2:  # logn clipped: max(1, log_L n)
        row_scale = logit_scale * tl.maximum(tl.log(n_tokens) * qs_a, 1.0)
    elif QS == 3:  # Llama 4: a log(1 + floor(n / F)) + 1, qs_a = F, qs_b = a
        row_scale = logit_scale * (tl.log(1.0 + tl.floor(n_tokens / qs_a)) * qs_b + 1.0)
    else:
        row_scale = logit_scale + 0.0 * pq

    # q rotated for each linear piece of f: inside the window at p; outside at +-w + s (p -+ w)
    qa_in, qb_in = _rotate(qa, qb, pq, omega, magnitude)
    qa_pos, qb_pos = _rotate(qa, qb, window + slope * (pq - window), omega, magnitude)
    qa_neg, qb_neg = _rotate(qa, qb, -window + slope * (pq + window), omega, magnitude)

    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_DV], tl.float32)
    for start in range(0, n_k, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        col_ok = cols < n_k
        pk = tl.load(pk_ptr + cols, mask=col_ok, other=0.0)
        r = pq[:, None] - pk[None, :]
        visible = row_ok[:, None] & col_ok[None, :]
        if CAUSAL:
            visible = visible & (r >= 0)
        if HAS_SLIDING:
            if CAUSAL:
                visible = visible & (r < sliding)
            else:
                visible = visible & (tl.abs(r) < sliding)
        if HAS_KMASK:
            key_ok = tl.load(kmask_ptr + cols, mask=col_ok, other=0)
            visible = visible & (key_ok[None, :] != 0)
        if tl.sum(visible.to(tl.int32)) > 0:  # a fully masked tile (e.g. above the causal diagonal) is skipped
            k_rows = k_ptr + (kv_head * n_k + cols.to(tl.int64))[:, None] * head_dim
            kmask = col_ok[:, None] & pair_ok[None, :]
            ka = tl.load(k_rows + in_a[None, :], mask=kmask, other=0.0)
            kb = tl.load(k_rows + in_b[None, :], mask=kmask, other=0.0)
            kx = tl.load(k_rows + extra[None, :], mask=col_ok[:, None] & extra_ok[None, :], other=0.0)
            logits = tl.dot(qx, tl.trans(kx), input_precision="ieee")  # pass-through part, never rotated
            if HAS_OUTER:
                inside = tl.abs(r) < window
                above = r >= window
                below = r <= -window
                rot = tl.zeros([BLOCK_M, BLOCK_N], tl.float32)
                # L-PASS-1: which pieces this tile needs; a boundary tile computes both and merges
                if tl.sum((visible & inside).to(tl.int32)) > 0:
                    ka_in, kb_in = _rotate(ka, kb, pk, omega, magnitude)
                    rot = tl.where(inside, _pair_logits(qa_in, qb_in, ka_in, kb_in), rot)
                if tl.sum((visible & (above | below)).to(tl.int32)) > 0:
                    ka_out, kb_out = _rotate(ka, kb, slope * pk, omega, magnitude)  # keys at s p_j
                    if tl.sum((visible & above).to(tl.int32)) > 0:
                        rot = tl.where(above, _pair_logits(qa_pos, qb_pos, ka_out, kb_out), rot)
                    if tl.sum((visible & below).to(tl.int32)) > 0:
                        rot = tl.where(below, _pair_logits(qa_neg, qb_neg, ka_out, kb_out), rot)
                logits += rot
            else:  # plain RoPE: one rotation of each side
                ka_in, kb_in = _rotate(ka, kb, pk, omega, magnitude)
                logits += _pair_logits(qa_in, qb_in, ka_in, kb_in)
            logits = tl.where(visible, logits * row_scale[:, None], float("-inf"))
            # online softmax: rescale the running sum and output by exp(m_old - m_new)
            m_new = tl.maximum(m_i, tl.max(logits, axis=1))
            m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
            p = tl.exp(logits - m_safe[:, None])
            alpha = tl.exp(m_i - m_safe)
            v_rows = v_ptr + (kv_head * n_k + cols.to(tl.int64))[:, None] * dv
            v = tl.load(v_rows + dvs[None, :], mask=col_ok[:, None] & dv_ok[None, :], other=0.0)
            l_i = l_i * alpha + tl.sum(p, axis=1)
            acc = acc * alpha[:, None] + tl.dot(p, v, input_precision="ieee")
            m_i = m_new
    out = tl.where(l_i[:, None] > 0, acc / tl.where(l_i > 0, l_i, 1.0)[:, None], 0.0)  # no visible key: 0
    o_rows = o_ptr + (head * n_q + rows.to(tl.int64))[:, None] * dv
    tl.store(o_rows + dvs[None, :], out, mask=row_ok[:, None] & dv_ok[None, :])


def _relpos_params(relpos: Any) -> tuple[bool, float, float]:
    """``(has_outer, window w, slope s)`` of a map of refrope.relpos (``"rope"``: no outer piece)."""
    if isinstance(relpos, str) or not math.isfinite(relpos.inner_window):
        if relpos not in ("rope",) and isinstance(relpos, str):
            raise ValueError(f"relpos must be 'rope' or a map from refrope.relpos, got {relpos!r}")
        return False, 0.0, 1.0
    return True, float(relpos.inner_window), float(relpos.outer_slope)


def _query_scale_params(query_scale: Any) -> tuple[int, float, float]:
    kind = QUERY_SCALES.get(None if query_scale is None else type(query_scale).__name__)
    if kind is None:
        raise ValueError(f"unsupported query_scale {query_scale!r} (logn, logn_clipped, llama4_temperature)")
    if kind in (1, 2):
        return kind, 1.0 / math.log(query_scale.training_length), 0.0
    if kind == 3:
        return kind, float(query_scale.floor_scale), float(query_scale.attn_scale)
    return 0, 0.0, 0.0


def _p2(n: int, least: int = 16) -> int:
    return max(least, triton.next_power_of_2(max(n, 1)))


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, inv_freq: Any, magnitude: float = 1.0, *,
              positions_q: Any = None, positions_k: Any = None, relpos: Any = "rope", layout: str = "half",
              causal: bool = True, sliding_window: float | None = None, key_mask: Any = None,
              scale: float | None = None, query_scale: Any = None, softmax_factor: float = 1.0,
              block_m: int | None = None, block_n: int | None = None) -> torch.Tensor:
    """ReRoPE-family attention of ``q (heads_q, n_q, d)``, ``k (heads_kv, n_k, d)``, ``v (heads_kv, n_k, dv)``
    (float32), rotary slice = the first ``2 * len(inv_freq)`` coordinates; returns ``(heads_q, n_q, dv)``."""
    if q.ndim != 3 or k.ndim != 3 or v.ndim != 3:
        raise ValueError(f"q, k, v must be (heads, n, d); got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    (hq, n_q, d), (hk, n_k, _), dv = q.shape, k.shape, v.shape[-1]
    pk = np.arange(n_k, dtype=np.float64) if positions_k is None else np.asarray(positions_k, dtype=np.float64)
    pq = np.arange(n_k - n_q, n_k, dtype=np.float64) if positions_q is None else np.asarray(positions_q, np.float64)
    device = q.device
    as32 = lambda a: torch.tensor(np.array(a, dtype=np.float64), device=device).to(torch.float32)  # noqa: E731
    omega = as32(inv_freq).reshape(-1)
    has_outer, window, slope = _relpos_params(relpos)
    qs_kind, qs_a, qs_b = _query_scale_params(query_scale)
    kmask = torch.zeros(1, dtype=torch.int8, device=device) if key_mask is None else \
        torch.tensor(np.broadcast_to(np.asarray(key_mask, dtype=bool), (n_k,)).astype(np.int8), device=device)
    out = torch.empty((hq, n_q, dv), dtype=torch.float32, device=device)
    lam = (1.0 / math.sqrt(d) if scale is None else float(scale)) * float(softmax_factor)
    n_pairs = omega.numel()
    block_m = block_m or min(64, _p2(n_q))  # 16 to 64 rows and keys per tile (tl.dot needs >= 16)
    block_n = block_n or min(64, _p2(n_k))
    grid = (triton.cdiv(n_q, block_m), hq)
    rerope_attention_kernel[grid](
        q.contiguous(), k.contiguous(), v.contiguous(), out, as32(np.broadcast_to(pq, (n_q,))),
        as32(np.broadcast_to(pk, (n_k,))), omega, kmask, n_q, n_k, d, dv, n_pairs, hq // hk,
        float(magnitude), lam, window, slope, float(sliding_window or 0.0), qs_a, qs_b,
        LAYOUT=LAYOUT_CODES[layout], HAS_OUTER=has_outer, CAUSAL=bool(causal),
        HAS_SLIDING=sliding_window is not None, HAS_KMASK=key_mask is not None, QS=qs_kind, BLOCK_M=block_m,
        BLOCK_N=block_n, BLOCK_P=_p2(n_pairs), BLOCK_X=_p2(d - 2 * n_pairs), BLOCK_DV=_p2(dv))
    return out


class TritonReRoPEAttention(TritonRope):
    """The refrope backend object: ``attention`` for every map of refrope.relpos and every query scale
    (plus the RoPE kernel's ``apply_rope``), float32 storage and float32 angles."""

    name = "triton_rerope_attention"
    capabilities = frozenset({"attention", "apply_rope", "rotary_offset", "gqa", "mscale_all_dim",
                              *(f"relpos:{r}" for r in RELPOS),
                              *(f"query_scale:{s}" for s in ("logn", "logn_clipped", "llama4_temperature"))})

    def attention(self, q, k, v, freqs, *, positions_q=None, positions_k=None, relpos="rope", layout="half",
                  rotary_offset=0, causal=True, sliding_window=None, key_mask=None, scale=None, query_scale=None,
                  mscale_all_dim=None):
        if rotary_offset:  # the kernel rotates the leading coordinates: move the rotary slice there (q and k alike)
            o, d = rotary_offset, freqs.rotary_dim
            q, k = (torch.cat([t[..., o:o + d], t[..., :o], t[..., o + d:]], dim=-1) for t in (q, k))
        g = 1.0
        if mscale_all_dim is not None:
            from refrope import deepseek_softmax_factor

            g = deepseek_softmax_factor(freqs.params["factor"], mscale_all_dim)
        return attention(q, k, v, freqs.inv_freq, freqs.attention_factor, positions_q=positions_q,
                         positions_k=positions_k, relpos=relpos, layout=layout, causal=causal,
                         sliding_window=sliding_window, key_mask=key_mask, scale=scale, query_scale=query_scale,
                         softmax_factor=g)


def make_backend(device: str | None = None) -> TritonReRoPEAttention:
    """The adapter ``load_backend("triton_rerope_attention")`` builds (with ``examples/`` on ``PYTHONPATH``)."""
    return TritonReRoPEAttention(device)
