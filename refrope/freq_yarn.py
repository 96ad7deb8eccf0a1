r"""YaRN and its relatives: NTK-by-parts ramps in the pair index.

Every implementation (YaRN repo, HF, vLLM, ggml) ramps **linearly in the pair
index** between two correction dimensions, not in the wavelength ratio the paper
writes (anchors §9 latent j); this module follows the code.

Spec: docs/spec/frequencies.md, clauses ``[F-YARN-*]``, ``[F-PARTS-*]``, ``[F-DYNYARN-*]``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._validation import check_bool, check_int, check_real
from .freq_base import blend, ntk_inv_freq, pair_index, rope_inv_freq
from .freq_ntk import check_factor

__all__ = [
    "get_mscale",
    "correction_dim",
    "correction_range",
    "linear_ramp",
    "yarn",
    "deepseek_softmax_factor",
    "ntk_by_parts",
    "dynamic_yarn",
]


def get_mscale(scale: float, mscale: float = 1.0) -> float:
    r"""YaRN's magnitude :math:`0.1\,\mu \ln s + 1` for :math:`s > 1`, else 1.

    Spec: [F-YARN-3]. Source: YaRN (arXiv:2309.00071) eq. (22); HF/vLLM ``get_mscale``.

    >>> get_mscale(1.0), round(get_mscale(math.e), 12), round(get_mscale(math.e, 2.0), 12)
    (1.0, 1.1, 1.2)
    """
    if scale <= 1.0:
        return 1.0
    return 0.1 * mscale * math.log(scale) + 1.0


def correction_dim(num_rotations: float, rotary_dim: int, theta: float, original_length: float) -> float:
    r"""The (real) pair index whose wavelength fits ``num_rotations`` times in ``original_length``.

    .. math:: c(r) = \frac{d\,\ln\!\big(L / (2\pi r)\big)}{2\ln\theta}

    Spec: [F-YARN-1]. Source: YaRN repo ``find_correction_dim``.

    >>> round(correction_dim(1.0, 128, 10000.0, 2 * math.pi * 10000.0), 12)
    64.0
    """
    return rotary_dim * math.log(original_length / (num_rotations * 2.0 * math.pi)) / (2.0 * math.log(theta))


def correction_range(
    fast: float, slow: float, rotary_dim: int, theta: float, original_length: float, truncate: bool = True
) -> tuple[float, float]:
    r"""Ramp bounds ``(low, high)`` in pair index for rotation counts ``fast > slow``.

    .. math:: \ell = \max(\lfloor c(\beta_{fast})\rfloor, 0),\quad
              h = \min(\lceil c(\beta_{slow})\rceil, d - 1)

    without the floor/ceil when ``truncate`` is false (HF ``truncate``, gpt-oss).
    The clamp is to :math:`d - 1`, as in every implementation, not :math:`d/2 - 1`.
    Spec: [F-YARN-1], [F-YARN-2]. Source: YaRN repo / HF ``find_correction_range``.

    >>> correction_range(32.0, 1.0, 64, 150000.0, 4096.0, truncate=False)  # doctest: +ELLIPSIS
    (8.0927..., 17.398...)
    """
    low = correction_dim(fast, rotary_dim, theta, original_length)
    high = correction_dim(slow, rotary_dim, theta, original_length)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    return max(low, 0), min(high, rotary_dim - 1)


def linear_ramp(low: float, high: float, n: int) -> np.ndarray:
    r"""The ramp :math:`\gamma_i = \mathrm{clip}\big((i - \ell)/(h - \ell), 0, 1\big)`, ``i = 0..n-1``.

    When :math:`\ell = h`, :math:`h` is moved to :math:`h + 0.001` (as every implementation does).
    Spec: [F-YARN-1].

    >>> linear_ramp(1, 3, 5)
    array([0. , 0. , 0.5, 1. , 1. ])
    """
    if low == high:
        high = high + 0.001
    return np.clip((np.arange(n, dtype=np.float64) - low) / (high - low), 0.0, 1.0)


def _ntk_by_parts_mix(
    rotary_dim: int, theta: float, factor: float, fast: float, slow: float, length: float, truncate: bool
) -> np.ndarray:
    """Interpolated frequencies below the ramp, original RoPE above it (the YaRN mix)."""
    low, high = correction_range(fast, slow, rotary_dim, theta, length, truncate)
    keep = 1.0 - linear_ramp(low, high, rotary_dim // 2)  # 1 = extrapolate (keep omega_i)
    omega = rope_inv_freq(rotary_dim, theta)
    return blend(omega / factor, omega, keep)


def _check_betas(fast: Any, slow: Any, names: tuple[str, str]) -> tuple[float, float]:
    fast = check_real(names[0], fast, minimum=0.0, strict_minimum=True)
    slow = check_real(names[1], slow, minimum=0.0, strict_minimum=True)
    if fast <= slow:
        raise ValueError(f"{names[0]} must be greater than {names[1]}, got {names[0]}={fast} and {names[1]}={slow}")
    return fast, slow


def _check_length(name: str, value: Any) -> float:
    return check_real(name, value, minimum=0.0, strict_minimum=True)


def yarn(
    rotary_dim: int,
    theta: float,
    *,
    factor: float,
    original_max_position_embeddings: float,
    beta_fast: float = 32.0,
    beta_slow: float = 1.0,
    mscale: float | None = None,
    mscale_all_dim: float | None = None,
    attention_factor: float | None = None,
    truncate: bool = True,
) -> tuple[np.ndarray, float]:
    r"""YaRN, with transformers 5.x semantics.

    .. math:: \omega'_i = \frac{\omega_i}{k} + e_i\Big(\omega_i - \frac{\omega_i}{k}\Big),\quad
              e_i = 1 - \mathrm{clip}\Big(\frac{i - \ell}{h - \ell}, 0, 1\Big)

    with :math:`(\ell, h)` from :func:`correction_range` (``beta_fast``, ``beta_slow``,
    :math:`L` = ``original_max_position_embeddings``, ``truncate``). The magnitude is
    ``attention_factor`` if given (it replaces), else
    ``get_mscale(k, mscale) / get_mscale(k, mscale_all_dim)`` when both are non-zero,
    else ``get_mscale(k)`` = :math:`0.1\ln k + 1`.
    Spec: [F-YARN-1], [F-YARN-2], [F-YARN-3]. Source: YaRN (arXiv:2309.00071);
    HF ``_compute_yarn_parameters`` (5.24).

    >>> inv, m = yarn(4, 10000.0, factor=4.0, original_max_position_embeddings=4096)
    >>> inv, round(m, 12)
    (array([1.     , 0.00625]), 1.138629436112)
    """
    factor = check_factor(factor)
    length = _check_length("original_max_position_embeddings", original_max_position_embeddings)
    beta_fast, beta_slow = _check_betas(beta_fast, beta_slow, ("beta_fast", "beta_slow"))
    truncate = check_bool("truncate", truncate)
    if theta <= 1.0:
        raise ValueError(f"theta must be > 1 for yarn (its correction range divides by ln theta), got {theta}")
    inv = _ntk_by_parts_mix(rotary_dim, theta, factor, beta_fast, beta_slow, length, truncate)
    if attention_factor is not None:
        return inv, check_real("attention_factor", attention_factor, minimum=0.0, strict_minimum=True)
    mscale = 0.0 if mscale is None else check_real("mscale", mscale)
    mscale_all_dim = 0.0 if mscale_all_dim is None else check_real("mscale_all_dim", mscale_all_dim)
    if mscale and mscale_all_dim:
        return inv, get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim)
    return inv, get_mscale(factor)


def deepseek_softmax_factor(factor: float, mscale_all_dim: float | None) -> float:
    r"""DeepSeek-V2/V3's extra logit factor :math:`\big(0.1\,\mu_{all}\ln k + 1\big)^2`.

    It multiplies the whole softmax scale (rope and nope parts), in addition to the
    cos/sin magnitude of :func:`yarn`; it is 1 when ``mscale_all_dim`` is 0 or None.
    With DeepSeek-V3's config (k = 40, mscale = mscale_all_dim = 1) the cos/sin
    magnitude is exactly 1 and this factor is about 1.874.
    Spec: [F-YARN-4]. Source: HF ``yarn_apply_mscale`` (DeepSeek-V3), vLLM ``deepseek_v2.py``.

    >>> round(deepseek_softmax_factor(40.0, 1.0), 6)
    1.873854
    """
    factor = check_factor(factor)
    if not mscale_all_dim:
        return 1.0
    return get_mscale(factor, check_real("mscale_all_dim", mscale_all_dim)) ** 2


def ntk_by_parts(
    rotary_dim: int,
    theta: float,
    *,
    factor: float,
    original_max_position_embeddings: float,
    ntk_factor: float = 1.0,
    extrapolation_factor: float = 1.0,
    beta_0: float = 1.25,
    beta_1: float = 0.75,
    gamma_0: float = 16.0,
    gamma_1: float = 2.0,
) -> tuple[np.ndarray, float]:
    r"""The YaRN repo's "part NTK": linear, NTK-aware and original RoPE blended by two ramps.

    .. math::
        \omega^{(1)} &= \omega^{lin} + n_i(\omega^{ntk} - \omega^{lin}),\quad
            n_i = (1 - \gamma_i(\beta_0, \beta_1))\cdot\texttt{ntk\_factor} \\
        \omega'_i &= \omega^{(1)}_i + x_i(\omega_i - \omega^{(1)}_i),\quad
            x_i = (1 - \gamma_i(\gamma_0, \gamma_1))\cdot\texttt{extrapolation\_factor}

    where :math:`\omega^{lin} = \omega/k`, :math:`\omega^{ntk}` is :func:`ntk_aware` with factor
    :math:`k`, and :math:`\gamma(\cdot,\cdot)` is the truncated ramp of :func:`correction_range`
    (rotation counts, :math:`L` = ``original_max_position_embeddings``). Magnitude 1.
    The paper's "NTK-by-parts" is :func:`yarn` with ``attention_factor=1``.
    Spec: [F-PARTS-1]. Source: jquesnelle/yarn ``LlamaPartNTKScaledRotaryEmbedding.py``
    (the repo calls ``original_max_position_embeddings`` ``max_position_embeddings`` and ``factor`` ``scale``).

    >>> inv, m = ntk_by_parts(4, 10000.0, factor=1.0, original_max_position_embeddings=2048)
    >>> inv, m
    (array([1.  , 0.01]), 1.0)
    """
    factor = check_factor(factor)
    length = _check_length("original_max_position_embeddings", original_max_position_embeddings)
    ntk_factor = check_real("ntk_factor", ntk_factor, minimum=0.0, maximum=1.0)
    extrapolation_factor = check_real("extrapolation_factor", extrapolation_factor, minimum=0.0, maximum=1.0)
    beta_0, beta_1 = _check_betas(beta_0, beta_1, ("beta_0", "beta_1"))
    gamma_0, gamma_1 = _check_betas(gamma_0, gamma_1, ("gamma_0", "gamma_1"))
    if theta <= 1.0:
        raise ValueError(f"theta must be > 1 for ntk_by_parts, got {theta}")
    n = rotary_dim // 2
    omega = rope_inv_freq(rotary_dim, theta)
    low, high = correction_range(beta_0, beta_1, rotary_dim, theta, length)
    mixed = blend(omega / factor, ntk_inv_freq(rotary_dim, theta, factor),
                  (1.0 - linear_ramp(low, high, n)) * ntk_factor)
    low, high = correction_range(gamma_0, gamma_1, rotary_dim, theta, length)
    return blend(mixed, omega, (1.0 - linear_ramp(low, high, n)) * extrapolation_factor), 1.0


def dynamic_yarn(
    rotary_dim: int,
    theta: float,
    *,
    original_max_position_embeddings: float,
    seq_len: int,
    max_position_embeddings: float | None = None,
    beta_fast: float = 32.0,
    beta_slow: float = 1.0,
    extrapolation_factor: float = 1.0,
    attn_factor: float = 1.0,
    finetuned: bool = False,
) -> tuple[np.ndarray, float]:
    r"""The YaRN repo's dynamic YaRN, made stateless.

    The repo rebuilds YaRN with :math:`s = \text{seq\_len}/L` once the length exceeds
    ``max_position_embeddings`` (default: :math:`L`); below that it uses plain RoPE, or
    YaRN at :math:`s = \texttt{max\_position\_embeddings}/L` when ``finetuned``.
    Here ``seq_len`` is the largest length seen so far, so

    .. math:: s = \begin{cases} \text{seq\_len}/L & \text{seq\_len} > M \\
                               M/L & \text{finetuned} \\ \text{(RoPE, magnitude 1)} & \text{otherwise}\end{cases}

    and :math:`\omega'_i = \omega_i/s + e_i(\omega_i - \omega_i/s)` with
    :math:`e_i = (1 - \gamma_i)\cdot\texttt{extrapolation\_factor}`; the magnitude is
    ``get_mscale(s) * attn_factor`` (``attn_factor`` multiplies, unlike HF's ``attention_factor``).
    Spec: [F-DYNYARN-1]. Source: jquesnelle/yarn ``LlamaDynamicYaRNScaledRotaryEmbedding.py``.

    >>> dynamic_yarn(4, 10000.0, original_max_position_embeddings=8, seq_len=8)
    (array([1.  , 0.01]), 1.0)
    """
    length = _check_length("original_max_position_embeddings", original_max_position_embeddings)
    limit = length if max_position_embeddings is None else _check_length(
        "max_position_embeddings", max_position_embeddings)
    if limit < length:
        raise ValueError(f"max_position_embeddings must be >= original_max_position_embeddings={length}, "
                         f"got {limit}")
    seq_len = check_int("seq_len", seq_len, minimum=0)
    beta_fast, beta_slow = _check_betas(beta_fast, beta_slow, ("beta_fast", "beta_slow"))
    extrapolation_factor = check_real("extrapolation_factor", extrapolation_factor, minimum=0.0, maximum=1.0)
    attn_factor = check_real("attn_factor", attn_factor, minimum=0.0, strict_minimum=True)
    finetuned = check_bool("finetuned", finetuned)
    if theta <= 1.0:
        raise ValueError(f"theta must be > 1 for dynamic_yarn, got {theta}")
    if seq_len > limit:
        scale = seq_len / length
    elif finetuned:
        scale = limit / length
    else:
        return rope_inv_freq(rotary_dim, theta), 1.0
    low, high = correction_range(beta_fast, beta_slow, rotary_dim, theta, length)
    keep = (1.0 - linear_ramp(low, high, rotary_dim // 2)) * extrapolation_factor
    omega = rope_inv_freq(rotary_dim, theta)
    return blend(omega / scale, omega, keep), get_mscale(scale) * attn_factor
