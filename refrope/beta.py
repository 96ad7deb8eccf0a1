r"""The β-base view of RoPE (Su Jianlin, kexue.fm/archives/9675 and 9706).

The RoPE angle of pair :math:`m = 1..d/2` at position :math:`n` is :math:`n/\beta^{m-1}`
with :math:`\beta = \theta^{2/d}`: the same quantity the :math:`m`-th digit of :math:`n`
in base :math:`\beta` is made of, :math:`\lfloor n/\beta^{m-1}\rfloor \bmod \beta`.
Digits here are **least significant first**, so digit ``m - 1`` belongs to pair ``m - 1``,
matching the frequency index.

Spec: docs/spec/beta.md, clauses ``[B-DIGITS-*]``, ``[B-RADICES-*]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_int, check_real, finite_real_array

__all__ = ["digits", "mixed_radix_digits", "from_digits", "radices", "RADIX_VARIANTS"]


def _nonnegative(n: Any) -> np.ndarray:
    arr = finite_real_array("n", n)
    if np.any(arr < 0):
        raise ValueError(f"n must be non-negative, got {arr.min()}")
    return arr


def _radix_list(radices_: Any, num_digits: int | None = None) -> np.ndarray:
    arr = finite_real_array("radices", radices_)
    if arr.ndim == 0:
        if num_digits is None:
            raise ValueError("radices must be a sequence when the number of digits is not given")
        arr = np.full(num_digits, float(arr))
    if arr.ndim != 1 or arr.shape[0] < 1:
        raise ValueError(f"radices must be a scalar or a non-empty 1-D sequence, got shape {arr.shape}")
    if np.any(arr <= 1.0):
        raise ValueError(f"radices must all be > 1, got {arr.tolist()}")
    return arr


def mixed_radix_digits(n: Any, radices: Any) -> np.ndarray:
    r"""Digits of :math:`n` in a mixed radix, least significant first (9706 eq. 7).

    .. math:: \mathrm{digit}_m = \Big\lfloor \frac{n}{\beta_1\cdots\beta_{m-1}} \Big\rfloor \bmod \beta_m

    ``n`` non-negative (any shape; real values allowed), ``radices`` :math:`\beta_1, \beta_2, \dots` all > 1.
    Returns float64 of shape ``n.shape + (len(radices),)``; exact for integers below :math:`2^{53}`.
    Spec: [B-DIGITS-2]. Source: kexue.fm/archives/9706 eq. (7).

    >>> mixed_radix_digits(100000, [60, 60, 24, 7])  # seconds: 40 s, 46 min, 3 h, 1 day
    array([40., 46.,  3.,  1.])
    """
    num = _nonnegative(n)
    rad = _radix_list(radices)
    place = np.concatenate([[1.0], np.cumprod(rad)[:-1]])
    return np.mod(np.floor(num[..., None] / place), rad)


def digits(n: Any, base: float, num_digits: int) -> np.ndarray:
    r"""The first ``num_digits`` digits of :math:`n` in base :math:`\beta`, least significant first.

    .. math:: \mathrm{digit}_m = \lfloor n / \beta^{m-1} \rfloor \bmod \beta,\quad m = 1..\texttt{num\_digits}

    :math:`\beta > 1` may be real (RoPE's :math:`\beta = \theta^{2/d}` is). Spec: [B-DIGITS-1].
    Source: kexue.fm/archives/9675 eq. (1).

    >>> digits(759, 10, 3)
    array([9., 5., 7.])
    >>> digits(1749, 16, 3)
    array([ 5., 13.,  6.])
    """
    base = check_real("base", base, minimum=1.0, strict_minimum=True)
    num_digits = check_int("num_digits", num_digits, minimum=1)
    return mixed_radix_digits(n, np.full(num_digits, base))


def from_digits(digits_: Any, radices: Any) -> np.ndarray:
    r"""The number whose mixed-radix digits (least significant first) are ``digits_``.

    .. math:: n = \sum_m \mathrm{digit}_m \prod_{i<m}\beta_i

    ``radices`` is a scalar base or one radix per digit (last axis of ``digits_``).
    Spec: [B-DIGITS-3]. Source: kexue.fm/archives/9675, 9706.

    >>> from_digits([5, 13, 6], 16)
    array(1749.)
    >>> from_digits([40, 46, 3, 1], [60, 60, 24, 7])
    array(100000.)
    """
    dig = finite_real_array("digits", digits_)
    if dig.ndim < 1 or dig.shape[-1] < 1:
        raise ValueError(f"digits must have a last axis of at least one digit, got shape {dig.shape}")
    rad = _radix_list(radices, dig.shape[-1])
    if rad.shape[0] != dig.shape[-1]:
        raise ValueError(f"radices has {rad.shape[0]} entries but digits has {dig.shape[-1]} digits")
    place = np.concatenate([[1.0], np.cumprod(rad)[:-1]])
    return np.asarray(np.sum(dig * place, axis=-1))


def _radix_variants() -> tuple[str, ...]:
    from .frequencies.registry import VARIANTS

    return tuple(name for name, v in VARIANTS.items() if v.radices is not None)


RADIX_VARIANTS = _radix_variants()
"""The variants with a β-base radix view (those whose registry entry has ``radices``): the NTK family."""


def radices(variant: str, rotary_dim: int, **params: Any) -> np.ndarray:
    r"""Per-pair radix factors :math:`\lambda_m` of the NTK family (9706 eq. 9 to 13).

    Every variant here has :math:`\omega_m = \beta^{-(m-1)} / (\lambda_1\cdots\lambda_m)`:

    ============  =========================================================  ==================
    variant       :math:`\lambda_m`                                          :math:`\prod\lambda`
    ============  =========================================================  ==================
    default       1                                                          1
    linear        :math:`k` for :math:`m = 1`, then 1 (PI is b = 0)           k
    ntk_aware     1 for :math:`m = 1`, then :math:`k^{2/(d-2)}`               k
    ntk_base      1 for :math:`m = 1`, then :math:`k^{2/d}`                   :math:`k^{1-2/d}`
    ntk_fixed     :math:`k^{2/d}`                                             k
    ntk_mixed     :math:`e^{a(m^b - (m-1)^b)}`, :math:`a = \ln k/(d/2)^b`     k
    mixed_radix   the given ``radices``                                      their product
    ============  =========================================================  ==================

    ``params`` are the variant's (``factor``, ``b``, ``radices``), checked and defaulted as by
    :func:`refrope.inv_freq`; ``theta`` is not needed. Returns float64 of shape ``(rotary_dim // 2,)``.
    Spec: [B-RADICES-1]. Source: kexue.fm/archives/9706.

    >>> radices("ntk_fixed", 4, factor=4.0)
    array([2., 2.])
    >>> radices("linear", 6, factor=8.0)
    array([8., 1., 1.])
    """
    from .frequencies.registry import VARIANTS

    if variant not in RADIX_VARIANTS:
        raise ValueError(f"variant must be one of {RADIX_VARIANTS} (the NTK family), got {variant!r}")
    rotary_dim = check_int("rotary_dim", rotary_dim, minimum=2, even=True)
    return np.asarray(VARIANTS[variant].radices(rotary_dim, **VARIANTS[variant].checked(params)), dtype=np.float64)
