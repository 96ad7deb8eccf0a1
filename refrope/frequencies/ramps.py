r"""YaRN's pair-index ramp: the correction range, the ramp, its keep-weight, the blend it drives, and the blend
weight's error.

Every implementation (the YaRN repository, transformers, vLLM, ggml) ramps **linearly in the pair
index** between two correction dimensions, not in the wavelength ratio :math:`r` of the paper's
eq. (18); this module follows the code. ``yarn``, ``ntk_by_parts`` and ``dynamic_yarn`` all blend
through :func:`ramp_blend`, whose keep-weight :func:`keep_weight` is computed directly (not as
:math:`1 - \gamma`, which loses the relative accuracy of a small weight), and the budget of [N-FREQ-1] takes
the error of a backend's blend weight from :func:`ramp_weight_error`.

Spec: docs/spec/frequencies.md [F-YARN-1], [F-YARN-2]; docs/spec/numerics.md [N-FREQ-1].
Source: YaRN (arXiv:2309.00071) §3.2; jquesnelle/yarn ``scaled_rope/LlamaYaRNScaledRotaryEmbedding.py``
(``find_correction_dim``, ``find_correction_range``, ``linear_ramp_mask``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..precision.namespaces import FAST
from .base import blend

__all__ = ["correction_dim", "correction_range", "ramp_bounds", "linear_ramp", "keep_weight", "ramp_blend",
           "ramp_weight_error"]


def correction_dim(num_rotations: float, rotary_dim: int, theta: float, original_length: float,
                   xp: Any = FAST) -> Any:
    r"""The (real) pair index whose wavelength fits ``num_rotations`` times in ``original_length``.

    .. math:: c(r) = \frac{d\,\ln\!\big(L / (2\pi r)\big)}{2\ln\theta}

    Spec: [F-YARN-1]. Source: YaRN repository ``find_correction_dim``.

    >>> round(correction_dim(1.0, 128, 10000.0, 2 * math.pi * 10000.0), 12)
    64.0
    """
    ratio = xp.value(original_length) / (xp.value(num_rotations) * 2.0 * xp.pi)
    return rotary_dim * xp.log(ratio) / (2.0 * xp.log(theta))


def correction_range(
    fast: float, slow: float, rotary_dim: int, theta: float, original_length: float, truncate: bool = True,
    xp: Any = FAST,
) -> tuple[Any, Any]:
    r"""Ramp bounds ``(low, high)`` in pair index for rotation counts ``fast > slow``.

    .. math:: \ell = \max(\lfloor c(\beta_{fast})\rfloor, 0),\quad
              h = \min(\lceil c(\beta_{slow})\rceil, d - 1)

    without the floor/ceil when ``truncate`` is false (transformers' ``truncate``, gpt-oss). The floor and the
    ceiling are taken of the float64 values in every arithmetic (a discontinuous choice, made as every
    implementation makes it); without them the bounds are evaluated in ``xp``.
    The clamp is to :math:`d - 1`, as in every implementation, not :math:`d/2 - 1`. :math:`c` divides by
    :math:`\ln\theta`, so ``theta`` must be > 1 (``ValueError`` otherwise).
    Spec: [F-YARN-1], [F-YARN-2]. Source: YaRN repository / transformers ``find_correction_range``.

    >>> correction_range(32.0, 1.0, 64, 150000.0, 4096.0, truncate=False)  # doctest: +ELLIPSIS
    (8.0927..., 17.398...)
    """
    if theta <= 1.0:
        raise ValueError(f"theta must be > 1 for a YaRN ramp (its correction range divides by ln theta), got {theta}")
    if truncate:
        low = math.floor(correction_dim(fast, rotary_dim, theta, original_length))
        high = math.ceil(correction_dim(slow, rotary_dim, theta, original_length))
        return max(low, 0), min(high, rotary_dim - 1)
    low = correction_dim(fast, rotary_dim, theta, original_length, xp)
    high = correction_dim(slow, rotary_dim, theta, original_length, xp)
    return xp.maximum(low, 0), xp.minimum(high, rotary_dim - 1)


def ramp_bounds(low: Any, high: Any, xp: Any = FAST) -> tuple[Any, Any]:
    """The bounds the ramp divides by: ``high`` moved to ``high + 0.001`` when ``low == high`` (as every
    implementation does, so the ramp is a step there; 0.001 is the float64 constant).

    >>> ramp_bounds(3, 3)
    (3, 3.001)
    """
    return (low, xp.value(high) + 0.001) if bool(low == high) else (low, high)


def linear_ramp(low: float, high: float, n: int) -> np.ndarray:
    r"""The ramp :math:`\gamma_i = \mathrm{clip}\big((i - \ell)/(h - \ell), 0, 1\big)`, ``i = 0..n-1``
    (with :func:`ramp_bounds`). Spec: [F-YARN-1].

    >>> linear_ramp(1, 3, 5)
    array([0. , 0. , 0.5, 1. , 1. ])
    """
    low, high = ramp_bounds(low, high)
    return np.clip((np.arange(n, dtype=np.float64) - low) / (high - low), 0.0, 1.0)


def keep_weight(low: Any, high: Any, n: int, xp: Any = FAST) -> Any:
    r"""The keep-weight :math:`e_i = 1 - \gamma_i = \mathrm{clip}\big((h - i)/(h - \ell), 0, 1\big)`,
    ``i = 0..n-1`` (with :func:`ramp_bounds`), computed directly: a small weight keeps its relative accuracy
    (as :math:`1 - \gamma_i` it would carry an absolute error of :math:`u`, which the blend multiplies by up to
    :math:`k`; docs/spec/numerics.md [N-FAST-1]). Bounds given in a wider arithmetic (``xp.wide``) are used as
    they are and the weight rounded once. Spec: [F-YARN-1].

    >>> keep_weight(1, 3, 5)
    array([1. , 1. , 0.5, 0. , 0. ])
    """
    low, high = ramp_bounds(low, high, xp)
    high = xp.value(high)
    return xp.clip(xp.narrow((high - np.arange(n, dtype=np.float64)) / (high - low)), 0.0, 1.0)


def ramp_blend(scaled: Any, omega: Any, low: Any, high: Any, weight: float = 1.0, xp: Any = FAST) -> Any:
    r"""The YaRN blend: :math:`\omega'_i = s_i + e_i(\omega_i - s_i)`, with the keep-weight
    :math:`e_i = (1 - \gamma_i)\cdot w` of :func:`keep_weight`.

    :math:`s` = ``scaled`` (the interpolated frequencies) below the ramp, ``omega`` (kept) above it;
    :math:`w` = ``weight`` (``extrapolation_factor``, ``ntk_factor``; 1 in YaRN). Spec: [F-YARN-1].

    >>> ramp_blend(np.array([0.5, 0.5, 0.5]), np.array([1.0, 1.0, 1.0]), 0, 2)
    array([1.  , 0.75, 0.5 ])
    """
    keep = keep_weight(low, high, omega.shape[0], xp) * weight
    return blend(scaled, omega, keep, xp)


def ramp_weight_error(low: float, high: float, n: int, u: float) -> np.ndarray:
    r"""Bound on the error of the keep weight :math:`e_i = 1 - (i - \ell)/(h - \ell)` computed with unit
    roundoff :math:`u` from float64 bounds, on the ramped pairs (0 where the weight is clipped):

    .. math:: \delta e_i \le \frac{2u\,(i + |\ell|)}{h - \ell} + 2u

    (the subtraction :math:`i - \ell`, the division, the subtraction from 1). Spec: [N-FREQ-1].

    >>> (ramp_weight_error(0, 2, 4, 2.0**-24) / 2.0**-24).tolist()
    [2.0, 3.0, 4.0, 0.0]
    """
    low, high = ramp_bounds(low, high)
    i = np.arange(n, dtype=np.float64)
    w = (i - low) / (high - low)
    dw = 2 * u * (i + abs(low)) / (high - low) + 2 * u
    return np.where((w > -1e-6) & (w < 1 + 1e-6), dw, 0.0)
