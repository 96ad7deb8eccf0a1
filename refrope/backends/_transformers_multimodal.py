r"""The transformers adapter's multimodal rotations: transformers' own Qwen2-VL, Qwen3-VL, Pixtral and Llama 4 code.

* ``apply_mrope``: ``Qwen2VLRotaryEmbedding`` (blocked) or ``Qwen3VLTextRotaryEmbedding`` (interleaved), their
  ``forward`` with the given ``inv_freq``, ``attention_scaling`` and ``mrope_section`` (``recomposition_frequencies``
  included), then the rotation of :func:`hf_rotate`;
* ``apply_rope_nd``: the same ``Qwen2VLRotaryEmbedding``, whose blocked recomposition takes row ``j mod 3`` for chunk
  ``j`` of ``split(mrope_section)``: any pair-to-axis map over three rows is such a section list once empty chunks
  are inserted (:func:`cyclic_sections`); more than three axes run three at a time and keep their own pairs;
* ``apply_vision_rope``: ``vision_utils.get_vision_position_ids`` with ``Qwen2VLVisionRotaryEmbedding`` and
  ``apply_rotary_pos_emb_vision``; ``PixtralVisionRotaryEmbedding`` with the positions ``PixtralVisionModel.forward``
  builds (meshgrid, row-major) and Pixtral's ``apply_rotary_pos_emb``; ``Llama4VisionRotaryEmbedding`` with
  ``vision_apply_rotary_emb``.

transformers rotates the ``"half"`` layout; ``"interleaved_to_half"`` goes through DeepSeek-V3's
``apply_rotary_pos_emb_interleave`` and ``"interleaved"`` through GPT-J's ``apply_rotary_pos_emb``, with the same
recomposed cos and sin. Spec: docs/spec/conformance.md [K-ND-1], [K-MROPE-1], [K-VISION-1].
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from transformers import vision_utils
from transformers.models.deepseek_v3 import modeling_deepseek_v3 as ds3
from transformers.models.gptj import modeling_gptj as gptj
from transformers.models.llama4 import configuration_llama4 as l4_config
from transformers.models.llama4 import modeling_llama4 as l4
from transformers.models.pixtral import configuration_pixtral as px_config
from transformers.models.pixtral import modeling_pixtral as px
from transformers.models.qwen2_vl import configuration_qwen2_vl as q2_config
from transformers.models.qwen2_vl import modeling_qwen2_vl as q2
from transformers.models.qwen3_vl import configuration_qwen3_vl as q3_config
from transformers.models.qwen3_vl import modeling_qwen3_vl as q3

__all__ = ["hf_rotate", "cyclic_sections", "rope_nd", "mrope", "vision"]

_TINY = {"num_hidden_layers": 1, "num_attention_heads": 1, "num_key_value_heads": 1, "vocab_size": 16,
         "intermediate_size": 8, "bos_token_id": None, "eos_token_id": None}


def hf_rotate(rot: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, layout: str) -> torch.Tensor:
    """``rot`` ``(batch, heads, seq, d)`` rotated by transformers' functions; ``cos``, ``sin`` ``(batch, seq, d)`` as
    the rotary embeddings return them (``cat(phi, phi)``)."""
    if layout == "half":
        return q2.apply_rotary_pos_emb(rot, rot, cos, sin)[0]
    if layout == "interleaved_to_half":
        return ds3.apply_rotary_pos_emb_interleave(rot, rot, cos, sin)[0]
    n = rot.shape[-1] // 2  # GPT-J takes (batch, seq, heads, d) and one value per pair
    return gptj.apply_rotary_pos_emb(rot.transpose(1, 2), sin[..., :n], cos[..., :n]).transpose(1, 2)


def cyclic_sections(axes) -> list[int]:
    """A section list whose chunk ``j`` holds pairs of axis ``j mod 3`` (empty chunks where a run skips an axis).

    >>> cyclic_sections([0, 0, 2, 1, 1])
    [2, 0, 1, 0, 2]
    """
    sections: list[int] = []
    for axis in axes:
        if sections and (len(sections) - 1) % 3 == axis:
            sections[-1] += 1
            continue
        while len(sections) % 3 != axis:
            sections.append(0)
        sections.append(1)
    return sections


def _text_rotary(kind, freqs, sections, device):
    module_cls, config_cls = {"blocked": (q2.Qwen2VLRotaryEmbedding, q2_config.Qwen2VLTextConfig),
                              "interleaved": (q3.Qwen3VLTextRotaryEmbedding, q3_config.Qwen3VLTextConfig)}[kind]
    d = freqs.rotary_dim
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config = config_cls(hidden_size=d, head_dim=d, rope_parameters={
            "rope_type": "default", "rope_theta": 10000.0, "mrope_section": list(sections)}, **_TINY)
    module = module_cls(config).to(device)
    module.inv_freq = torch.tensor(np.asarray(freqs.inv_freq), dtype=torch.float32, device=device)
    module.attention_scaling = freqs.attention_factor
    module.mrope_section = list(sections)
    return module


def _position_ids(positions, batch, device) -> torch.Tensor:
    """``(3, prod(batch[:-1]), seq)`` position ids (rows beyond the given axes are 0)."""
    pos = np.asarray(positions, dtype=np.float64)
    pos = pos.reshape(pos.shape[:1] + (1,) * (len(batch) - (pos.ndim - 1)) + pos.shape[1:])
    pos = np.broadcast_to(pos, pos.shape[:1] + batch).reshape(pos.shape[0], -1, batch[-1])
    ids = np.zeros((3,) + pos.shape[1:])
    ids[: pos.shape[0]] = pos
    dtype = torch.int64 if np.all(ids == np.round(ids)) else torch.float64
    return torch.as_tensor(ids, device=device).to(dtype)


def _run(module, x, ids, layout, offset, d):
    seq = x.shape[-2]
    cos, sin = module(torch.zeros(1, dtype=x.dtype, device=x.device), ids)  # (batch, seq, d), in x.dtype
    rot = x[..., offset:offset + d].reshape(-1, 1, seq, d)
    return hf_rotate(rot, cos, sin, layout).reshape(x[..., offset:offset + d].shape)


def mrope(device, x, positions, freqs, sections, mode, layout, offset):
    module = _text_rotary(mode, freqs, sections, device)
    out, d = x.clone(), freqs.rotary_dim
    out[..., offset:offset + d] = _run(module, x, _position_ids(positions, tuple(x.shape[:-1]), device), layout,
                                       offset, d)
    return out


def rope_nd(device, x, positions, freqs, axes, layout, offset):
    axes = np.asarray(axes, dtype=np.int64)
    pos = np.asarray(positions, dtype=np.float64)
    out, d = x.clone(), freqs.rotary_dim
    keep = np.zeros(x.shape[-1], dtype=bool)
    for first in range(0, pos.shape[0], 3):  # three axes at a time; a pair keeps the run of its own axis
        mine = (axes >= first) & (axes < first + 3)
        if not mine.any():
            continue
        module = _text_rotary("blocked", freqs, cyclic_sections(np.where(mine, axes - first, 0)), device)
        rotated = _run(module, x, _position_ids(pos[first:first + 3], tuple(x.shape[:-1]), device), layout, offset, d)
        keep[:] = False  # output coordinate j holds pair j mod d/2 (half orders) or j // 2 (interleaved)
        pair_of = np.arange(d) // 2 if layout == "interleaved" else np.arange(d) % (d // 2)
        keep[offset:offset + d] = mine[pair_of]
        mask = torch.as_tensor(keep, device=x.device)
        out[..., mask] = rotated[..., mask[offset:offset + d]]
    return out


def _vision_qwen2_vl(x, grid, theta, merge, device):
    t, h, w = grid if len(grid) == 3 else (1, *grid)
    ids = vision_utils.get_vision_position_ids(torch.tensor([[t, h, w]], device=device), merge)
    d = x.shape[-1]
    config = q2_config.Qwen2VLVisionConfig(embed_dim=d, num_heads=1, depth=1, hidden_size=d,
                                           rope_parameters={"rope_type": "axial", "rope_theta": theta})
    cos, sin = q2.Qwen2VLVisionRotaryEmbedding(config).to(device)(x, ids)  # (n, d) float32
    q = x.reshape(-1, *x.shape[-2:]).transpose(0, 1)  # (n, heads, d)
    return q2.apply_rotary_pos_emb_vision(q, q, cos, sin)[0].transpose(0, 1).reshape(x.shape)


def _vision_pixtral(x, grid, theta, device):
    h, w = grid
    hpos, wpos = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    ids = torch.stack([hpos.flatten(), wpos.flatten()], dim=-1)  # as PixtralVisionModel.forward builds them
    d = x.shape[-1]
    config = px_config.PixtralVisionConfig(hidden_size=d, num_attention_heads=1, num_hidden_layers=1,
                                           intermediate_size=8, rope_parameters={"rope_type": "axial",
                                                                                 "rope_theta": theta})
    cos, sin = px.PixtralVisionRotaryEmbedding(config).to(device)(x, ids)  # (n, d) in x.dtype
    q = x.reshape(-1, 1, *x.shape[-2:])  # (batch, heads, n, d)
    return px.apply_rotary_pos_emb(q, q, cos, sin, unsqueeze_dim=0)[0].reshape(x.shape)


def _vision_llama4(x, grid, theta, device):
    d, patch = x.shape[-1], 2
    config = l4_config.Llama4VisionConfig(hidden_size=d, num_attention_heads=1, num_hidden_layers=1,
                                          intermediate_size=8, image_size=grid[0] * patch, patch_size=patch,
                                          rope_parameters={"rope_type": "default", "rope_theta": theta})
    freqs_ci = l4.Llama4VisionRotaryEmbedding(config).to(device)(x)  # (n + 1, 1, d/2) complex64
    q = x.reshape(-1, x.shape[-2], 1, d)  # (batch, n + 1, heads, d)
    return l4.vision_apply_rotary_emb(q, q, freqs_ci)[0].reshape(x.shape)


def vision(device, x, kind, grid, theta, merge):
    theta = 10000.0 if theta is None else float(theta)
    grid = tuple(int(g) for g in grid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "qwen2_vl":
            return _vision_qwen2_vl(x, grid, theta, 2 if merge is None else int(merge), device)
        if kind == "pixtral":
            return _vision_pixtral(x, grid, theta, device)
        return _vision_llama4(x, grid, theta, device)
