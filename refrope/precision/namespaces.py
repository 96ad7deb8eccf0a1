r"""The two arithmetics every frequency formula is written against: :data:`FAST` (float64) and :data:`EXACT`
(triple-double, about 150 bits).

A formula takes ``xp`` and uses only what both namespaces provide: ``xp.value(x)`` (a float64 input, taken
as exact, in the namespace's number type), the operators ``+ - * /`` and comparisons on those values,
``xp.pi``, ``xp.exp``, ``xp.log``, ``xp.power(b, e)``, ``xp.rational_power(b, p, q)``
(:math:`b^{p/q}` without rounding :math:`p/q`), ``xp.where``, ``xp.clip``, ``xp.minimum``, ``xp.maximum``,
``xp.cumprod`` and ``xp.to_float``. Decisions that are not continuous in the inputs (a floor, the number of
rotated pairs) are made in float64 by the formula itself, identically in both arithmetics.

:data:`FAST` reproduces the float64 evaluation of each formula, with three deliberate precision fixes
(docs/spec/numerics.md [N-FAST-1]): :meth:`Fast.rational_power` corrects the rounding of the exponent
:math:`p/q`, :meth:`Fast.cumprod` accumulates in double-double, and the ramps compute their keep-weight directly
(:func:`refrope.frequencies.ramps.keep_weight`). :data:`EXACT` evaluates with
:class:`~refrope.precision.multi.Multi` values of three words.

Spec: docs/spec/precision.md [P-EXACT-1], docs/spec/numerics.md [N-FAST-1].
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import dd, functions
from .eft import two_prod
from .multi import Multi, where

__all__ = ["Fast", "Exact", "FAST", "EXACT", "DOUBLE_DOUBLE", "PRECISIONS", "check_precision"]

PRECISIONS = ("fast", "exact")
"""The accepted values of every ``precision`` keyword."""


def check_precision(precision: Any) -> str:
    """``precision`` if it is ``"fast"`` or ``"exact"``, else ``ValueError`` naming it.

    >>> check_precision("exact")
    'exact'
    """
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}")
    return precision


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class Fast:
    """float64 arithmetic (NumPy arrays and Python floats), as the formulas have always been evaluated."""

    name = "fast"
    pi = math.pi

    @staticmethod
    def value(x: Any) -> Any:
        return x

    @staticmethod
    def exp(x: Any) -> Any:
        return math.exp(x) if _is_scalar(x) else np.exp(x)

    @staticmethod
    def log(x: Any) -> Any:
        return math.log(x) if _is_scalar(x) else np.log(x)

    @staticmethod
    def power(base: Any, exponent: Any) -> Any:
        return base**exponent

    @staticmethod
    def rational_power(base: Any, numerator: Any, denominator: Any) -> np.ndarray:
        r""":math:`b^{p/q}` with the rounding of the quotient corrected: :math:`e = \mathrm{fl}(p/q)`,
        :math:`\delta = (p - eq)/q` (the quotient's rounding error, :math:`eq` formed exactly), then
        :math:`b^e + b^e\,\delta\ln b`. Bit-identical to ``b ** (p / q)`` when :math:`q` is a power of two;
        exactly 1 where :math:`p = 0`.

        >>> Fast.rational_power(10000.0, np.array([0.0, -2.0]), 4.0)
        array([1.  , 0.01])
        """
        num = np.asarray(numerator, dtype=np.float64)
        exponent = np.divide(num, denominator, out=np.zeros_like(num), where=num != 0.0)
        high, low = two_prod(exponent, np.float64(denominator))
        delta = np.divide((num - high) - low, denominator, out=np.zeros_like(num), where=num != 0.0)
        value = base**exponent
        correction = delta * Fast.log(base)
        return value + np.multiply(value, correction, out=np.zeros_like(value), where=correction != 0.0)

    @staticmethod
    def where(condition: Any, a: Any, b: Any) -> np.ndarray:
        return np.where(condition, a, b)

    @staticmethod
    def clip(x: Any, low: float, high: float) -> np.ndarray:
        return np.clip(x, low, high)

    @staticmethod
    def minimum(a: Any, b: Any) -> Any:
        return min(a, b) if _is_scalar(a) and _is_scalar(b) else np.minimum(a, b)

    @staticmethod
    def maximum(a: Any, b: Any) -> Any:
        return max(a, b) if _is_scalar(a) and _is_scalar(b) else np.maximum(a, b)

    @staticmethod
    def cumprod(x: Any) -> np.ndarray:
        """Prefix products accumulated in double-double and rounded once (within 0.5 ulp + :math:`O(mu^2)`).

        >>> Fast.cumprod(np.array([2.0, 1.5, 3.0]))
        array([2., 3., 9.])
        """
        return functions.cumprod(Multi.of(np.asarray(x, dtype=np.float64), 2)).to_float()

    @staticmethod
    def to_float(x: Any) -> np.ndarray:
        return x.to_float() if isinstance(x, Multi) else np.asarray(x, dtype=np.float64)

    @property
    def wide(self) -> Exact:
        """Double-double (:data:`~refrope.precision.namespaces.DOUBLE_DOUBLE`), the arithmetic of the few
        quantities whose float64 rounding a formula amplifies (YaRN's real correction dimensions, Llama 3's
        weight; [N-FAST-1])."""
        return DOUBLE_DOUBLE

    @staticmethod
    def narrow(x: Any) -> Any:
        """A value of a wider arithmetic rounded once to float64 (a float64 value unchanged)."""
        return x.to_float() if isinstance(x, Multi) else x


class Exact:
    """Multi-word arithmetic (:class:`~refrope.precision.multi.Multi`): triple-double for
    :data:`~refrope.precision.namespaces.EXACT`, double-double for
    :data:`~refrope.precision.namespaces.DOUBLE_DOUBLE` (whose ``exp`` and ``log`` are the table-driven ones of
    :mod:`refrope.precision.dd`)."""

    def __init__(self, words: int = 3, name: str = "exact") -> None:
        self.words, self.name = words, name

    @property
    def wide(self) -> Exact:
        """This arithmetic itself, already wide enough for the quantities :attr:`Fast.wide` widens."""
        return self

    @staticmethod
    def narrow(x: Any) -> Any:
        """A value of a wider arithmetic in this one's number type (unchanged: every Multi value is exact here)."""
        return x

    @property
    def pi(self) -> Multi:
        return functions.pi(self.words)

    def value(self, x: Any) -> Multi:
        return Multi.of(x, self.words)

    def exp(self, x: Any) -> Multi:
        if self.words == 2:
            x = self.value(x)
            return Multi(dd.exp_dd(*x.words))
        return functions.exp(self.value(x))

    def log(self, x: Any) -> Multi:
        if self.words == 2:
            x = self.value(x)
            return Multi(dd.log_dd(*x.words))
        return functions.log(self.value(x))

    def power(self, base: Any, exponent: Any) -> Multi:
        return functions.power(base, exponent, self.words)

    def rational_power(self, base: Any, numerator: Any, denominator: Any) -> Multi:
        return functions.rational_power(base, numerator, denominator, self.words)

    def where(self, condition: Any, a: Any, b: Any) -> Multi:
        return where(condition, a, b, self.words)

    def clip(self, x: Any, low: float, high: float) -> Multi:
        return self.minimum(self.maximum(x, low), high)

    def minimum(self, a: Any, b: Any) -> Multi:
        a = self.value(a)
        return self.where(a <= b, a, b)

    def maximum(self, a: Any, b: Any) -> Multi:
        a = self.value(a)
        return self.where(a >= b, a, b)

    def cumprod(self, x: Any) -> Multi:
        return functions.cumprod(self.value(x))

    @staticmethod
    def to_float(x: Any) -> np.ndarray:
        return x.to_float() if isinstance(x, Multi) else np.asarray(x, dtype=np.float64)


FAST = Fast()
"""The float64 arithmetic (the default of every formula)."""
EXACT = Exact()
"""The triple-double arithmetic of ``precision="exact"``."""
DOUBLE_DOUBLE = Exact(words=2, name="double-double")
"""The double-double arithmetic of :attr:`Fast.wide`, for the few quantities fast mode may not round to
float64."""
