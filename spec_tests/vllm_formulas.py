"""vLLM 0.33's rotary formulas, transcribed in float64 NumPy for the cross-checks of test_hf_vllm.py.

vLLM is not a dependency of the suite. Each function below writes out one class of
``vllm/model_executor/layers/rotary_embedding/`` (vLLM 0.33.0; the file is named in its docstring): the
inverse frequencies its ``_compute_inv_freq`` / ``_compute_cos_sin_cache`` builds and the magnitude
(``mscale``) that multiplies its cos/sin cache, with ``rotary_dim`` d and ``base`` theta. They are written
from vLLM's code, not from refrope's, so that a reading of refrope that drifts from vLLM fails here.
"""

from __future__ import annotations

import math

import numpy as np


def base_inv_freq(d: int, base: float) -> np.ndarray:
    """``RotaryEmbedding._compute_inv_freq`` (base.py): ``1 / base ** (arange(0, d, 2) / d)``."""
    return 1.0 / base ** (np.arange(0, d, 2, dtype=np.float64) / d)


def ntk(d: int, base: float, factor: float, mixed_b: float | None) -> np.ndarray:
    """``NTKScalingRotaryEmbedding._compute_inv_freq`` (ntk_scaling_rope.py): fixed (``mixed_b`` None) divides the
    frequencies of base ``base * factor`` by ``factor ** (2 / d)``; mixed divides those of ``base`` by
    ``exp(a m^b)``, ``a = ln(factor) / (d / 2) ** b``, ``m = 1 .. d/2``."""
    inv = base_inv_freq(d, base * (factor if mixed_b is None else 1))
    if mixed_b is None:
        return inv / factor ** (2 / d)
    a = math.log(factor) / (d / 2) ** mixed_b
    return inv / np.exp(a * np.arange(1, d // 2 + 1, dtype=np.float64) ** mixed_b)


def ntk_alpha(d: int, base: float, alpha: float) -> np.ndarray:
    """``DynamicNTKAlphaRotaryEmbedding._compute_cos_sin_cache`` (dynamic_ntk_alpha_rope.py):
    base ``base * alpha ** (d / (d - 2))``."""
    return base_inv_freq(d, base * alpha ** (d / (d - 2)))


def dynamic_ntk(d: int, base: float, factor: float, max_position: int, max_trained_positions: int) -> np.ndarray:
    """``DynamicNTKScalingRotaryEmbedding`` (dynamic_ntk_scaling_rope.py): evaluated once at ``max_position``;
    above ``max_trained_positions`` the base is ``base * (factor * max_position / max_trained_positions -
    (factor - 1)) ** (d / (d - 2))``, at or below it the frequencies are unscaled."""
    if max_position <= max_trained_positions:
        return base_inv_freq(d, base)
    scaled = base * (factor * max_position / max_trained_positions - (factor - 1)) ** (d / (d - 2))
    return base_inv_freq(d, scaled)


def yarn_get_mscale(scale: float, mscale: float = 1.0) -> float:
    """``yarn_get_mscale`` (common.py / deepseek_scaling_rope.py)."""
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def _correction_range(low_rot, high_rot, d, base, length, truncate=True):
    """``yarn_find_correction_range`` (common.py)."""
    def dim(rotations):
        return d * math.log(length / (rotations * 2 * math.pi)) / (2 * math.log(base))
    low, high = dim(low_rot), dim(high_rot)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    return max(low, 0), min(high, d - 1)


def _ramp_mask(low, high, n):
    """``yarn_linear_ramp_mask`` (common.py)."""
    if low == high:
        high += 0.001
    return np.clip((np.arange(n, dtype=np.float64) - low) / (high - low), 0, 1)


def yarn_inv_freq(d, base, factor, length, beta_fast=32, beta_slow=1, extrapolation_factor=1.0, truncate=True):
    """``YaRNScalingRotaryEmbedding._compute_inv_freq`` (yarn_scaling_rope.py), the same in
    ``DeepseekScalingRotaryEmbedding`` (deepseek_scaling_rope.py, always truncated): interpolated and
    extrapolated frequencies blended by ``(1 - ramp) * extrapolation_factor``; ``length`` is
    ``original_max_position_embeddings``."""
    pos_freqs = base ** (np.arange(0, d, 2, dtype=np.float64) / d)
    extrapolation, interpolation = 1.0 / pos_freqs, 1.0 / (factor * pos_freqs)
    low, high = _correction_range(beta_fast, beta_slow, d, base, length, truncate)
    mask = (1 - _ramp_mask(low, high, d // 2)) * extrapolation_factor
    return interpolation * (1 - mask) + extrapolation * mask


def yarn_mscale_apply(factor: float, attn_factor: float = 1.0, apply_yarn_scaling: bool = True) -> float:
    """The magnitude of ``YaRNScalingRotaryEmbedding`` with ``attn_factor`` / ``apply_yarn_scaling``:
    ``yarn_get_mscale(factor) * attn_factor``, or ``attn_factor`` alone."""
    return yarn_get_mscale(factor) * attn_factor if apply_yarn_scaling else attn_factor


def deepseek_mscale(factor: float, mscale: float = 1.0, mscale_all_dim: float = 0.0, attn_factor: float = 1.0):
    """``DeepseekScalingRotaryEmbedding.__init__`` (deepseek_scaling_rope.py): ``yarn_get_mscale(factor, mscale) /
    yarn_get_mscale(factor, mscale_all_dim) * attn_factor`` (defaults 1, 0, 1)."""
    return yarn_get_mscale(factor, float(mscale)) / yarn_get_mscale(factor, float(mscale_all_dim)) * attn_factor


def telechat3_mscale(factor: float) -> float:
    """TeleChat3's YaRN magnitude (telechat3_scaling_rope.py): ``0.07 * ln(factor) + 1`` for factor > 1."""
    return 1.0 if factor <= 1 else 0.07 * math.log(factor) + 1.0


def longrope(d, base, max_position, original, short_factor, long_factor, max_model_len, short_mscale=None,
             long_mscale=None):
    """``Phi3LongRoPEScaledRotaryEmbedding`` (phi3_long_rope_scaled_rope.py): ``use_long_rope = max_model_len >
    original``, chosen once; magnitude ``sqrt(1 + ln(scale) / ln(original))`` with ``scale = max_position /
    original`` (1 when scale <= 1) unless ``short_mscale`` / ``long_mscale`` is given. Returns (inv_freq, mscale)."""
    scale = max_position / original
    default = 1.0 if scale <= 1.0 else math.sqrt(1 + math.log(scale) / math.log(original))
    use_long = max_model_len > original
    factors = np.asarray(long_factor if use_long else short_factor, dtype=np.float64)
    mscale = (long_mscale if use_long else short_mscale)
    inv = 1.0 / (factors * base ** (np.arange(0, d, 2, dtype=np.float64) / d))
    return inv, default if mscale is None else mscale


def llama_4_scaling(positions: np.ndarray, beta: float, original_max_position_embeddings: float) -> np.ndarray:
    """vLLM's Llama-4-style query scaling (vllm/model_executor/models/llama.py, ``_get_llama_4_scaling``):
    ``1 + beta * log(1 + floor(positions / original_max_position_embeddings))``."""
    return 1 + beta * np.log(1 + np.floor(positions / original_max_position_embeddings))


def deepseek_v4_rotate(x: np.ndarray, positions: np.ndarray, inv_freq: np.ndarray, mscale: float,
                       inverse: bool) -> np.ndarray:
    """``DeepseekV4ScalingRotaryEmbedding.forward_native`` (deepseek_scaling_rope.py): RoPE on the LAST
    ``rotary_dim`` channels of each head, GPT-J pairs (``is_neox_style=False``: ``repeat_interleave`` of
    cos/sin, ``rotate_gptj``), ``inverse`` negating sin. ``x`` (..., seq, head_size), positions (seq,)."""
    d = 2 * inv_freq.shape[0]
    freqs = positions[:, None].astype(np.float64) * inv_freq
    cos, sin = np.cos(freqs) * mscale, np.sin(freqs) * mscale
    sin = -sin if inverse else sin
    cos, sin = np.repeat(cos, 2, axis=-1), np.repeat(sin, 2, axis=-1)
    rot = x[..., -d:]
    rotated = np.stack([-rot[..., 1::2], rot[..., 0::2]], axis=-1).reshape(rot.shape)  # rotate_gptj
    return np.concatenate([x[..., :-d], rot * cos + rotated * sin], axis=-1)
