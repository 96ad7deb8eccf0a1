r"""The torch reference's multimodal rotations, the way transformers and vLLM compute them (float32 angles).

* ``apply_rope_nd``: cos and sin of every axis's angles (``pos.float() * inv_freq``, float32, times the
  magnitude, cast to the activation dtype), then pair :math:`i` takes the row of its axis (vLLM's
  ``cos_sin_cache[positions]`` then a per-pair gather), rotation in the activation dtype;
* ``apply_mrope``: the same cos and sin, recomposed as transformers and vLLM do: ``split(sections)`` taking row
  ``i`` of chunk ``i`` (blocked), or the ``channel % 3`` masks (interleaved) (:func:`mrope_select`);
* ``apply_vision_rope``: the towers' own pipelines: Qwen2-VL (``get_vision_position_ids``, axial frequencies over
  ``d/2``, rotation in float32), Pixtral (meshgrid positions, even/odd frequency halves, rotation in the activation
  dtype), Llama 4 (``(x+1, y+1)``, class token at angle 0, complex product in float32).

The steps a defect would live in are methods of :class:`~refrope.backends.torch_ref.TorchReference`
(``mrope_select``, ``vision_positions``, ``vision_angles``) that delegate here; the mutants of
``spec_tests/meta/mutants`` override them. Spec: docs/spec/conformance.md [K-ND-1], [K-MROPE-1], [K-VISION-1].
Source: transformers 5.24 ``models/qwen2_vl``, ``models/qwen3_vl``, ``models/pixtral``, ``models/llama4``,
``vision_utils.py``; vLLM 0.33 ``rotary_embedding/mrope.py``.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["rope_nd", "mrope", "mrope_select", "vision", "vision_positions", "vision_angles"]


def _rows(positions, batch: tuple[int, ...]) -> np.ndarray:
    """``positions`` ``(n_axes, ..., seq)`` broadcast to ``(n_axes, *batch)`` (each row as apply_rope's positions)."""
    pos = np.asarray(positions, dtype=np.float64)
    pos = pos.reshape(pos.shape[:1] + (1,) * (len(batch) - (pos.ndim - 1)) + pos.shape[1:])
    return np.broadcast_to(pos, pos.shape[:1] + batch)


def _rotate_slice(ref, x, cos, sin, layout, offset, d):
    out = x.clone()
    out[..., offset:offset + d] = ref.rotate(x[..., offset:offset + d], cos, sin, layout)
    return out


def rope_nd(ref, x, positions, freqs, axes, layout, offset):
    """Pair ``i`` rotated with the cos/sin row of axis ``axes[i]``."""
    cos, sin = ref.cos_sin_pairs(_rows(positions, tuple(x.shape[:-1])), freqs, x.dtype)  # (n_axes, ..., d/2)
    index = torch.as_tensor(np.asarray(axes, dtype=np.int64), device=cos.device)
    index = index.view((1,) * (cos.ndim - 1) + (-1,)).expand((1,) + cos.shape[1:])
    cos, sin = cos.gather(0, index)[0], sin.gather(0, index)[0]
    return _rotate_slice(ref, x, cos, sin, layout, offset, freqs.rotary_dim)


def mrope_select(table: torch.Tensor, sections, mode: str) -> torch.Tensor:
    """``(3, ..., d/2) -> (..., d/2)``: transformers' and vLLM's recomposition of the per-axis tables."""
    if mode == "interleaved":  # vLLM apply_interleaved_rope, HF Qwen3VLTextRotaryEmbedding
        channel = torch.arange(table.shape[-1], device=table.device)
        height = (channel % 3 == 1) & (channel < 3 * sections[1])
        width = (channel % 3 == 2) & (channel < 3 * sections[2])
        return torch.where(width, table[2], torch.where(height, table[1], table[0]))
    return torch.cat([m[i] for i, m in enumerate(table.split(list(sections), dim=-1))], dim=-1)


def mrope(ref, x, positions, freqs, sections, mode, layout, offset):
    cos, sin = ref.cos_sin_pairs(_rows(positions, tuple(x.shape[:-1])), freqs, x.dtype)
    cos, sin = ref.mrope_select(cos, sections, mode), ref.mrope_select(sin, sections, mode)
    return _rotate_slice(ref, x, cos, sin, layout, offset, freqs.rotary_dim)


def vision_positions(kind: str, grid, merge) -> torch.Tensor:
    """``(n_tokens, 2)`` int64 (row, column) in the tower's token order, as the tower builds them."""
    if kind == "qwen2_vl":  # vision_utils.get_vision_position_ids: meshgrid, then the merge blocks
        t, h, w = grid if len(grid) == 3 else (1, *grid)
        hpos, wpos = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        shape = (h // merge, merge, w // merge, merge)
        hpos, wpos = (p.reshape(shape).transpose(1, 2).flatten() for p in (hpos, wpos))
        return torch.stack([hpos, wpos], dim=-1).repeat(t, 1)
    h, w = grid
    hpos, wpos = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    pos = torch.stack([hpos.flatten(), wpos.flatten()], dim=-1)
    if kind == "llama4":  # img_idx // idx, img_idx % idx, plus one; the class token last, its angles masked to 0
        pos = torch.cat([pos + 1, torch.zeros(1, 2, dtype=pos.dtype)])
    return pos


def vision_angles(kind: str, positions: torch.Tensor, head_dim: int, theta: float) -> torch.Tensor:
    """``(n_tokens, d/2)`` float32 angles per pair, each tower's own frequency code."""
    d = head_dim
    pos = positions.float()
    if kind == "pixtral":  # inv_freq over d, then [even, odd]; h takes the first half of the angles, w the second
        inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float) / d))
        inv = torch.cat([inv[0::2], inv[1::2]])
        angles = pos[..., None] * inv
        return torch.cat([angles[:, 0, : d // 4], angles[:, 1, d // 4:]], dim=-1)
    inv = 1.0 / (theta ** (torch.arange(0, d // 2, 2, dtype=torch.float) / (d // 2)))  # axial: over d/2
    angles = pos[..., None] * inv  # (n, 2, d/4)
    if kind == "llama4":  # x (the column) first, then y
        return torch.cat([angles[:, 1], angles[:, 0]], dim=-1)
    return torch.cat([angles[:, 0], angles[:, 1]], dim=-1)


def vision(ref, x, kind, grid, theta, merge):
    d, dtype = x.shape[-1], x.dtype
    theta = 10000.0 if theta is None else float(theta)
    merge = (2 if merge is None else int(merge)) if kind == "qwen2_vl" else None
    angles = ref.vision_angles(kind, ref.vision_positions(kind, tuple(int(g) for g in grid), merge), d, theta)
    angles = angles.to(x.device)
    if kind == "pixtral":  # cos/sin cast to the activation dtype, rotation in it (apply_rotary_pos_emb)
        return ref.rotate(x, angles.cos().to(dtype), angles.sin().to(dtype), "half")
    layout = "interleaved" if kind == "llama4" else "half"  # both rotate in float32, then cast back
    return ref.rotate(x.float(), angles.cos(), angles.sin(), layout).to(dtype)
