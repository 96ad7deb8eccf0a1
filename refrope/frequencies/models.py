r"""Model-family frequency schemes: Llama 3.1 (``llama3``), LongRoPE / Phi-3, Gemma4 ``proportional``.

Each variant function takes ``xp``, the arithmetic it is evaluated in (:mod:`refrope.precision.namespaces`;
float64 by default). Spec: docs/spec/frequencies.md, clauses ``[F-LLAMA3-*]``, ``[F-LONGROPE-*]``, ``[F-PROP-*]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import finite_real_array
from ..precision.namespaces import FAST
from .base import blend, pair_index, rope_inv_freq

__all__ = ["llama3", "llama3_smooth", "llama3_blend_error", "longrope", "longrope_attention_factor", "proportional"]


def llama3(
    rotary_dim: int,
    theta: float,
    *,
    factor: float,
    original_max_position_embeddings: float,
    low_freq_factor: float,
    high_freq_factor: float,
    xp: Any = FAST,
) -> tuple[Any, float]:
    r"""Llama 3.1 frequency scaling, by wavelength band.

    With :math:`\lambda_i = 2\pi/\omega_i`, :math:`L` = ``original_max_position_embeddings``,
    :math:`\lambda_{hi} = L/\texttt{high\_freq\_factor}` and :math:`\lambda_{lo} = L/\texttt{low\_freq\_factor}`:

    .. math:: \omega'_i = \begin{cases}
        \omega_i & \lambda_i < \lambda_{hi} \\
        \omega_i / k & \lambda_i > \lambda_{lo} \\
        \omega_i/k + s_i(\omega_i - \omega_i/k),\
            s_i = \dfrac{L/\lambda_i - \texttt{low}}{\texttt{high} - \texttt{low}} & \text{otherwise}
        \end{cases}

    continuous at both band edges (:math:`s = 1` at :math:`\lambda_{hi}`, :math:`s = 0` at
    :math:`\lambda_{lo}`). Magnitude 1.
    Spec: [F-LLAMA3-1]. Source: Meta Llama 3.1 reference code; HF ``_compute_llama3_parameters``.

    >>> inv, m = llama3(4, 10000.0, factor=8.0, original_max_position_embeddings=8192,
    ...                 low_freq_factor=1.0, high_freq_factor=4.0)
    >>> inv.tolist(), m
    ([1.0, 0.01], 1.0)
    """
    length, low, high = original_max_position_embeddings, low_freq_factor, high_freq_factor
    if high <= low:
        raise ValueError(
            f"high_freq_factor must be greater than low_freq_factor, got high_freq_factor={high} "
            f"and low_freq_factor={low}")
    omega = rope_inv_freq(rotary_dim, theta, xp)
    # the weight cancels near low_freq_factor, where it would multiply the rounding of a float64 omega by up to
    # k low / (high - low): it is computed from omega in (at least) two words and rounded once
    wide = xp.wide
    keep = llama3_smooth(omega if wide is xp else rope_inv_freq(rotary_dim, theta, wide), length, low, high, wide)
    return blend(omega / factor, omega, xp.narrow(keep), xp), 1.0


def llama3_smooth(omega: Any, length: float, low: float, high: float, xp: Any = FAST) -> Any:
    r"""Llama 3's keep weight per pair: 1 in the kept band, 0 in the divided band, and between them

    .. math:: s_i = \frac{L/\lambda_i - \texttt{low}}{\texttt{high} - \texttt{low}},\quad \lambda_i = 2\pi/\omega_i

    Spec: [F-LLAMA3-1]. Source: transformers ``_compute_llama3_parameters`` (5.24).

    >>> llama3_smooth(np.array([1.0, 2 * math.pi / 3000, 1e-4]), 8192.0, 1.0, 4.0).round(6).tolist()
    [1.0, 0.576889, 0.0]
    """
    length = xp.value(length)
    wavelen = 2.0 * xp.pi / omega
    smooth = xp.clip((length / wavelen - low) / (xp.value(high) - low), 0.0, 1.0)
    return xp.where(wavelen < length / high, 1.0, xp.where(wavelen > length / low, 0.0, smooth))


def llama3_blend_error(rotary_dim: int, theta: float, params: Mapping[str, Any], u: float) -> np.ndarray:
    r""":math:`\delta s_i\,\omega_i` of :func:`llama3` for [N-FREQ-1]: :math:`L/\lambda` carries
    :math:`(|\ln\omega| + 4)u`, so :math:`\delta s \le (h(|\ln\omega| + 5) + l)\,u/(h - l) + u` on the
    smoothed pairs (0 in the kept and divided bands).

    >>> p = {"original_max_position_embeddings": 8192, "low_freq_factor": 1.0, "high_freq_factor": 4.0}
    >>> (llama3_blend_error(4, 500000.0, p, 2.0**-24) > 0).tolist()  # pair 1: wavelength 4443 in [2048, 8192]
    [False, True]
    """
    low, high = float(params["low_freq_factor"]), float(params["high_freq_factor"])
    omega = rope_inv_freq(rotary_dim, theta)
    w = (float(params["original_max_position_embeddings"]) * omega / (2.0 * math.pi) - low) / (high - low)
    dw = (high * (np.abs(np.log(omega)) + 5.0) + low) * u / (high - low) + u
    return np.where((w > -1e-6) & (w < 1 + 1e-6), dw, 0.0) * omega


def longrope_attention_factor(factor: float, original_max_position_embeddings: float) -> float:
    r"""LongRoPE's default magnitude :math:`\sqrt{1 + \ln k / \ln L}` for :math:`k > 1`, else 1.

    Spec: [F-LONGROPE-2]. Source: Phi-3 / LongRoPE; HF ``_compute_longrope_parameters``.

    >>> longrope_attention_factor(1.0, 4096), round(longrope_attention_factor(32.0, 4096), 12)
    (1.0, 1.190238071424)
    """
    if factor <= 1.0:
        return 1.0
    return math.sqrt(1.0 + math.log(factor) / math.log(original_max_position_embeddings))


def _check_ext(name: str, values: Any, n: int) -> np.ndarray:
    ext = finite_real_array(name, values)
    if ext.ndim != 1 or ext.shape[0] != n:
        raise ValueError(f"{name} must be a list of rotary_dim // 2 = {n} numbers, got shape {ext.shape}")
    if np.any(ext <= 0):
        raise ValueError(f"{name} must be positive, got {ext.tolist()}")
    return ext


def longrope(
    rotary_dim: int,
    theta: float,
    *,
    short_factor: Any,
    long_factor: Any,
    original_max_position_embeddings: float,
    factor: float | None,
    attention_factor: float | None,
    seq_len: int | None,
    xp: Any = FAST,
) -> tuple[Any, float]:
    r"""LongRoPE (Phi-3 "su"): per-pair rescale factors, long ones past the original length.

    .. math:: \omega'_i = \frac{\theta^{-2i/d}}{e_i},\quad
              e = \begin{cases}\texttt{long\_factor} & \text{seq\_len} > L \\
                                \texttt{short\_factor} & \text{otherwise (and for seq\_len = None)}\end{cases}

    The boundary is exact: ``seq_len == L`` uses the short factors, ``L + 1`` the long ones.
    A per-call policy (transformers) passes the current length ``max(position_ids) + 1``; a fixed
    policy (vLLM) passes the maximum model length once. The magnitude is ``attention_factor`` if
    given, else :func:`longrope_attention_factor` of ``factor`` (vLLM: ``max_position / L``).
    Spec: [F-LONGROPE-1], [F-LONGROPE-2]. Source: LongRoPE (arXiv:2402.13753);
    HF ``_compute_longrope_parameters``; vLLM ``Phi3LongRoPEScaledRotaryEmbedding``.

    >>> inv, m = longrope(4, 100.0, short_factor=[1.0, 2.0], long_factor=[2.0, 4.0],
    ...                   original_max_position_embeddings=8, factor=1.0, attention_factor=None, seq_len=9)
    >>> inv.tolist(), m
    ([0.5, 0.025], 1.0)
    """
    n = rotary_dim // 2
    short = _check_ext("short_factor", short_factor, n)
    long_ = _check_ext("long_factor", long_factor, n)
    length = original_max_position_embeddings
    ext = long_ if seq_len is not None and seq_len > length else short
    if attention_factor is not None:
        magnitude = attention_factor
    elif factor is None:
        raise ValueError("longrope needs factor (e.g. max_position_embeddings / original_max_position_embeddings) "
                         "or attention_factor, got neither")
    else:
        magnitude = longrope_attention_factor(factor, length)
    return rope_inv_freq(rotary_dim, theta, xp) / ext, magnitude


def proportional(
    rotary_dim: int, theta: float, *, partial_rotary_factor: float, factor: float, xp: Any = FAST
) -> tuple[Any, float]:
    r"""Gemma4 "proportional" RoPE: the exponent runs over the **whole head**, trailing pairs get ω = 0.

    Here ``rotary_dim`` is the head dimension :math:`D` (the whole head is rotated in the
    ``"half"`` layout, pairs :math:`(i, i + D/2)`). With :math:`r = \lfloor \rho D / 2 \rfloor`
    (:math:`\rho` = ``partial_rotary_factor``):

    .. math:: \omega_i = \begin{cases}\theta^{-2i/D}/k & i < r \\ 0 & r \le i < D/2\end{cases}

    This is not a partial rotary: a partial rotary of dimension :math:`2r` would use the
    exponent :math:`2i/(2r)` and pairs :math:`(i, i + r)` (the bug of transformers PR #48652 and vLLM PR #41185).
    Spec: [F-PROP-1]. Source: HF ``_compute_proportional_rope_parameters``; vLLM ``Gemma4RotaryEmbedding``.

    >>> proportional(8, 10000.0, partial_rotary_factor=0.5, factor=1.0)
    (array([1. , 0.1, 0. , 0. ]), 1.0)
    """
    rotated = int(partial_rotary_factor * rotary_dim // 2)  # a discontinuous choice: made in float64 (as HF)
    omega = xp.where(pair_index(rotary_dim) < rotated, rope_inv_freq(rotary_dim, theta, xp), 0.0)
    return omega / factor, 1.0
