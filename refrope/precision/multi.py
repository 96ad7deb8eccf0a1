r"""Multi-word floats: arrays of reals held as the unevaluated sum of ``n`` float64 words (double-double for
``n = 2``, triple-double for ``n = 3``), with the arithmetic the frequency formulas need.

A :class:`Multi` of ``n`` words carries about :math:`53n - 5` bits: each operation below returns the exact
result rounded to ``n`` words with a relative error of a few :math:`2^{-53n}` (:math:`u^n`), as long as the
operands are not cancelling by more than a word. Operators (``+ - * /``, unary ``-``, comparisons) mix a
:class:`Multi` with float64 scalars and arrays, which are taken as exact; :mod:`refrope.precision.functions`
adds ``exp``, ``log``, powers and prefix products. Shapes broadcast as NumPy's do.

Spec: docs/spec/precision.md [P-EXACT-1]. Source: D. M. Priest, "Algorithms for arbitrary precision floating
point arithmetic" (ARITH 10, 1991); Y. Hida, X. S. Li, D. H. Bailey, "Algorithms for quad-double precision
floating point arithmetic" (ARITH 15, 2001); T. Ogita, S. M. Rump, S. Oishi, "Accurate sum and dot product",
SIAM J. Sci. Comput. 26 (2005) (``VecSum``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .eft import two_prod, two_sum

__all__ = ["Multi", "renormalize", "vec_sum", "where"]


def vec_sum(terms: list) -> list:
    """Ogita-Rump-Oishi ``VecSum``: the same exact sum, with ``out[0]`` the floating-point sum accumulated from
    the last term to the first and ``out[1:]`` the rounding errors of each addition (error-free).

    >>> vec_sum([1.0, 2.0**-60, 2.0**-61])
    [1.0, 1.3010426069826053e-18, 0.0]
    """
    out = list(terms)
    s = out[-1]
    for k in range(len(out) - 2, -1, -1):
        s, out[k + 1] = two_sum(out[k], s)
    out[0] = s
    return out


def renormalize(terms: list, n: int) -> tuple:
    r"""``n`` words whose sum approximates the exact sum of ``terms`` (float64 arrays, roughly in decreasing
    order of magnitude) to a relative :math:`O(u^n)`, normalized (:math:`|w_{k+1}| \le \mathrm{ulp}(w_k)/2`).

    Each word is extracted by a ``VecSum`` pass over what remains; the last word is the floating sum of the
    rest; a final cascade of :func:`~refrope.precision.eft.two_sum` normalizes the words.

    >>> renormalize([1.0, 2.0**-60, 2.0**-120], 2)
    (1.0, 8.673617379884035e-19)
    """
    rest = list(terms)
    words = []
    for _ in range(n - 1):
        rest = vec_sum(rest) if len(rest) > 1 else rest
        words.append(rest[0])
        rest = rest[1:] or [np.zeros_like(rest[0])]
    words.append(vec_sum(rest)[0])
    for _ in range(2):
        for k in range(n - 1, 0, -1):
            words[k - 1], words[k] = two_sum(words[k - 1], words[k])
    return tuple(words)


def _as_words(x: Any, n: int) -> tuple:
    if isinstance(x, Multi):
        return x.words + (np.zeros_like(x.words[0]),) * (n - x.n) if x.n < n else x.words
    return (np.asarray(x, dtype=np.float64),) + (np.float64(0.0),) * (n - 1)


class Multi:
    r"""A real array held as ``n`` float64 words :math:`x = w_0 + w_1 + \dots + w_{n-1}` (:math:`|w_0|` largest).

    Build one with :meth:`of` (a float64 value, exact) or from words; read it with :meth:`to_float` (rounded
    once) or ``words``.

    >>> third = Multi.of(1.0, 3) / 3.0
    >>> [float(w) for w in third.words]
    [0.3333333333333333, 1.850371707708594e-17, 1.0271626370065257e-33]
    >>> float((third * 3.0 - 1.0).to_float())
    0.0
    """

    __array_ufunc__ = None  # NumPy operands defer to the reflected operators below
    __slots__ = ("words",)

    def __init__(self, words) -> None:
        self.words = tuple(np.asarray(w, dtype=np.float64) for w in words)

    @classmethod
    def of(cls, x: Any, n: int) -> Multi:
        """``x`` (a :class:`Multi` or float64 values, taken as exact) as ``n`` words."""
        if isinstance(x, Multi):
            return x if x.n == n else Multi(renormalize(list(_as_words(x, max(n, x.n))), n))
        return Multi(_as_words(x, n))

    @property
    def n(self) -> int:
        return len(self.words)

    @property
    def shape(self) -> tuple:
        return np.broadcast_shapes(*(w.shape for w in self.words))

    def to_float(self) -> np.ndarray:
        """The value rounded to float64: ``w_0 + (w_1 + ...)``, within half an ulp plus :math:`O(u^2)`."""
        tail = self.words[-1]
        for w in self.words[-2:0:-1]:
            tail = w + tail
        return self.words[0] + tail if self.n > 1 else self.words[0]

    def __repr__(self) -> str:
        return f"Multi(n={self.n}, value≈{self.to_float()!r})"

    def __getitem__(self, index) -> Multi:
        return Multi(np.broadcast_to(w, self.shape)[index] for w in self.words)

    def ldexp(self, k) -> Multi:
        """:math:`x\\,2^k` (exact, barring overflow and underflow)."""
        return Multi(np.ldexp(w, k) for w in self.words)

    def __neg__(self) -> Multi:
        return Multi(-w for w in self.words)

    def __add__(self, other: Any) -> Multi:
        n = max(self.n, other.n) if isinstance(other, Multi) else self.n
        pairs = [two_sum(x, y) for x, y in zip(_as_words(self, n), _as_words(other, n))]
        # s_0, then per order k: s_k and e_{k-1}; the last order's terms summed in float64 (an O(u^n) error)
        terms = [pairs[0][0]] + [t for k in range(1, n - 1) for t in (pairs[k][0], pairs[k - 1][1])]
        terms.append(sum(p for pair in pairs[n - 1:] for p in pair) + (pairs[n - 2][1] if n > 1 else 0.0))
        return Multi(renormalize(terms, n))

    __radd__ = __add__

    def __sub__(self, other: Any) -> Multi:
        return self + (-other)

    def __rsub__(self, other: Any) -> Multi:
        return (-self) + other

    def __mul__(self, other: Any) -> Multi:
        if not isinstance(other, Multi):
            return self._mul_float(np.asarray(other, dtype=np.float64))
        n = max(self.n, other.n)
        xs, ys = _as_words(self, n), _as_words(other, n)
        terms, last = [], 0.0
        for order in range(n):  # the products x_i y_j of order i + j, exact below order n - 1
            tails = []
            for i in range(order + 1):
                if order < n - 1:
                    p, e = two_prod(xs[i], ys[order - i])
                    terms.append(p)
                    tails.append(e)
                else:
                    last = last + xs[i] * ys[order - i]
            if order < n - 2:
                terms.extend(tails)
            else:
                last = last + sum(tails)
        return Multi(renormalize(terms + [last], n))

    __rmul__ = __mul__

    def _mul_float(self, b: np.ndarray) -> Multi:
        n = self.n
        if n == 1:
            return Multi(two_prod(self.words[0], b))
        products = [two_prod(w, b) for w in self.words[:-1]]
        terms = [products[0][0]] + [t for k in range(1, n - 1) for t in (products[k][0], products[k - 1][1])]
        terms.append(self.words[-1] * b + products[-1][1])
        return Multi(renormalize(terms, n))

    def __truediv__(self, other: Any) -> Multi:
        n = max(self.n, other.n) if isinstance(other, Multi) else self.n
        y = other if isinstance(other, Multi) else np.asarray(other, dtype=np.float64)
        lead = y.words[0] if isinstance(y, Multi) else y
        rest = Multi.of(self, n)
        quotients = []
        for _ in range(n + 1):  # long division: each step removes about 53 bits of the remainder
            q = rest.words[0] / lead
            quotients.append(q)
            rest = rest - (y * q if isinstance(y, Multi) else Multi(two_prod(y, q)))
        return Multi(renormalize(quotients, n))

    def __rtruediv__(self, other: Any) -> Multi:
        return Multi.of(other, self.n) / self

    def sign(self) -> np.ndarray:
        """-1, 0 or 1 per element (the sign of the leading word of a normalized value)."""
        return np.sign(self.words[0])

    def _compare(self, other: Any) -> np.ndarray:
        return (self - other).sign()

    def __lt__(self, other: Any) -> np.ndarray:
        return self._compare(other) < 0

    def __le__(self, other: Any) -> np.ndarray:
        return self._compare(other) <= 0

    def __gt__(self, other: Any) -> np.ndarray:
        return self._compare(other) > 0

    def __ge__(self, other: Any) -> np.ndarray:
        return self._compare(other) >= 0

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self._compare(other) == 0

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self._compare(other) != 0

    __hash__ = None  # type: ignore[assignment]


def where(condition: Any, a: Any, b: Any, n: int) -> Multi:
    """Elementwise ``a if condition else b`` for :class:`Multi` or float64 operands, as ``n`` words.

    >>> where(np.array([True, False]), Multi.of(1.0, 2), 2.0, 2).to_float()
    array([1., 2.])
    """
    xs, ys = _as_words(a, n), _as_words(b, n)
    return Multi(np.where(condition, x, y) for x, y in zip(xs, ys))
