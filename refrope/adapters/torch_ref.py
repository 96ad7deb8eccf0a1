r"""``torch``: a plain PyTorch implementation of every capability, the way HF and vLLM compute it.

Frequencies and angles in float32 (``base ** (arange(0, d, 2) / d)``, ``pos.float() * inv_freq``),
cos and sin in float32 times the magnitude, cast to the activation dtype, rotation in the activation
dtype; attention logits and softmax in float32, the output cast back. Scalars (band edges, ramp bounds,
magnitudes) are Python floats, as in HF. This is the "correct reference" side of [N-ROPE-1]: it must
pass the conformance suite in float32, float16 and bfloat16; the mutants of ``spec_tests/meta/mutants``
each break one thing in it. Runs on any torch device: ``make_backend(device="cuda")``.

Spec: docs/spec/conformance.md [K-PROTO-1]; budget docs/spec/numerics.md [N-ROPE-1].
Source: HF ``modeling_rope_utils.py`` and ``apply_rotary_pos_emb`` (5.24); anchors §6.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..backend import feature_name

TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
                "bfloat16": torch.bfloat16}
VARIANTS = ("default", "linear", "ntk_aware", "ntk_base", "dynamic_ntk", "yarn", "llama3", "longrope", "proportional")
RELPOS = ("rope", "linear", "rerope", "leaky_rerope", "inv_leaky_rerope")
QUERY_SCALES = ("logn", "logn_clipped", "llama4_temperature")


def _f32(values: Any, device) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=np.float64), device=device).to(torch.float32)


def default_inv_freq(d: int, base: float, device=None) -> torch.Tensor:
    """HF's ``1 / base ** (arange(0, d, 2).float() / d)`` in float32."""
    return 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64, device=device).float() / d))


def _ntk_base(d: int, theta: float, alpha: float) -> float:
    return theta * alpha ** (d / (d - 2)) if d > 2 else theta


def _ramp(low: float, high: float, n: int, device) -> torch.Tensor:
    if low == high:
        high += 0.001
    return ((torch.arange(n, dtype=torch.float32, device=device) - low) / (high - low)).clamp(0, 1)


def _correction_dim(rotations: float, d: int, theta: float, length: float) -> float:
    return d * math.log(length / (rotations * 2 * math.pi)) / (2 * math.log(theta))


def _mscale(k: float, m: float = 1.0) -> float:
    return 1.0 if k <= 1 else 0.1 * m * math.log(k) + 1.0


