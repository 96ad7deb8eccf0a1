r"""Elementary functions of :class:`~refrope.precision.multi.Multi` values: :math:`\pi`, ``exp``, ``log``,
powers with a real or a rational exponent, and prefix products.

Each keeps the relative accuracy of its words up to a few bits: ``exp`` reduces by :math:`\ln 2` and by
:math:`2^{8}`, sums a Taylor series and squares back (eight squarings cost eight bits); ``log`` refines the
float64 logarithm by Newton's iteration :math:`y \leftarrow y + x e^{-y} - 1`, which doubles the number of
correct bits per step. Speed is not the point here (these run on the :math:`d/2` frequencies, once per call).

Spec: docs/spec/precision.md [P-EXACT-1]. Source: Muller et al., *Handbook of Floating-Point Arithmetic*
(2018) §14 (multiple-word arithmetic); J.-M. Muller, *Elementary Functions* (3rd ed., 2016), ch. 11 (range
reduction) and §5.3 (Newton's iteration); the constants' words are checked against mpmath in the tests.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from .multi import Multi, where

__all__ = ["pi", "ln2", "exp", "log", "power", "rational_power", "cumprod", "cos_sin_small", "PI_WORDS",
           "LN2_WORDS"]

PI_WORDS = (float.fromhex("0x1.921fb54442d18p+1"), float.fromhex("0x1.1a62633145c07p-53"),
            float.fromhex("-0x1.f1976b7ed8fbcp-109"), float.fromhex("0x1.4cf98e804177dp-163"))
""":math:`\\pi` as four float64 words (212 bits)."""
LN2_WORDS = (float.fromhex("0x1.62e42fefa39efp-1"), float.fromhex("0x1.abc9e3b39803fp-56"),
             float.fromhex("0x1.7b57a079a1934p-111"), float.fromhex("-0x1.ace93a4ebe5d1p-165"))
""":math:`\\ln 2` as four float64 words."""

_SQUARINGS = 8


def pi(n: int) -> Multi:
    """:math:`\\pi` to ``n`` words (``n <= 3``; the fourth word is dropped by rounding).

    >>> float(pi(3).words[1]) == PI_WORDS[1]
    True
    """
    return Multi.of(Multi(PI_WORDS), n)


def ln2(n: int) -> Multi:
    """:math:`\\ln 2` to ``n`` words."""
    return Multi.of(Multi(LN2_WORDS), n)


@cache
def _taylor(n: int, terms: int | None = None) -> tuple:
    """``1/j!`` for ``j = 0..terms`` as ``n``-word constants (by default enough for :math:`|r| \\le \\ln 2/2^{9}`)."""
    terms = terms or {2: 9, 3: 14}.get(n, 6 * n)
    coefficients, c = [], Multi.of(1.0, n)
    for j in range(terms + 1):
        if j:
            c = c / float(j)
        coefficients.append(c)
    return tuple(coefficients)


def exp(x: Any, n: int | None = None) -> Multi:
    r""":math:`e^x` to ``n`` words (``x``'s word count by default).

    :math:`x = k\ln 2 + r`, :math:`e^x = 2^k (e^{r/2^8})^{2^8}`; the Taylor polynomial of :math:`e^{r/2^8}`
    is summed by Horner's rule in ``n`` words.

    >>> float(exp(Multi.of(1.0, 3)).to_float()) == float.fromhex("0x1.5bf0a8b145769p+1")
    True
    """
    x = Multi.of(x, n or (x.n if isinstance(x, Multi) else 2))
    n = x.n
    k = np.rint(x.words[0] / LN2_WORDS[0])
    r = (x - ln2(n) * k).ldexp(-_SQUARINGS)
    coefficients = _taylor(n)
    total = coefficients[-1]
    for c in coefficients[-2::-1]:
        total = total * r + c
    for _ in range(_SQUARINGS):
        total = total * total
    return total.ldexp(k.astype(np.int64))


def log(x: Any, n: int | None = None) -> Multi:
    r""":math:`\ln x` for :math:`x > 0`, to ``n`` words: Newton's iteration on :math:`e^y = x` from the
    float64 logarithm.

    >>> float(log(Multi.of(2.0, 3)).words[1]) == LN2_WORDS[1]
    True
    """
    x = Multi.of(x, n or (x.n if isinstance(x, Multi) else 2))
    y = Multi.of(np.log(x.words[0]), x.n)
    for _ in range(2):  # 2^-52 -> 2^-105 -> 2^-210 (quadratic convergence)
        y = y + (x * exp(-y) - 1.0)
    return y


def power(base: Any, exponent: Any, n: int) -> Multi:
    r""":math:`b^e = e^{e \ln b}` for :math:`b > 0`; exactly 1 where :math:`e = 0`.

    >>> float(power(9.0, 0.5, 3).to_float())
    3.0
    """
    value = exp(Multi.of(exponent, n) * log(Multi.of(base, n)))
    return where(_is_zero(exponent), 1.0, value, n)


def rational_power(base: Any, numerator: Any, denominator: Any, n: int) -> Multi:
    r""":math:`b^{p/q}` with the exponent :math:`p/q` (float64 ``numerator`` and ``denominator``) divided in ``n``
    words, never rounded to float64; exactly 1 where :math:`p = 0` (even for :math:`q = 0`).

    >>> float(rational_power(10000.0, -2.0, 96, 3).to_float()) == float.fromhex("0x1.a69b609b6a52fp-1")
    True
    """
    num = np.asarray(numerator, dtype=np.float64)
    safe_den = np.where(num == 0.0, 1.0, denominator)
    exponent = Multi.of(num, n) / safe_den
    value = exp(exponent * log(Multi.of(base, n)))
    return where(num == 0.0, 1.0, value, n)


def cos_sin_small(x: Multi) -> tuple[Multi, Multi]:
    r""":math:`(\cos x, \sin x)` for :math:`|x| \le \pi/4` by their Taylor series in :math:`x^2` (Horner's rule in
    ``x``'s word count; 40 terms reach :math:`2^{-170}` there). Slow: it builds the table of
    :mod:`refrope.precision.trig` once.

    >>> c, s = cos_sin_small(Multi.of(0.5, 2))
    >>> float(c.to_float()) == float.fromhex("0x1.c1528065b7d5p-1"), float(s.to_float()) == float.fromhex(
    ...     "0x1.eaee8744b05fp-2")
    (True, True)
    """
    inverse = _taylor(x.n, 41)
    square = x * x
    cos, sin = inverse[40], inverse[41]
    for j in range(38, -1, -2):
        cos = inverse[j] - square * cos
        sin = inverse[j + 1] - square * sin
    return cos, sin * x


def _is_zero(x: Any) -> np.ndarray:
    return x.sign() == 0 if isinstance(x, Multi) else np.asarray(x) == 0.0


def cumprod(x: Multi) -> Multi:
    """Prefix products along the last axis (Hillis-Steele scan: :math:`\\lceil\\log_2 m\\rceil` multiplications).

    >>> cumprod(Multi.of(np.array([2.0, 3.0, 4.0]), 2)).to_float()
    array([ 2.,  6., 24.])
    """
    total = Multi(np.broadcast_to(w, x.shape) for w in x.words)
    step = 1
    while step < x.shape[-1]:
        total = total * Multi(_shifted(w, step, 1.0 if k == 0 else 0.0) for k, w in enumerate(total.words))
        step *= 2
    return total


def _shifted(w: np.ndarray, step: int, fill: float) -> np.ndarray:
    """``w`` moved ``step`` places along the last axis, the first ``step`` places holding ``fill``."""
    return np.concatenate([np.full(w.shape[:-1] + (step,), fill), w[..., :-step]], axis=-1)
