r"""``transformers``: HF transformers' own RoPE code driven through the backend protocol.

* ``inv_freq``: ``ROPE_INIT_FUNCTIONS`` (and ``compute_default_rope_parameters``) on a ``LlamaConfig``
  carrying the variant's ``rope_parameters`` (dynamic NTK: ``max_position_embeddings`` = L, ``seq_len`` passed);
* ``cos_sin`` and ``apply_rope``: the rotary embedding forward path (``LlamaRotaryEmbedding.forward`` with the
  given ``inv_freq`` and ``attention_scaling``), then ``apply_rotary_pos_emb`` (``"half"``), DeepSeek-V3's
  ``apply_rotary_pos_emb_interleave`` (``"interleaved_to_half"``) or GPT-J's ``apply_rotary_pos_emb``
  (``"interleaved"``); pass-through coordinates are sliced off and put back, as the models do;
* ``attention``: RoPE as above, then Llama's ``eager_attention_forward`` (``repeat_kv``, float32 softmax) with
  an additive mask, and DeepSeek-V3's ``yarn_get_mscale(k, mscale_all_dim)**2`` on the scaling.

* ``apply_rope_nd``, ``apply_mrope``, ``apply_vision_rope``: Qwen2-VL's and Qwen3-VL's rotary embeddings
  (``recomposition_frequencies``) and the Qwen2-VL, Pixtral and Llama 4 vision rotaries
  (refrope/backends/_transformers_multimodal.py).

Positions broadcast against ``x.shape[:-1]`` become ``position_ids`` of shape ``(batch, seq)``, one row per
sequence (per-batch positions, [K-PROTO-1] flag ``batch_positions``).
Spec: docs/spec/conformance.md [K-PROTO-1], [K-ADAPT-1]; findings in docs/known_libraries.md.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import transformers
from transformers import LlamaConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
from transformers.models.deepseek_v3 import modeling_deepseek_v3 as ds3
from transformers.models.llama import modeling_llama as llama

from ..frequencies.registry import VARIANTS
from . import _transformers_multimodal as mm
from ._torch_attention import visible_pairs
from .torch_ref import TORCH_DTYPES, TorchReference

HF_NAMES = {name: v.hf_type for name, v in VARIANTS.items() if v.hf_type is not None}
"""refrope variant -> transformers ``rope_type`` (from the registry's ``hf_type``)."""


def hf_config(variant: str, rotary_dim: int, theta: float, params: dict) -> LlamaConfig:
    """A ``LlamaConfig`` whose ``rope_parameters`` express ``variant`` with refrope's parameters."""
    rope = {"rope_type": HF_NAMES[variant], "rope_theta": theta}
    rope.update({k: v for k, v in params.items() if k != "seq_len" and v is not None})
    length = params.get("original_max_position_embeddings", 4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LlamaConfig(hidden_size=rotary_dim, num_attention_heads=1, head_dim=rotary_dim,
                           max_position_embeddings=int(length), rope_parameters=rope)


def _rotary(freqs, device) -> llama.LlamaRotaryEmbedding:
    """Llama's rotary embedding module with the given ``inv_freq`` and magnitude (its forward path is HF's)."""
    module = llama.LlamaRotaryEmbedding(hf_config("default", freqs.rotary_dim, 10000.0, {})).to(device)
    module.inv_freq = torch.tensor(np.asarray(freqs.inv_freq), dtype=torch.float32, device=device)
    module.attention_scaling = freqs.attention_factor
    return module


class Transformers(TorchReference):
    """The backend object (see :func:`make_backend`)."""

    name = "transformers"
    capabilities = frozenset({"apply_rope", "cos_sin", "inv_freq", "attention", "mscale_all_dim", "gqa", "batch",
                              "batch_positions",
                              "relpos:rope", *(f"variant:{v}" for v in HF_NAMES), "apply_rope_nd", "apply_mrope",
                              "apply_vision_rope"})

    def __init__(self, device: str | None = None) -> None:
        super().__init__(device)
        self.versions = {"transformers": transformers.__version__, "torch": torch.__version__,
                         "device": str(self.device)}

    def _cos_sin_half(self, positions, freqs, dtype: torch.dtype):
        """cos and sin of ``position_ids`` (one row, or ``(batch, seq)``): ``(batch, seq, d)`` each, cat(phi, phi)."""
        ids = np.array(positions, dtype=np.int64)  # a copy: broadcast views are read-only
        ids = torch.as_tensor(ids.reshape(1, -1) if ids.ndim < 2 else ids, device=self.device)
        probe = torch.zeros(1, dtype=dtype, device=self.device)
        return _rotary(freqs, self.device)(probe, ids)

    def cos_sin(self, positions, freqs, *, layout="half", dtype="float32"):
        cos, sin = self._cos_sin_half(positions, freqs, TORCH_DTYPES[dtype])
        cos, sin = cos[0], sin[0]
        if layout == "interleaved":  # GPT-J: each angle twice
            n = freqs.rotary_dim // 2
            return cos[..., :n].repeat_interleave(2, -1), sin[..., :n].repeat_interleave(2, -1)
        return cos, sin

    def apply_rope(self, x, positions, freqs, *, layout="half", rotary_offset=0):
        if rotary_offset:
            raise ValueError("the transformers adapter rotates the leading coordinates only")
        d, seq = freqs.rotary_dim, x.shape[-2]
        rows = np.broadcast_to(np.asarray(positions), x.shape[:-1]).reshape(-1, seq)  # position_ids (batch, seq)
        cos, sin = self._cos_sin_half(rows, freqs, x.dtype)
        rot = x[..., :d].reshape(-1, 1, seq, d)  # (batch, heads, seq, d), one sequence per row of position_ids
        if layout == "half":
            out, _ = llama.apply_rotary_pos_emb(rot, rot, cos, sin)
        else:  # DeepSeek-V3's interleave-to-half, GPT-J's interleaved: as the multimodal functions
            out = mm.hf_rotate(rot, cos, sin, layout)
        result = x.clone()
        result[..., :d] = out.reshape(x[..., :d].shape)
        return result

    def inv_freq(self, variant, rotary_dim, *, theta=10000.0, **params):
        config = hf_config(variant, rotary_dim, theta, params)
        if variant == "default":
            return llama.LlamaRotaryEmbedding.compute_default_rope_parameters(config)
        return ROPE_INIT_FUNCTIONS[HF_NAMES[variant]](config, self.device, seq_len=params.get("seq_len"))

    def apply_rope_nd(self, x, positions, freqs, *, axes, layout="half", rotary_offset=0):
        return mm.rope_nd(self.device, x, positions, freqs, axes, layout, rotary_offset)

    def apply_mrope(self, x, positions, freqs, *, sections, mode="blocked", layout="half", rotary_offset=0):
        return mm.mrope(self.device, x, positions, freqs, tuple(sections), mode, layout, rotary_offset)

    def apply_vision_rope(self, x, kind, *, grid, theta=None, spatial_merge_size=None):
        return mm.vision(self.device, x, kind, grid, theta, spatial_merge_size)

    def attention(self, q, k, v, freqs, *, positions_q=None, positions_k=None, relpos="rope", layout="half",
                  causal=True, sliding_window=None, key_mask=None, scale=None, query_scale=None,
                  mscale_all_dim=None):
        n_q, n_k, lead = q.shape[-2], k.shape[-2], q.shape[:-3]
        pk = np.arange(n_k) if positions_k is None else np.asarray(positions_k)
        pq = pk[..., n_k - n_q:] if positions_q is None else np.asarray(positions_q)
        per_head = (lambda p: p[..., None, :] if p.ndim > 1 else p)  # position_ids (batch, seq), for every head
        qr = self.apply_rope(q, per_head(pq), freqs, layout=layout)
        kr = self.apply_rope(k, per_head(pk), freqs, layout=layout)
        rel = torch.as_tensor(per_head(np.asarray(pq, dtype=np.float64))[..., :, None]
                              - per_head(np.asarray(pk, dtype=np.float64))[..., None, :])
        visible = torch.broadcast_to(visible_pairs(rel, causal, sliding_window, key_mask), (*lead, 1, n_q, n_k))
        mask = torch.zeros(visible.shape, dtype=q.dtype).masked_fill(~visible, torch.finfo(q.dtype).min)
        scaling = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
        if mscale_all_dim is not None:
            scaling *= ds3.yarn_get_mscale(freqs.params["factor"], mscale_all_dim) ** 2
        module = torch.nn.Module()
        module.num_key_value_groups, module.training = q.shape[-3] // k.shape[-3], False
        lead = q.shape[:-3]
        out, _ = llama.eager_attention_forward(module, qr.reshape(-1, *q.shape[-3:]), kr.reshape(-1, *k.shape[-3:]),
                                               v.reshape(-1, *v.shape[-3:]), mask.reshape(-1, 1, n_q, n_k).to(
                                                   self.device), scaling)
        seen = visible.any(-1, keepdim=True).reshape(-1, 1, n_q, 1).to(self.device)
        out = torch.where(seen, out.transpose(1, 2), 0.0)  # a row with no key: 0, as the oracle (NaN when the
        # float16 mask minimum plus a large negative logit overflowed to -inf in every entry)
        return out.reshape(*lead, *out.shape[1:])


def make_backend(device: str | None = None) -> Transformers:
    """transformers' RoPE on ``device`` (default CPU).

    >>> make_backend().versions["transformers"] == transformers.__version__
    True
    """
    return Transformers(device)
