r"""``torch``: a plain PyTorch implementation of every capability, the way transformers and vLLM compute it.

Frequencies and angles in float32 (``base ** (arange(0, d, 2) / d)``, ``pos.float() * inv_freq``),
cos and sin in float32 times the magnitude, cast to the activation dtype, rotation in the activation
dtype; attention logits and softmax in float32, the output cast back. Scalars (band edges, ramp bounds,
magnitudes) are Python floats, as in transformers. This is the "correct reference" side of [N-ROPE-1]: it
must pass the conformance suite in float32, float16 and bfloat16. Runs on any torch device:
``make_backend(device="cuda")``.

**Extension point.** A backend that differs in one step subclasses :class:`TorchReference` and overrides
that step's method: :meth:`~TorchReference.tensor`, :meth:`~TorchReference.angles`,
:meth:`~TorchReference.cos_sin_pairs`, :meth:`~TorchReference.inv_freq`, :meth:`~TorchReference.logits`,
:meth:`~TorchReference.query_scales`, :meth:`~TorchReference.softmax_factor`,
:meth:`~TorchReference.softmax`, the multimodal steps
:meth:`~TorchReference.mrope_select`, :meth:`~TorchReference.vision_positions` and
:meth:`~TorchReference.vision_angles` (refrope/backends/_torch_multimodal.py), the schemes' steps
:meth:`~TorchReference.bias_values`, :meth:`~TorchReference.chunk_mask` and
:meth:`~TorchReference.dual_chunk_queries` (their float32 formulas live in ``_torch_schemes``), and the protocol
functions themselves. The mutants of ``spec_tests/meta/mutants`` do exactly that, each carrying its own defect.

Spec: docs/spec/conformance.md [K-PROTO-1]; budget docs/spec/numerics.md [N-ROPE-1].
Source: transformers 5.24 ``modeling_rope_utils.py`` and ``models/llama/modeling_llama.py``
(``apply_rotary_pos_emb``, ``LlamaRotaryEmbedding.forward``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from . import _torch_attention, _torch_multimodal, _torch_schemes
from ._torch_frequencies import (  # noqa: F401  (re-exported: the mutants build on them)
    FREQUENCY_FUNCTIONS,
    default_inv_freq,
    llama3_inv_freq,
    longrope_attention_factor,
    longrope_inv_freq,
    mscale,
    yarn_attention_factor,
    yarn_inv_freq,
)
from .protocol import feature_name

TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
                "bfloat16": torch.bfloat16}


RELPOS_MAPS = {
    "rope": lambda f: lambda r: r,
    "linear": lambda f: lambda r: r / f.factor,
    "rerope": lambda f: lambda r: torch.sign(r) * torch.clamp(r.abs(), max=f.window),
    "leaky_rerope": lambda f: lambda r: torch.sign(r) * _leaky(r.abs(), f.window, f.factor),
    "inv_leaky_rerope": lambda f: lambda r: torch.sign(r) * _leaky(r.abs(), f.window, f.factor),
    "none": lambda f: lambda r: r * 0.0,  # never rotated: _torch_attention takes q.k for NoPE
}
"""The relative-position maps this reference implements: name -> ``map -> (r -> f(r))`` on float32 tensors,
odd for ``r < 0``."""

QUERY_SCALES = {
    "logn": lambda s, n: torch.log(n) / math.log(s.training_length),
    "logn_clipped": lambda s, n: torch.clamp(torch.log(n) / math.log(s.training_length), min=1.0),
    "llama4_temperature": lambda s, n: torch.log1p(torch.floor(n / s.floor_scale)) * s.attn_scale + 1.0,
    "llama4_scaling": lambda s, n: torch.log1p(torch.floor((n - 1.0) / s.original_max_position_embeddings)) * s.beta
    + 1.0,
}
"""The query scales this reference implements: name -> ``(scale, n) -> sigma``, with ``n = position + 1``."""


def _leaky(r: torch.Tensor, w: float, k: float) -> torch.Tensor:
    return torch.where(r < w, r, w + (r - w) / k)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, layout: str) -> torch.Tensor:
    """The pair rotation in ``x.dtype`` (``cos``/``sin`` one value per pair, already cast)."""
    n = x.shape[-1] // 2
    if layout == "half":
        a, b = x[..., :n], x[..., n:]
    else:
        a, b = x[..., 0::2], x[..., 1::2]
    ra, rb = a * cos - b * sin, b * cos + a * sin
    if layout == "interleaved":
        return torch.stack([ra, rb], dim=-1).flatten(-2)
    return torch.cat([ra, rb], dim=-1)


class TorchReference:
    """The backend object (see :func:`make_backend`); subclass it to change one step (module docstring)."""

    name = "torch"
    dtypes = ("float32", "float16", "bfloat16")
    angle_dtype = "float32"
    capabilities = frozenset({"apply_rope", "cos_sin", "inv_freq", "attention", "apply_xpos", "dual_chunk_attention",
                              "rotary_offset", "mscale_all_dim", "gqa", "chunk_size", "batch", "batch_positions",
                              "apply_rope_nd", "apply_mrope",
                              "apply_vision_rope", *(f"variant:{v}" for v in FREQUENCY_FUNCTIONS),
                              *(f"relpos:{r}" for r in RELPOS_MAPS), *(f"query_scale:{s}" for s in QUERY_SCALES),
                              *(f"bias:{b}" for b in _torch_schemes.BIASES)})

    def __init__(self, device: str | None = None) -> None:
        self.device = torch.device(device or "cpu")
        self.versions = {"torch": torch.__version__, "device": str(self.device)}

    def to_backend(self, array: np.ndarray, dtype: str) -> torch.Tensor:
        return torch.tensor(np.asarray(array, dtype=np.float64)).to(device=self.device, dtype=TORCH_DTYPES[dtype])

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return tensor.detach().to("cpu", torch.float64).numpy()

    def tensor(self, values: Any) -> torch.Tensor:
        """``values`` (NumPy or a list) as a float32 tensor on the device, rounded once from float64."""
        return torch.tensor(np.asarray(values, dtype=np.float64), device=self.device).to(torch.float32)

    def angles(self, positions: Any, freqs: Any) -> torch.Tensor:
        """``pos.float()[..., None] * inv_freq.float()`` (float32), shape ``positions.shape + (d/2,)``."""
        return self.tensor(positions)[..., None] * self.tensor(freqs.inv_freq)

    def cos_sin_pairs(self, positions: Any, freqs: Any, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and sin of :meth:`angles` times the magnitude (float32), cast to ``dtype``: one value per pair."""
        phi = self.angles(positions, freqs)
        m = freqs.attention_factor
        return (phi.cos() * m).to(dtype), (phi.sin() * m).to(dtype)

    def apply_rope(self, x, positions, freqs, *, layout="half", rotary_offset=0):
        d = freqs.rotary_dim
        cos, sin = self.cos_sin_pairs(positions, freqs, x.dtype)
        out = x.clone()
        out[..., rotary_offset:rotary_offset + d] = rotate(x[..., rotary_offset:rotary_offset + d], cos, sin, layout)
        return out

    def cos_sin(self, positions, freqs, *, layout="half", dtype="float32"):
        cos, sin = self.cos_sin_pairs(positions, freqs, TORCH_DTYPES[dtype])
        if layout == "interleaved":
            return cos.repeat_interleave(2, dim=-1), sin.repeat_interleave(2, dim=-1)
        return torch.cat([cos, cos], dim=-1), torch.cat([sin, sin], dim=-1)

    def inv_freq(self, variant, rotary_dim, *, theta=10000.0, **params):
        """``(inv_freq float32, attention_factor)`` of a variant of :data:`FREQUENCY_FUNCTIONS`."""
        if variant not in FREQUENCY_FUNCTIONS:
            raise ValueError(f"the torch reference does not implement variant {variant!r}")
        return FREQUENCY_FUNCTIONS[variant](rotary_dim, theta, params, self.device)

    def relpos_map(self, relpos: Any):
        """``f(r)`` on float32 tensors for a map of :mod:`refrope.relpos` (odd extension for ``r < 0``)."""
        return RELPOS_MAPS[feature_name("relpos", relpos)](relpos)

    def query_scales(self, query_scale: Any, positions: torch.Tensor) -> torch.Tensor:
        """:math:`\\sigma(p)` for a scale of :mod:`refrope.query_scale`, with :math:`n = p + 1`."""
        kind = feature_name("query_scale", query_scale)
        if kind not in QUERY_SCALES:
            raise ValueError(f"the torch reference does not implement query_scale {query_scale!r}")
        return QUERY_SCALES[kind](query_scale, positions + 1)

    def softmax_factor(self, freqs: Any, mscale_all_dim: float | None) -> float:
        """DeepSeek's extra logit factor ``get_mscale(k, mscale_all_dim) ** 2`` (1 without ``mscale_all_dim``)."""
        return 1.0 if mscale_all_dim is None else mscale(freqs.params["factor"], mscale_all_dim) ** 2

    def softmax(self, s: torch.Tensor) -> torch.Tensor:
        """The softmax over the keys of float32 logits ``s`` (masked entries ``-inf``): ``torch.softmax``, which
        subtracts each row's maximum before the exponential."""
        return torch.softmax(s, dim=-1)

    def logits(self, q, k, freqs, pq, pk, relpos, layout) -> torch.Tensor:
        """Rotary-slice logits :math:`m^2 q_{rot}^\\top \\mathcal{R}(-f(p_q - p_k)) k_{rot}` (float32, unscaled)."""
        return _torch_attention.rope_logits(self, q, k, freqs, pq, pk, relpos, layout)

    def bias_values(self, bias: Any, rel: torch.Tensor, pq: torch.Tensor, pk: torch.Tensor) -> torch.Tensor:
        """:math:`b(p_q - p_k)` (float32) for a bias of :mod:`refrope.bias` from ``rel`` (head axis at -3)."""
        kind = feature_name("bias", bias)
        if kind not in _torch_schemes.BIASES:
            raise ValueError(f"the torch reference does not implement bias {bias!r}")
        return _torch_schemes.BIASES[kind](self, bias, rel)

    def chunk_mask(self, pq: torch.Tensor, pk: torch.Tensor, chunk_size: int) -> torch.Tensor:
        """``floor(p_q / C) == floor(p_k / C)`` (Llama 4's chunked layers), broadcast like ``pq - pk``."""
        return torch.floor(pq / chunk_size) == torch.floor(pk / chunk_size)

    def dual_chunk_queries(self, p: np.ndarray, chunk_size: int, local_size: int) -> tuple:
        """vLLM's intra, successive and inter query positions of dual-chunk attention (integer arrays)."""
        return _torch_schemes.dca_queries(p, chunk_size, local_size)

    def attention(self, q, k, v, freqs, **options):
        return _torch_attention.attention(self, q, k, v, freqs, **options)

    def apply_rope_nd(self, x, positions, freqs, *, axes, layout="half", rotary_offset=0):
        return _torch_multimodal.rope_nd(self, x, positions, freqs, axes, layout, rotary_offset)

    def apply_mrope(self, x, positions, freqs, *, sections, mode="blocked", layout="half", rotary_offset=0):
        return _torch_multimodal.mrope(self, x, positions, freqs, tuple(sections), mode, layout, rotary_offset)

    def apply_vision_rope(self, x, kind, *, grid, theta=None, spatial_merge_size=None):
        return _torch_multimodal.vision(self, x, kind, grid, theta, spatial_merge_size)

    @staticmethod
    def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, layout: str) -> torch.Tensor:
        """The pair rotation of :func:`rotate` (the multimodal functions call it through the backend)."""
        return rotate(x, cos, sin, layout)

    def mrope_select(self, table: torch.Tensor, sections, mode: str) -> torch.Tensor:
        """The M-RoPE recomposition ``(3, ..., d/2) -> (..., d/2)`` of a per-axis cos or sin table."""
        return _torch_multimodal.mrope_select(table, sections, mode)

    def vision_positions(self, kind: str, grid: tuple, merge) -> torch.Tensor:
        """``(n_tokens, 2)`` (row, column) of a vision tower, in its token order."""
        return _torch_multimodal.vision_positions(kind, grid, merge)

    def vision_angles(self, kind: str, positions: torch.Tensor, head_dim: int, theta: float) -> torch.Tensor:
        """``(n_tokens, d/2)`` float32 angles of a vision tower."""
        return _torch_multimodal.vision_angles(kind, positions, head_dim, theta)
    def apply_xpos(self, x, positions, freqs, **options):
        return _torch_schemes.xpos(self, x, positions, freqs, **options)

    def dual_chunk_attention(self, q, k, v, freqs, **options):
        return _torch_schemes.dual_chunk_attention(self, q, k, v, freqs, **options)


def make_backend(device: str | None = None) -> TorchReference:
    """The torch reference backend on ``device`` (default CPU).

    >>> make_backend().angle_dtype
    'float32'
    """
    return TorchReference(device)