def yarn_inv_freq(d, theta, p, device, truncate=None):
    """HF ``_compute_yarn_parameters`` (``truncate`` overridable for the mutants)."""
    k, length = p["factor"], p["original_max_position_embeddings"]
    truncate = p.get("truncate", True) if truncate is None else truncate
    low = _correction_dim(p.get("beta_fast", 32.0), d, theta, length)
    high = _correction_dim(p.get("beta_slow", 1.0), d, theta, length)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, d - 1)
    pos_freqs = theta ** (torch.arange(0, d, 2, device=device).float() / d)
    keep = 1 - _ramp(low, high, d // 2, device)
    return (1.0 / (k * pos_freqs)) * (1 - keep) + (1.0 / pos_freqs) * keep


def yarn_attention_factor(p) -> float:
    """The magnitude of HF's YaRN: explicit, else mscale ratio, else ``0.1 ln k + 1``."""
    if p.get("attention_factor") is not None:
        return float(p["attention_factor"])
    if p.get("mscale") and p.get("mscale_all_dim"):
        return _mscale(p["factor"], p["mscale"]) / _mscale(p["factor"], p["mscale_all_dim"])
    return _mscale(p["factor"])


def llama3_inv_freq(d, theta, p, device, edge_shift=0.0):
    """HF ``_compute_llama3_parameters`` (``edge_shift`` moves both band edges, for a mutant)."""
    inv = default_inv_freq(d, theta, device)
    k, length = p["factor"], p["original_max_position_embeddings"]
    low, high = p["low_freq_factor"], p["high_freq_factor"]
    low_wavelen, high_wavelen = length / low * (1 + edge_shift), length / high * (1 + edge_shift)
    wavelen = 2 * math.pi / inv
    out = torch.where(wavelen > low_wavelen, inv / k, inv)
    smooth = (length / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * out / k + smooth * out
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, out)


def longrope_inv_freq(d, theta, p, device, use_long=None):
    """HF ``_compute_longrope_parameters``: long factors iff ``seq_len > L`` (``use_long`` for a mutant)."""
    length = p["original_max_position_embeddings"]
    if use_long is None:
        use_long = p.get("seq_len") is not None and p["seq_len"] > length
    ext = _f32(p["long_factor"] if use_long else p["short_factor"], device)
    return 1.0 / (ext * theta ** (torch.arange(0, d, 2, device=device).float() / d))


def longrope_attention_factor(p) -> float:
    if p.get("attention_factor") is not None:
        return float(p["attention_factor"])
    k = p["factor"]
    return 1.0 if k <= 1 else math.sqrt(1 + math.log(k) / math.log(p["original_max_position_embeddings"]))


def compute_inv_freq(variant: str, d: int, theta: float, p: dict, device=None) -> tuple[torch.Tensor, float]:
    """``(inv_freq float32, attention_factor)`` of a variant this adapter implements."""
    if variant == "default":
        return default_inv_freq(d, theta, device), 1.0
    if variant == "linear":
        return default_inv_freq(d, theta, device) / p["factor"], 1.0
    if variant == "ntk_aware":
        return default_inv_freq(d, _ntk_base(d, theta, p["factor"]), device), 1.0
    if variant == "ntk_base":
        return default_inv_freq(d, theta * p["factor"], device), 1.0
    if variant == "dynamic_ntk":
        k, length, seq = p["factor"], p["original_max_position_embeddings"], p["seq_len"]
        alpha = 1.0 if seq <= length else k * seq / length - (k - 1)
        return default_inv_freq(d, _ntk_base(d, theta, alpha), device), 1.0
    if variant == "yarn":
        return yarn_inv_freq(d, theta, p, device), yarn_attention_factor(p)
    if variant == "llama3":
        return llama3_inv_freq(d, theta, p, device), 1.0
    if variant == "longrope":
        return longrope_inv_freq(d, theta, p, device), longrope_attention_factor(p)
    if variant == "proportional":
        rotated = int(p.get("partial_rotary_factor", 1.0) * d // 2)
        inv = default_inv_freq(d, theta, device)
        keep = torch.arange(d // 2, device=device) < rotated
        return torch.where(keep, inv, torch.zeros_like(inv)) / p.get("factor", 1.0), 1.0
    raise ValueError(f"the torch reference does not implement variant {variant!r}")


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
    """The backend object (see :func:`make_backend`)."""

    name = "torch"
    dtypes = ("float32", "float16", "bfloat16")
    angle_dtype = "float32"
    capabilities = frozenset({"apply_rope", "cos_sin", "inv_freq", "attention", "rotary_offset", "mscale_all_dim",
                              "gqa", *(f"variant:{v}" for v in VARIANTS), *(f"relpos:{r}" for r in RELPOS),
                              *(f"query_scale:{s}" for s in QUERY_SCALES)})

    def __init__(self, device: str | None = None) -> None:
        self.device = torch.device(device or "cpu")
        self.versions = {"torch": torch.__version__, "device": str(self.device)}

    def to_backend(self, array: np.ndarray, dtype: str) -> torch.Tensor:
        return torch.tensor(np.asarray(array, dtype=np.float64)).to(device=self.device, dtype=TORCH_DTYPES[dtype])

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return tensor.detach().to("cpu", torch.float64).numpy()

    def angles(self, positions: Any, freqs: Any) -> torch.Tensor:
        """``pos.float()[..., None] * inv_freq.float()`` (float32), shape ``positions.shape + (d/2,)``."""
        pos = _f32(positions, self.device)
        return pos[..., None] * _f32(freqs.inv_freq, self.device)

    def cos_sin_pairs(self, positions: Any, freqs: Any, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
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
        return compute_inv_freq(variant, rotary_dim, theta, params, self.device)

    def attention(self, q, k, v, freqs, **options):
        from ._torch_attention import attention

        return attention(self, q, k, v, freqs, **options, **self.attention_hooks())

    def attention_hooks(self) -> dict:
        """Replacement ``logits``/``scales`` functions for the attention (none: the reference's own)."""
        return {}


def relpos_map(relpos: Any):
    """``f(r)`` on float32 tensors for the maps of :mod:`refrope.relpos` (odd extension for ``r < 0``)."""
    kind = feature_name("relpos", relpos)
    if kind == "rope":
        return lambda r: r
    if kind == "linear":
        return lambda r: r / relpos.factor
    w = relpos.window
    if kind == "rerope":
        pos = lambda r: torch.clamp(r, max=w)  # noqa: E731
    else:
        pos = lambda r: torch.where(r < w, r, w + (r - w) / relpos.factor)  # noqa: E731
    return lambda r: torch.sign(r) * pos(r.abs())


def query_scale_values(query_scale: Any, positions: torch.Tensor) -> torch.Tensor:
    """:math:`\\sigma(p)` for the scales of :mod:`refrope.query_scale`, with :math:`n = p + 1`."""
    kind = feature_name("query_scale", query_scale)
    n = positions + 1
    if kind == "logn":
        return torch.log(n) / math.log(query_scale.training_length)
    if kind == "logn_clipped":
        return torch.clamp(torch.log(n) / math.log(query_scale.training_length), min=1.0)
    if kind == "llama4_temperature":
        return torch.log1p(torch.floor(n / query_scale.floor_scale)) * query_scale.attn_scale + 1.0
    raise ValueError(f"the torch reference does not implement query_scale {query_scale!r}")


def make_backend(device: str | None = None) -> TorchReference:
    """The torch reference backend on ``device`` (default CPU).

    >>> make_backend().angle_dtype
    'float32'
    """
    return TorchReference(device)
