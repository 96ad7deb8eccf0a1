r"""Error-free transformations: a sum or a product of two float64 values as the exact sum of two float64 values.

With round-to-nearest float64 arithmetic (no FMA is needed; NumPy exposes none), for finite inputs without
overflow:

* :func:`two_sum` (Knuth): :math:`s + e = a + b` exactly, :math:`s = \mathrm{fl}(a + b)`;
* :func:`fast_two_sum` (Dekker): the same when :math:`|a| \ge |b|` (or :math:`a = 0`), in three operations;
* :func:`split` (Veltkamp): :math:`a = h + l` with :math:`h` holding the top 26 bits and :math:`l` the rest,
  so that products of halves are exact;
* :func:`two_prod` (Dekker): :math:`p + e = a b` exactly, :math:`p = \mathrm{fl}(ab)`, unless the product
  underflows (:math:`|ab| < 2^{-969}`) or :math:`|a|` or :math:`|b|` exceeds :math:`2^{995}`.

Every function works elementwise on arrays (broadcasting) and on scalars. These are the building blocks of
:mod:`refrope.precision.multi` and :mod:`refrope.precision.trig`.
Spec: docs/spec/precision.md [P-EXACT-1]. Source: T. J. Dekker, "A floating-point technique for extending the
available precision", Numer. Math. 18 (1971); D. E. Knuth, TAOCP vol. 2, §4.2.2; J.-M. Muller et al.,
*Handbook of Floating-Point Arithmetic* (2nd ed., 2018), §4.3 and §4.4.
"""

from __future__ import annotations

__all__ = ["SPLITTER", "two_sum", "fast_two_sum", "split", "two_prod", "two_prod_split"]

SPLITTER = 134217729.0
"""Veltkamp's constant :math:`2^{27} + 1` for float64."""


def two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e == a + b`` exactly (six operations, any order of magnitude).

    >>> two_sum(1.0, 2.0**-60)
    (1.0, 8.673617379884035e-19)
    """
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def fast_two_sum(a, b):
    """``(s, e)`` with ``s + e == a + b`` exactly, provided ``|a| >= |b|`` or ``a == 0`` (three operations).

    >>> fast_two_sum(1.0, 2.0**-60)
    (1.0, 8.673617379884035e-19)
    """
    s = a + b
    return s, b - (s - a)


def split(a):
    """``(h, l)`` with ``h + l == a`` exactly, each with at most 26 significant bits (Veltkamp).

    >>> h, l = split(1.0 + 2.0**-40)
    >>> h, l == 2.0**-40
    (1.0, True)
    """
    t = SPLITTER * a
    h = t - (t - a)
    return h, a - h


def two_prod_split(a, ah, al, b, bh, bl):
    """:func:`two_prod` with both operands already split (``a == ah + al``, ``b == bh + bl``): seven operations.

    >>> a, b = 1.0 + 2.0**-30, 1.0 - 2.0**-30
    >>> two_prod_split(a, *split(a), b, *split(b))
    (1.0, -8.673617379884035e-19)
    """
    p = a * b
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def two_prod(a, b):
    """``(p, e)`` with ``p = fl(a b)`` and ``p + e == a b`` exactly (Dekker's product).

    >>> two_prod(1.0 + 2.0**-30, 1.0 - 2.0**-30)
    (1.0, -8.673617379884035e-19)
    >>> import numpy as np
    >>> two_prod(np.array([3.0]), 0.1)[1] != 0
    array([ True])
    """
    ah, al = split(a)
    bh, bl = split(b)
    return two_prod_split(a, ah, al, b, bh, bl)
