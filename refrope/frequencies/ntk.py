r"""Position interpolation and the NTK family, in the β-base view of Su Jianlin.

With :math:`\beta = \theta^{2/d}` and pair :math:`m = i + 1` the RoPE angle is
:math:`n / \beta^{m-1}` (kexue.fm/archives/9675). Every variant here divides it
by a cumulative product of per-pair radix factors :math:`\lambda_m`
(:func:`refrope.beta.radices` gives them). Each variant function takes ``xp``, the arithmetic it is
evaluated in (:mod:`refrope.precision.namespaces`; float64 by default).

Spec: docs/spec/frequencies.md, clauses ``[F-LINEAR-*]``, ``[F-NTKAWARE-*]``, ``[F-NTKBASE-*]``,
``[F-NTKFIXED-*]``, ``[F-NTKMIXED-*]``, ``[F-MIXEDRADIX-*]``, ``[F-DYN-*]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import finite_real_array
from ..precision.namespaces import FAST
from .base import ntk_inv_freq, pair_index, rope_inv_freq
from .params import real_at_least_one

__all__ = [
    "default",
    "linear",
    "ntk_aware",
    "ntk_base",
    "ntk_fixed",
    "ntk_mixed",
    "ntk_mixed_a",
    "mixed_radix",
    "check_radices",
    "dynamic_ntk",
    "RADICES",
]


def default(rotary_dim: int, theta: float, *, xp: Any = FAST) -> tuple[Any, float]:
    r"""Original RoPE: :math:`\omega_i = \theta^{-2i/d}`, magnitude 1.

    Spec: [F-DEFAULT-1]. Source: RoFormer (arXiv:2104.09864), kexue.fm/archives/8265.

    >>> default(4, 100.0)
    (array([1. , 0.1]), 1.0)
    """
    return rope_inv_freq(rotary_dim, theta, xp), 1.0


def linear(rotary_dim: int, theta: float, *, factor: float, xp: Any = FAST) -> tuple[Any, float]:
    r"""Position interpolation: :math:`\omega_i = \theta^{-2i/d} / k` (positions divided by k).

    Spec: [F-LINEAR-1]. Source: Chen et al., arXiv:2306.15595; kaiokendev (SuperHOT);
    HF ``_compute_linear_scaling_rope_parameters``.

    >>> linear(4, 100.0, factor=4.0)
    (array([0.25 , 0.025]), 1.0)
    """
    return rope_inv_freq(rotary_dim, theta, xp) / factor, 1.0


def ntk_aware(rotary_dim: int, theta: float, *, factor: float, xp: Any = FAST) -> tuple[Any, float]:
    r"""NTK-aware scaled RoPE (bloc97): base :math:`\theta' = \theta\,k^{d/(d-2)}`.

    .. math:: \omega_i = \theta^{-2i/d}\,k^{-2i/(d-2)}

    so :math:`\omega_0 = 1` and the lowest frequency equals PI's exactly ([F-NTKAWARE-2]).
    Spec: [F-NTKAWARE-1]. Source: bloc97 (reddit r/LocalLLaMA, 2023); kexue.fm/archives/9675 §6.3.

    >>> ntk_aware(4, 100.0, factor=4.0)
    (array([1.   , 0.025]), 1.0)
    """
    return ntk_inv_freq(rotary_dim, theta, factor, xp), 1.0


def ntk_base(rotary_dim: int, theta: float, *, factor: float, xp: Any = FAST) -> tuple[Any, float]:
    r"""Su's base conversion, "NTK-RoPE-old": base :math:`\theta' = \theta k`.

    .. math:: \omega_m = (\beta\lambda)^{-(m-1)},\quad \lambda = k^{2/d}
              \iff \omega_i = (\theta k)^{-2i/d}

    Spec: [F-NTKBASE-1]. Source: kexue.fm/archives/9675 §6.2; 9706 eq. (4).

    >>> ntk_base(4, 25.0, factor=4.0)
    (array([1. , 0.1]), 1.0)
    """
    return rope_inv_freq(rotary_dim, xp.value(theta) * factor, xp), 1.0


def ntk_fixed(rotary_dim: int, theta: float, *, factor: float, xp: Any = FAST) -> tuple[Any, float]:
    r"""NTK-RoPE-fixed: one extra :math:`\lambda` so the period grows too (9706 eq. 6).

    .. math:: \omega_m = \frac{1}{\lambda(\beta\lambda)^{m-1}} = \beta^{-(m-1)}\lambda^{-m},
              \quad \lambda = k^{2/d},\ m = i + 1

    Spec: [F-NTKFIXED-1]. Source: kexue.fm/archives/9706 eq. (6); vLLM ``ntk`` (fixed).

    >>> ntk_fixed(4, 100.0, factor=4.0)
    (array([0.5  , 0.025]), 1.0)
    """
    m = pair_index(rotary_dim) + 1.0
    return rope_inv_freq(rotary_dim, theta, xp) * xp.rational_power(factor, -2.0 * m, rotary_dim), 1.0


def ntk_mixed_a(rotary_dim: int, factor: float, b: float, xp: Any = FAST) -> Any:
    r"""The NTK-mixed coefficient :math:`a = \ln k / (d/2)^b` (9706 eq. 13).

    Golden value (kexue.fm/archives/9706, eq. 13 with the article's d = 128, k = 8, b = 0.625): a = 0.1545554.

    >>> round(ntk_mixed_a(128, 8.0, 0.625), 7)
    0.1545554
    """
    return xp.log(factor) / xp.power(rotary_dim / 2, b)


def ntk_mixed(rotary_dim: int, theta: float, *, factor: float, b: float, xp: Any = FAST) -> tuple[Any, float]:
    r"""NTK-RoPE-mixed: radices :math:`\lambda_1 \cdots \lambda_m = e^{a m^b}` (9706 eq. 10 to 13).

    .. math:: \omega_m = \beta^{-(m-1)}\,e^{-a m^b},\quad a = \frac{\ln k}{(d/2)^b},\ m = 1..d/2

    ``b = 1`` is :func:`ntk_fixed`, ``b = 0`` is :func:`linear`; ``0 <= b <= 1`` keeps the radices
    non-increasing and at least 1. bojone/rerope ``ntk_patch.py`` uses ``factor=12, b=0.75``.
    It is evaluated as :math:`e^{-a m^b} = k^{-(2m/d)^b}` (the same number): one power, whose logarithm of
    :math:`k` is internal to ``pow``, instead of the rounded :math:`a` and :math:`m^b` whose relative error
    :math:`e^{-x}` multiplies by :math:`x \le \ln k` ([N-FAST-1]).
    Spec: [F-NTKMIXED-1]. Source: kexue.fm/archives/9706; bojone/rerope ``ntk_patch.py``.

    >>> ntk_mixed(2, 10000.0, factor=4.0, b=0.5)
    (array([0.25]), 1.0)
    """
    share = xp.value(pair_index(rotary_dim) + 1.0) / (rotary_dim / 2)  # m / (d/2)
    return rope_inv_freq(rotary_dim, theta, xp) * xp.power(factor, -xp.power(share, b)), 1.0


def check_radices(radices: Any, rotary_dim: int, factor: float | None = None) -> np.ndarray:
    r"""Validate an explicit radix list :math:`\lambda_1 \ge \lambda_2 \ge \dots \ge \lambda_{d/2} \ge 1`.

    Its product is the extension factor :math:`k`; when ``factor`` is given it must
    match the product to a relative 1e-12 (9706 eq. 11). Spec: [F-MIXEDRADIX-1].

    >>> check_radices([2.0, 1.5], 4, factor=3.0)
    array([2. , 1.5])
    """
    lam = finite_real_array("radices", radices)
    if lam.ndim != 1 or lam.shape[0] != rotary_dim // 2:
        raise ValueError(f"radices must have length rotary_dim // 2 = {rotary_dim // 2}, got shape {lam.shape}")
    if np.any(lam < 1.0):
        raise ValueError(f"radices must all be >= 1, got {lam.tolist()}")
    if np.any(np.diff(lam) > 0):
        raise ValueError(f"radices must be non-increasing, got {lam.tolist()}")
    if factor is not None:
        factor = real_at_least_one("factor", factor)
        product = float(np.prod(lam))
        if abs(product - factor) > 1e-12 * factor:
            raise ValueError(f"radices must multiply to factor={factor}, their product is {product}")
    return lam


def mixed_radix(
    rotary_dim: int, theta: float, *, radices: Any, factor: float | None, xp: Any = FAST
) -> tuple[Any, float]:
    r"""General mixed-radix RoPE from an explicit radix list (9706 eq. 10, 11).

    .. math:: \omega_m = \frac{\beta^{-(m-1)}}{\lambda_1\lambda_2\cdots\lambda_m}

    The prefix products are accumulated in double-double even in float64 (``xp.cumprod``), so the error does
    not grow with :math:`m` ([N-FAST-1]). Spec: [F-MIXEDRADIX-1]. Source: kexue.fm/archives/9706 eq. (10)-(11).

    >>> mixed_radix(4, 100.0, radices=[2.0, 1.5], factor=None)
    (array([0.5       , 0.03333333]), 1.0)
    """
    lam = check_radices(radices, rotary_dim, factor)
    return rope_inv_freq(rotary_dim, theta, xp) / xp.cumprod(lam), 1.0


def dynamic_ntk(
    rotary_dim: int,
    theta: float,
    *,
    factor: float,
    original_max_position_embeddings: float,
    seq_len: int,
    xp: Any = FAST,
) -> tuple[Any, float]:
    r"""Dynamic NTK (HF ``dynamic``): the NTK base chosen from the current length.

    .. math:: s = \max(\text{seq\_len}, L),\quad
              \alpha = \frac{k\,s}{L} - (k - 1),\quad
              \theta' = \theta\,\alpha^{d/(d-2)}

    with :math:`L` = ``original_max_position_embeddings`` (HF reads
    ``config.max_position_embeddings``). Stateless: the caller passes ``seq_len``
    (HF uses ``max(position_ids) + 1``); at ``seq_len <= L`` it is ``default``.
    Spec: [F-DYN-1]. Source: emozilla, bloc97; HF ``_compute_dynamic_ntk_parameters``.

    >>> dynamic_ntk(4, 100.0, factor=2.0, original_max_position_embeddings=8, seq_len=8)
    (array([1. , 0.1]), 1.0)
    """
    # alpha = k s/L - (k - 1) = 1 + k (s - L)/L: the second form has no cancellation (a relative error of a few u
    # where the first loses up to k s/L units), and it is exactly 1 for seq_len <= L, written so
    length = original_max_position_embeddings
    alpha = 1.0 if seq_len <= length else 1.0 + factor * (xp.value(seq_len) - length) / length
    return ntk_inv_freq(rotary_dim, theta, alpha, xp), 1.0


# --- the beta-base radices lambda_m of each variant of the family (kexue.fm/archives/9706 eq. 9-13) ----------

def _first(rotary_dim: int) -> np.ndarray:
    return np.arange(rotary_dim // 2) == 0


def _mixed_radices(rotary_dim: int, *, factor: float, b: float) -> np.ndarray:
    # log of the cumulative products lambda_1...lambda_m = a m^b, with the empty product (m = 0) equal to 1:
    # differencing it (rather than writing (m - 1)^b) keeps lambda_1 = e^a at b = 0, where 0^0 would give 1.
    m = np.arange(1, rotary_dim // 2 + 1, dtype=np.float64)
    return np.exp(np.diff(np.concatenate([[0.0], ntk_mixed_a(rotary_dim, factor, b) * m**b])))


RADICES = {
    "default": lambda d: np.ones(d // 2),
    "linear": lambda d, *, factor: np.where(_first(d), factor, 1.0),
    "ntk_aware": lambda d, *, factor: np.where(_first(d), 1.0, factor ** (2.0 / max(d - 2, 1))),
    "ntk_base": lambda d, *, factor: np.where(_first(d), 1.0, factor ** (2.0 / d)),
    "ntk_fixed": lambda d, *, factor: np.full(d // 2, factor ** (2.0 / d)),
    "ntk_mixed": _mixed_radices,
    "mixed_radix": lambda d, *, radices, factor: check_radices(radices, d, factor),
}
"""Per variant, ``radices(rotary_dim, **params) -> lambda`` (the registry's :attr:`Variant.radices`)."""
