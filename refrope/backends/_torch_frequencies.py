"""The torch reference's frequencies: each variant the way transformers 5.24 computes it, in float32 tensors with
Python-float scalars (``modeling_rope_utils.py``: ``_compute_default_rope_parameters``, ``_compute_yarn_parameters``,
``_compute_llama3_parameters``, ``_compute_longrope_parameters``, ``_compute_dynamic_ntk_parameters``,
``_compute_proportional_rope_parameters``). Spec: docs/spec/conformance.md [K-FREQ-1].
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["default_inv_freq", "mscale", "yarn_inv_freq", "yarn_attention_factor", "llama3_inv_freq",
           "longrope_inv_freq", "longrope_attention_factor", "FREQUENCY_FUNCTIONS"]


def default_inv_freq(d: int, base: float, device=None) -> torch.Tensor:
    """transformers' ``1 / base ** (arange(0, d, 2).float() / d)`` in float32."""
    return 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64, device=device).float() / d))


def _ntk_base(d: int, theta: float, alpha: float) -> float:
    return theta * alpha ** (d / (d - 2)) if d > 2 else theta


def _ramp(low: float, high: float, n: int, device) -> torch.Tensor:
    if low == high:
        high += 0.001
    return ((torch.arange(n, dtype=torch.float32, device=device) - low) / (high - low)).clamp(0, 1)


def _correction_dim(rotations: float, d: int, theta: float, length: float) -> float:
    return d * math.log(length / (rotations * 2 * math.pi)) / (2 * math.log(theta))


def mscale(k: float, m: float = 1.0) -> float:
    """transformers' ``get_mscale``: ``0.1 m ln k + 1`` for ``k > 1``, else 1."""
    return 1.0 if k <= 1 else 0.1 * m * math.log(k) + 1.0


def yarn_inv_freq(d, theta, p, device):
    """transformers ``_compute_yarn_parameters``: the ramp between ``inv_freq / k`` and ``inv_freq``."""
    k, length = p["factor"], p["original_max_position_embeddings"]
    low = _correction_dim(p.get("beta_fast", 32.0), d, theta, length)
    high = _correction_dim(p.get("beta_slow", 1.0), d, theta, length)
    if p.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, d - 1)
    pos_freqs = theta ** (torch.arange(0, d, 2, device=device).float() / d)
    keep = 1 - _ramp(low, high, d // 2, device)
    return (1.0 / (k * pos_freqs)) * (1 - keep) + (1.0 / pos_freqs) * keep


def yarn_attention_factor(p) -> float:
    """The magnitude of transformers' YaRN: explicit, else mscale ratio, else ``0.1 ln k + 1``."""
    if p.get("attention_factor") is not None:
        return float(p["attention_factor"])
    if p.get("mscale") and p.get("mscale_all_dim"):
        return mscale(p["factor"], p["mscale"]) / mscale(p["factor"], p["mscale_all_dim"])
    return mscale(p["factor"])


def llama3_inv_freq(d, theta, p, device):
    """transformers ``_compute_llama3_parameters``."""
    inv = default_inv_freq(d, theta, device)
    k, length = p["factor"], p["original_max_position_embeddings"]
    low, high = p["low_freq_factor"], p["high_freq_factor"]
    low_wavelen, high_wavelen = length / low, length / high
    wavelen = 2 * math.pi / inv
    out = torch.where(wavelen > low_wavelen, inv / k, inv)
    smooth = (length / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * out / k + smooth * out
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, out)


def longrope_inv_freq(d, theta, p, device):
    """transformers ``_compute_longrope_parameters``: long factors iff ``seq_len > L``."""
    length = p["original_max_position_embeddings"]
    use_long = p.get("seq_len") is not None and p["seq_len"] > length
    ext = torch.tensor(np.asarray(p["long_factor"] if use_long else p["short_factor"], dtype=np.float64),
                       device=device).to(torch.float32)
    return 1.0 / (ext * theta ** (torch.arange(0, d, 2, device=device).float() / d))


def longrope_attention_factor(p) -> float:
    if p.get("attention_factor") is not None:
        return float(p["attention_factor"])
    k = p["factor"]
    return 1.0 if k <= 1 else math.sqrt(1 + math.log(k) / math.log(p["original_max_position_embeddings"]))


def _dynamic_ntk(d, theta, p, device):
    k, length, seq = p["factor"], p["original_max_position_embeddings"], p["seq_len"]
    alpha = 1.0 if seq <= length else k * seq / length - (k - 1)
    return default_inv_freq(d, _ntk_base(d, theta, alpha), device), 1.0


def _proportional(d, theta, p, device):
    rotated = int(p.get("partial_rotary_factor", 1.0) * d // 2)
    inv = default_inv_freq(d, theta, device)
    keep = torch.arange(d // 2, device=device) < rotated
    return torch.where(keep, inv, torch.zeros_like(inv)) / p.get("factor", 1.0), 1.0


FREQUENCY_FUNCTIONS = {
    "default": lambda d, theta, p, device: (default_inv_freq(d, theta, device), 1.0),
    "linear": lambda d, theta, p, device: (default_inv_freq(d, theta, device) / p["factor"], 1.0),
    "ntk_aware": lambda d, theta, p, device: (default_inv_freq(d, _ntk_base(d, theta, p["factor"]), device), 1.0),
    "ntk_base": lambda d, theta, p, device: (default_inv_freq(d, theta * p["factor"], device), 1.0),
    "dynamic_ntk": _dynamic_ntk,
    "yarn": lambda d, theta, p, device: (yarn_inv_freq(d, theta, p, device), yarn_attention_factor(p)),
    "llama3": lambda d, theta, p, device: (llama3_inv_freq(d, theta, p, device), 1.0),
    "longrope": lambda d, theta, p, device: (longrope_inv_freq(d, theta, p, device), longrope_attention_factor(p)),
    "proportional": _proportional,
}
"""The variants this reference implements: name -> ``f(d, theta, params, device) -> (inv_freq, magnitude)``."""
