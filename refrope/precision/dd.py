r"""Double-double building blocks at matrix scale, for exact attention: an error-free matrix product (Ozaki's
scheme on top of NumPy's BLAS), double-double sums of products along an axis, and :func:`exp_dd`.

:func:`matmul_dd` splits each row of ``a`` and each column of ``b`` into slices of at most :math:`\beta`
significant bits relative to the row's (column's) largest entry, :math:`2\beta + 2 + \log_2 k \le 53` for an
inner dimension :math:`k`; every product of two slices is then a matrix of integers times a power of two whose
partial sums stay below :math:`2^{53}`, so BLAS computes it **exactly** in any order (with or without FMA).
Summing the slice products of the leading orders into two words gives :math:`AB` within
:math:`2^{-104}\,k\,\max_j|a_{ij}|\max_j|b_{jl}|` (plus the double-double rounding of the result).

Spec: docs/spec/precision.md [P-DD-1]. Source: K. Ozaki, T. Ogita, S. Oishi, S. M. Rump, "Error-free
transformations of matrix multiplication by using fast routines of matrix multiplication and its
applicability", Numer. Algorithms 59 (2012); T. Ogita, S. M. Rump, S. Oishi, "Accurate sum and dot product",
SIAM J. Sci. Comput. 26 (2005).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from .eft import fast_two_sum, split, two_prod, two_prod_split, two_sum
from .functions import LN2_WORDS, exp, ln2
from .multi import Multi

__all__ = ["slices", "matmul_dd", "sum_dd", "add_dd", "mul_dd", "div_dd", "exp_dd", "log_dd"]

_BITS = 106 + 8  # the significant bits the slices cover below each row's (column's) largest entry


def slices(x: np.ndarray, axis: int, beta: int, count: int) -> list[np.ndarray]:
    r"""``count`` slices of ``x`` along ``axis`` (their sum is ``x`` up to the last slice's remainder), each
    entry an integer multiple of :math:`2^{\tau - \beta(s + 1)}` below :math:`2^{\tau - \beta s}`, :math:`\tau`
    the exponent of the largest magnitude of its row (``axis=-1``) or column (``axis=-2``).

    >>> [s.tolist() for s in slices(np.array([[1.0 + 2.0**-30, 3.0]]), -1, 20, 2)]
    [[[1.0, 3.0]], [[9.313225746154785e-10, 0.0]]]
    """
    rest = np.array(x, dtype=np.float64)
    out = []
    for _ in range(count):
        top = np.max(np.abs(rest), axis=axis, keepdims=True)
        exponent = np.where(top > 0, np.frexp(top)[1], -1022)  # top < 2^exponent
        sigma = np.ldexp(0.75, exponent + 53 - beta)  # its ulp is 2^(exponent - beta)
        head = (rest + sigma) - sigma
        out.append(head)
        rest = rest - head
    return out


def matmul_dd(a: np.ndarray, b: np.ndarray, bits: int = _BITS) -> tuple[np.ndarray, np.ndarray]:
    r"""``(hi, lo)``: ``a @ b`` (matrices, or stacks of them broadcast as by ``@``) as a double-double.

    ``bits`` (default 114) is how many bits below each row's and column's largest entry the slices cover: the
    result is within :math:`2^{-\mathrm{bits}}\,k\,\max_j|a_{ij}|\max_j|b_{jl}|` of the exact
    product (plus its rounding to two words), :math:`c = \lceil \mathrm{bits}/\beta\rceil` slices; fewer bits, fewer
    products (exact attention asks for what its bound needs).

    >>> a = np.array([[1.0, 2.0**-60]]); b = np.array([[1.0], [1.0]])
    >>> hi, lo = matmul_dd(a, b)
    >>> float(hi[0, 0]), float(lo[0, 0])
    (1.0, 8.673617379884035e-19)
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    k = a.shape[-1]
    beta = (51 - math.ceil(math.log2(max(k, 1)))) // 2
    count = math.ceil(bits / beta)
    sa, sb = slices(a, -1, beta, count), slices(b, -2, beta, count)
    # every product of a slice of a with slices of b at once (one wider product per slice of a), each exact
    width = b.shape[-1]
    wide = [sa[p] @ np.concatenate(sb[: count - p], axis=-1) for p in range(count)]
    terms = [wide[p][..., (order - p) * width:(order - p + 1) * width] for order in range(count)
             for p in range(order + 1)]
    return sum_dd(terms)


def sum_dd(terms: list) -> tuple[np.ndarray, np.ndarray]:
    """``(hi, lo)``: the sum of float64 arrays (roughly in decreasing order of magnitude) as a double-double,
    every addition error-free and the errors summed last.

    >>> [float(v) for v in sum_dd([np.array(1.0), np.array(2.0**-60), np.array(-1.0)])]
    [8.673617379884035e-19, 0.0]
    """
    hi, errors = terms[0], []
    for t in terms[1:]:
        hi, e = two_sum(hi, t)
        errors.append(e)
    lo = sum(errors[::-1], np.zeros_like(hi))
    return two_sum(hi, lo)


def add_dd(a_hi, a_lo, b_hi, b_lo) -> tuple[np.ndarray, np.ndarray]:
    """``(hi, lo)``: the sum of two double-doubles, within :math:`2^{-104}` of its size (or of the larger operand's,
    where they cancel).

    >>> [float(w) for w in add_dd(1.0, 2.0**-60, -1.0, 2.0**-61)]
    [1.3010426069826053e-18, 0.0]
    """
    s, e = two_sum(a_hi, b_hi)
    return two_sum(s, e + (a_lo + b_lo))


def mul_dd(a_hi, a_lo, b_hi, b_lo) -> tuple[np.ndarray, np.ndarray]:
    """``(hi, lo)``: the product of two double-doubles, within :math:`2^{-104}` relative.

    >>> [float(w) for w in mul_dd(1.0 + 2.0**-30, 0.0, 1.0 - 2.0**-30, 0.0)]
    [1.0, -8.673617379884035e-19]
    """
    p, e = two_prod(a_hi, b_hi)
    return fast_two_sum(p, e + (a_hi * b_lo + a_lo * b_hi))


def div_dd(a_hi, a_lo, b_hi, b_lo) -> tuple[np.ndarray, np.ndarray]:
    r"""``(hi, lo)``: :math:`a/b` of two double-doubles (:math:`b \ne 0`), within :math:`2^{-103}` relative: the
    float64 quotient and one correction from the exact remainder.

    >>> hi, lo = div_dd(1.0, 0.0, 3.0, 0.0)
    >>> float(hi), float(lo)
    (0.3333333333333333, 1.850371707708594e-17)
    """
    q = a_hi / b_hi
    p, e = two_prod(q, b_hi)
    remainder = ((a_hi - p) - e) + (a_lo - q * b_lo)
    return fast_two_sum(q, remainder / b_hi)


_EXP_BITS = 11
_EXP_STEPS = 1 << _EXP_BITS
# ln 2 / N in three words, the first with 30 significant bits so that k * first is exact for |k| < 2^23
_LN2_STEP = Multi.of(ln2(3) / float(_EXP_STEPS), 3)
_L1 = float(np.ldexp(np.rint(np.ldexp(_LN2_STEP.words[0], 30 + _EXP_BITS)), -30 - _EXP_BITS))
_L2, _L3 = (float(w) for w in Multi.of(_LN2_STEP - _L1, 2).words)
_SIXTH = Multi.of(Multi.of(1.0, 3) / 6.0, 2)


@cache
def _powers_of_two() -> tuple[np.ndarray, np.ndarray]:
    """:math:`2^{j/N}`, ``j = 0..N-1``, as double-doubles (rounded from three words)."""
    values = exp(ln2(3) * (np.arange(_EXP_STEPS, dtype=np.float64) / _EXP_STEPS))
    hi, lo = Multi.of(values, 2).words
    return np.ascontiguousarray(hi), np.ascontiguousarray(lo)


def exp_dd(x_hi, x_lo=0.0) -> tuple[np.ndarray, np.ndarray]:
    r"""``(hi, lo)``: :math:`e^{x}` of the double-double :math:`x = x_{hi} + x_{lo}`, within :math:`2^{-100}`
    relative for :math:`x \ge -650` (``hi`` its float64 rounding; below, the low word underflows, and the result
    is 0 below :math:`-745`); ``inf`` above :math:`709.7`; :math:`e^{-\infty} = 0`.

    :math:`x = (k N + j)\ln 2 / N + r` with :math:`N = 2^{11}`, :math:`|r| \le \ln 2/(2N)`; then
    :math:`e^x = 2^k\,2^{j/N}(1 + E)`, :math:`2^{j/N}` from a double-double table and
    :math:`E = r + r^2(\tfrac12 + r(\tfrac16 + r(\tfrac1{24} + \dots + \tfrac{r^3}{5040})))` with its leading
    terms in two words. Source: Tang (ACM TOMS 15, 1989), the table-driven exponential.

    >>> hi, lo = exp_dd(np.array([1.0, -700.0]))
    >>> hi[0] == float.fromhex("0x1.5bf0a8b145769p+1"), float(lo[0]) != 0.0
    (np.True_, True)
    """
    given = np.asarray(x_hi, dtype=np.float64)
    finite = np.isfinite(given)
    x_hi = np.where(finite, given, 0.0)
    x_lo = np.where(finite, x_lo, 0.0)
    k = np.rint(x_hi / _LN2_STEP.words[0])
    k = np.clip(k, -1100 * _EXP_STEPS, 1100 * _EXP_STEPS)
    kl, kl_e = two_prod(k, _L2)
    r_hi, e1 = two_sum(x_hi - k * _L1, -kl)  # k * L1 and x_hi - k * L1 are exact
    r_hi, e2 = two_sum(r_hi, x_lo)
    r_hi, r_lo = fast_two_sum(r_hi, (e1 + e2) - (kl_e + k * _L3))
    rh, rl = split(r_hi)
    q, qe = two_prod_split(r_hi, rh, rl, r_hi, rh, rl)
    q_lo = qe + 2.0 * r_hi * r_lo  # r^2 = q + q_lo
    tail = r_hi * (1.0 / 24.0 + r_hi * (1.0 / 120.0 + r_hi * (1.0 / 720.0 + r_hi / 5040.0)))
    sixth_hi, sixth_lo = fast_two_sum(_SIXTH.words[0], _SIXTH.words[1] + tail)
    v, ve = two_prod(r_hi, sixth_hi)  # r (1/6 + ...)
    w_hi, w_lo = fast_two_sum(0.5, v)
    w_lo = w_lo + (ve + r_hi * sixth_lo + r_lo * sixth_hi)  # w = 1/2 + r/6 + ...
    p, pe = two_prod(q, w_hi)
    pe = pe + (q * w_lo + q_lo * w_hi)  # r^2 w
    e_hi, e_lo = two_sum(r_hi, p)
    e_hi, e_lo = fast_two_sum(e_hi, e_lo + (r_lo + pe))  # E
    steps = k.astype(np.int64)
    index = np.remainder(steps, _EXP_STEPS)
    t_hi, t_lo = (np.take(t, index) for t in _powers_of_two())
    te, tee = two_prod(t_hi, e_hi)
    total, e = two_sum(t_hi, te)
    hi, lo = fast_two_sum(total, e + (t_lo + tee + (t_hi * e_lo + t_lo * e_hi)))
    scale = (steps - index) // _EXP_STEPS
    with np.errstate(over="ignore", under="ignore"):
        hi, lo = np.ldexp(hi, scale), np.ldexp(lo, scale)
    # beyond the clipped range of k (|x| > 1100 ln 2) the reduction does not hold: 0 and inf there, as beyond +-760
    inside = finite & (np.abs(given) <= 760.0)
    lo = np.where(np.isfinite(hi) & inside, lo, 0.0)
    hi = np.where(inside, hi, np.where(given > 0, np.inf, np.where(given < 0, 0.0, given)))  # e^-inf = 0, nan
    return hi, lo


def log_dd(x_hi, x_lo=0.0) -> tuple[np.ndarray, np.ndarray]:
    r"""``(hi, lo)``: :math:`\ln x` of a positive double-double :math:`x`, within :math:`2^{-98}` (relative for
    :math:`|\ln x| \ge 1`, absolute below): :math:`x = m\,2^e`, :math:`\ln x = e\ln 2 + \ln m`, and
    :math:`\ln m` by one Newton step :math:`y + (m e^{-y} - 1)` from the float64 logarithm, with :func:`exp_dd`.

    >>> hi, lo = log_dd(np.array([2.0]))
    >>> float(hi[0]), float(lo[0])
    (0.6931471805599453, 2.3190468138462996e-17)
    """
    m, e = np.frexp(np.asarray(x_hi, dtype=np.float64))  # x = m 2^e, 1/2 <= m < 1
    m_lo = np.ldexp(x_lo, -e)
    y = np.log(m)
    e_hi, e_lo = exp_dd(-y)
    p, pe = two_prod(m, e_hi)
    delta = (p - 1.0) + (pe + (m * e_lo + m_lo * e_hi))  # m e^-y - 1, about 2^-52: p - 1 is exact
    scale = e.astype(np.float64)
    l_hi, l_lo = two_prod(scale, LN2_WORDS[0])
    total, t_e = two_sum(l_hi, y)
    return two_sum(total, t_e + (l_lo + scale * LN2_WORDS[1]) + (delta - 0.5 * delta * delta))
