r"""YaRN and its relatives: NTK-by-parts, dynamic YaRN, and the YaRN magnitudes.

All three blend through the pair-index ramp of :mod:`refrope.frequencies.ramps`. The variant functions
take every parameter, checked by the registry (:func:`refrope.inv_freq`); call them through it. Each also takes
``xp``, the arithmetic it is evaluated in (:mod:`refrope.precision.namespaces`; float64 by default).

Spec: docs/spec/frequencies.md, clauses ``[F-YARN-*]``, ``[F-PARTS-*]``, ``[F-DYNYARN-*]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import check_real
from ..precision.namespaces import FAST
from .base import ntk_inv_freq, rope_inv_freq
from .params import real_at_least_one
from .ramps import correction_range, ramp_blend, ramp_weight_error

__all__ = [
    "get_mscale",
    "yarn",
    "yarn_magnitude",
    "deepseek_magnitude",
    "deepseek_softmax_factor",
    "ntk_by_parts",
    "dynamic_yarn",
    "yarn_blend_error",
    "ntk_by_parts_blend_error",
    "dynamic_yarn_blend_error",
]


def get_mscale(scale: float, mscale: float = 1.0) -> float:
    r"""YaRN's magnitude :math:`0.1\,\mu \ln s + 1` for :math:`s > 1`, else 1.

    Spec: [F-YARN-3]. Source: YaRN (arXiv:2309.00071) eq. (22); transformers/vLLM ``get_mscale``.

    >>> get_mscale(1.0), round(get_mscale(math.e), 12), round(get_mscale(math.e, 2.0), 12)
    (1.0, 1.1, 1.2)
    """
    if scale <= 1.0:
        return 1.0
    return 0.1 * mscale * math.log(scale) + 1.0


def _ordered(names: tuple[str, str], fast: float, slow: float) -> None:
    if fast <= slow:
        raise ValueError(f"{names[0]} must be greater than {names[1]}, got {names[0]}={fast} and {names[1]}={slow}")


def yarn_magnitude(factor: float, mscale: float | None, mscale_all_dim: float | None,
                   attention_factor: float | None) -> float:
    r"""YaRN's cos/sin magnitude: ``attention_factor`` if given (it replaces), else
    ``get_mscale(k, mscale) / get_mscale(k, mscale_all_dim)`` when both are non-zero, else :math:`0.1\ln k + 1`.

    Spec: [F-YARN-3]. Source: transformers ``_compute_yarn_parameters`` (5.24).

    >>> round(yarn_magnitude(4.0, None, None, None), 12), yarn_magnitude(4.0, 1.0, 1.0, None)
    (1.138629436112, 1.0)
    """
    if attention_factor is not None:
        return attention_factor
    if mscale and mscale_all_dim:
        return get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim)
    return get_mscale(factor)


def deepseek_magnitude(factor: float, mscale: float, mscale_all_dim: float, attn_factor: float) -> float:
    r"""vLLM's DeepSeek YaRN magnitude :math:`a\,\mathrm{get\_mscale}(k, \mu)/\mathrm{get\_mscale}(k, \mu_{all})`.

    Unlike :func:`yarn_magnitude`, a lone :math:`\mu` counts (:math:`\mu_{all} = 0` gives a denominator of 1),
    and ``attn_factor`` :math:`a` multiplies. With :math:`\mu = 1, \mu_{all} = 0` it is vLLM's older YaRN
    magnitude ``get_mscale(k) * attn_factor``; with :math:`\mu = 0` it is :math:`a` alone.
    Spec: [H-VLLM-2]. Source: vLLM 0.33 ``vllm/model_executor/layers/rotary_embedding/deepseek_scaling_rope.py``
    (``DeepseekScalingRotaryEmbedding``), ``yarn_scaling_rope.py`` (``apply_yarn_scaling``).

    >>> round(deepseek_magnitude(math.e, 0.5, 0.0, 1.0), 12), deepseek_magnitude(4.0, 0.0, 0.0, 2.0)
    (1.05, 2.0)
    """
    return get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim) * attn_factor


def yarn(rotary_dim: int, theta: float, *, factor: float, original_max_position_embeddings: float,
         beta_fast: float, beta_slow: float, mscale: float | None, mscale_all_dim: float | None,
         attention_factor: float | None, truncate: bool, xp: Any = FAST) -> tuple[Any, float]:
    r"""YaRN, with transformers 5.x semantics.

    .. math:: \omega'_i = \frac{\omega_i}{k} + e_i\Big(\omega_i - \frac{\omega_i}{k}\Big),\quad
              e_i = 1 - \mathrm{clip}\Big(\frac{i - \ell}{h - \ell}, 0, 1\Big)

    with :math:`(\ell, h)` from :func:`~refrope.frequencies.ramps.correction_range` (``beta_fast``,
    ``beta_slow``, :math:`L` = ``original_max_position_embeddings``, ``truncate``); the magnitude is
    :func:`~refrope.frequencies.yarn.yarn_magnitude`.
    Spec: [F-YARN-1], [F-YARN-2], [F-YARN-3]. Source: YaRN (arXiv:2309.00071);
    transformers ``_compute_yarn_parameters`` (5.24).

    >>> from refrope import inv_freq
    >>> f = inv_freq("yarn", 4, theta=10000.0, factor=4.0, original_max_position_embeddings=4096)
    >>> f.inv_freq, round(f.attention_factor, 12)
    (array([1.     , 0.00625]), 1.138629436112)
    """
    _ordered(("beta_fast", "beta_slow"), beta_fast, beta_slow)
    # real bounds (truncate=False) in at least two words: the keep-weight divides their rounding by h - i
    low, high = correction_range(beta_fast, beta_slow, rotary_dim, theta, original_max_position_embeddings, truncate,
                                 xp if truncate else xp.wide)
    omega = rope_inv_freq(rotary_dim, theta, xp)
    inv = ramp_blend(omega / factor, omega, low, high, xp=xp)
    return inv, yarn_magnitude(factor, mscale, mscale_all_dim, attention_factor)


def yarn_blend_error(rotary_dim: int, theta: float, params: Mapping[str, Any], u: float) -> np.ndarray:
    """:math:`\\delta e_i\\,\\omega_i` of :func:`yarn` (its one ramp) for [N-FREQ-1]."""
    low, high = correction_range(params["beta_fast"], params["beta_slow"], rotary_dim, theta,
                                 params["original_max_position_embeddings"], params["truncate"])
    return ramp_weight_error(low, high, rotary_dim // 2, u) * rope_inv_freq(rotary_dim, theta)


def deepseek_softmax_factor(factor: float, mscale_all_dim: float | None) -> float:
    r"""DeepSeek-V2/V3's extra logit factor :math:`\big(0.1\,\mu_{all}\ln k + 1\big)^2`.

    It multiplies the whole softmax scale (rope and nope parts), in addition to the
    cos/sin magnitude of :func:`yarn`; it is 1 when ``mscale_all_dim`` is 0 or None.
    With DeepSeek-V3's config (k = 40, mscale = mscale_all_dim = 1) the cos/sin
    magnitude is exactly 1 and this factor is about 1.874.
    Spec: [F-YARN-4]. Source: transformers ``yarn_get_mscale`` in ``modeling_deepseek_v3.py`` (5.24),
    vLLM ``deepseek_v2.py``.

    >>> round(deepseek_softmax_factor(40.0, 1.0), 6)
    1.873854
    """
    factor = real_at_least_one("factor", factor)
    if not mscale_all_dim:
        return 1.0
    return get_mscale(factor, check_real("mscale_all_dim", mscale_all_dim)) ** 2


def _parts_ranges(rotary_dim: int, theta: float, params: Mapping[str, Any]):
    _ordered(("beta_0", "beta_1"), params["beta_0"], params["beta_1"])
    _ordered(("gamma_0", "gamma_1"), params["gamma_0"], params["gamma_1"])
    length = params["original_max_position_embeddings"]
    return (correction_range(params["beta_0"], params["beta_1"], rotary_dim, theta, length),
            correction_range(params["gamma_0"], params["gamma_1"], rotary_dim, theta, length))


def ntk_by_parts(rotary_dim: int, theta: float, *, factor: float, original_max_position_embeddings: float,
                 ntk_factor: float, extrapolation_factor: float, beta_0: float, beta_1: float, gamma_0: float,
                 gamma_1: float, xp: Any = FAST) -> tuple[Any, float]:
    r"""The YaRN repository's "part NTK": linear, NTK-aware and original RoPE blended by two ramps.

    .. math::
        \omega^{(1)} &= \omega^{lin} + n_i(\omega^{ntk} - \omega^{lin}),\quad
            n_i = (1 - \gamma_i(\beta_0, \beta_1))\cdot\texttt{ntk\_factor} \\
        \omega'_i &= \omega^{(1)}_i + x_i(\omega_i - \omega^{(1)}_i),\quad
            x_i = (1 - \gamma_i(\gamma_0, \gamma_1))\cdot\texttt{extrapolation\_factor}

    where :math:`\omega^{lin} = \omega/k`, :math:`\omega^{ntk}` is ``ntk_aware`` with factor
    :math:`k`, and :math:`\gamma(\cdot,\cdot)` is the truncated ramp (rotation counts, :math:`L` =
    ``original_max_position_embeddings``). Magnitude 1. The paper's "NTK-by-parts" is :func:`yarn`
    with ``attention_factor=1``.
    Spec: [F-PARTS-1]. Source: jquesnelle/yarn ``LlamaPartNTKScaledRotaryEmbedding.py``
    (the repository calls ``original_max_position_embeddings`` ``max_position_embeddings`` and ``factor`` ``scale``).

    >>> from refrope import inv_freq
    >>> inv_freq("ntk_by_parts", 4, theta=10000.0, factor=1.0, original_max_position_embeddings=2048).inv_freq
    array([1.  , 0.01])
    """
    params = {"original_max_position_embeddings": original_max_position_embeddings, "beta_0": beta_0,
              "beta_1": beta_1, "gamma_0": gamma_0, "gamma_1": gamma_1}
    (low1, high1), (low2, high2) = _parts_ranges(rotary_dim, theta, params)
    omega = rope_inv_freq(rotary_dim, theta, xp)
    mixed = ramp_blend(omega / factor, ntk_inv_freq(rotary_dim, theta, factor, xp), low1, high1, ntk_factor, xp)
    return ramp_blend(mixed, omega, low2, high2, extrapolation_factor, xp), 1.0


def ntk_by_parts_blend_error(rotary_dim: int, theta: float, params: Mapping[str, Any], u: float) -> np.ndarray:
    """:math:`\\delta e_i\\,\\omega_i` of :func:`ntk_by_parts`: both ramps' weight errors, each weight times a
    difference of frequencies at most :math:`\\omega_i` ([N-FREQ-1])."""
    (low1, high1), (low2, high2) = _parts_ranges(rotary_dim, theta, params)
    n = rotary_dim // 2
    dw = (ramp_weight_error(low1, high1, n, u) * params["ntk_factor"]
          + ramp_weight_error(low2, high2, n, u) * params["extrapolation_factor"])
    return dw * rope_inv_freq(rotary_dim, theta)


def _dynamic_scale(params: Mapping[str, Any], xp: Any = FAST) -> Any:
    """``s`` of :func:`dynamic_yarn` (in ``xp``), or None below the length limit (plain RoPE)."""
    length = params["original_max_position_embeddings"]
    limit = length if params["max_position_embeddings"] is None else params["max_position_embeddings"]
    if limit < length:
        raise ValueError(f"max_position_embeddings must be >= original_max_position_embeddings={length}, "
                         f"got {limit}")
    _ordered(("beta_fast", "beta_slow"), params["beta_fast"], params["beta_slow"])
    if params["seq_len"] > limit:
        return xp.value(params["seq_len"]) / length
    return xp.value(limit) / length if params["finetuned"] else None


def dynamic_yarn(rotary_dim: int, theta: float, *, original_max_position_embeddings: float, seq_len: int,
                 max_position_embeddings: float | None, beta_fast: float, beta_slow: float,
                 extrapolation_factor: float, attn_factor: float, finetuned: bool,
                 xp: Any = FAST) -> tuple[Any, float]:
    r"""The YaRN repository's dynamic YaRN, made stateless.

    The repository rebuilds YaRN with :math:`s = \text{seq\_len}/L` once the length exceeds
    ``max_position_embeddings`` (default: :math:`L`); below that it uses plain RoPE, or
    YaRN at :math:`s = \texttt{max\_position\_embeddings}/L` when ``finetuned``.
    Here ``seq_len`` is the largest length seen so far, so

    .. math:: s = \begin{cases} \text{seq\_len}/L & \text{seq\_len} > M \\
                               M/L & \text{finetuned} \\ \text{(RoPE, magnitude 1)} & \text{otherwise}\end{cases}

    and :math:`\omega'_i = \omega_i/s + e_i(\omega_i - \omega_i/s)` with
    :math:`e_i = (1 - \gamma_i)\cdot\texttt{extrapolation\_factor}`; the magnitude is
    ``get_mscale(s) * attn_factor`` (``attn_factor`` multiplies, unlike transformers' ``attention_factor``).
    Spec: [F-DYNYARN-1]. Source: jquesnelle/yarn ``LlamaDynamicYaRNScaledRotaryEmbedding.py``.

    >>> from refrope import inv_freq
    >>> inv_freq("dynamic_yarn", 4, theta=10000.0, original_max_position_embeddings=8, seq_len=8).inv_freq
    array([1.  , 0.01])
    """
    params = {"original_max_position_embeddings": original_max_position_embeddings, "seq_len": seq_len,
              "max_position_embeddings": max_position_embeddings, "beta_fast": beta_fast, "beta_slow": beta_slow,
              "finetuned": finetuned}
    scale = _dynamic_scale(params, xp)
    low, high = correction_range(beta_fast, beta_slow, rotary_dim, theta, original_max_position_embeddings)
    omega = rope_inv_freq(rotary_dim, theta, xp)
    if scale is None:
        return omega, 1.0
    magnitude = get_mscale(float(xp.to_float(scale))) * attn_factor
    return ramp_blend(omega / scale, omega, low, high, extrapolation_factor, xp), magnitude


def dynamic_yarn_blend_error(rotary_dim: int, theta: float, params: Mapping[str, Any], u: float) -> np.ndarray:
    """:math:`\\delta e_i\\,\\omega_i` of :func:`dynamic_yarn` (0 while it is plain RoPE) ([N-FREQ-1])."""
    if _dynamic_scale(params) is None:
        return np.zeros(rotary_dim // 2)
    low, high = correction_range(params["beta_fast"], params["beta_slow"], rotary_dim, theta,
                                 params["original_max_position_embeddings"])
    return (ramp_weight_error(low, high, rotary_dim // 2, u) * params["extrapolation_factor"]
            * rope_inv_freq(rotary_dim, theta))
