r"""Additive position biases :math:`b(r)`: the logit of query :math:`i` and key :math:`j` gains :math:`b(p_i - p_j)`.

Each bias is an immutable, comparable object; calling it on relative positions :math:`r` (any real array)
returns float64 values. Every bias is even in :math:`r` and :math:`b(0) = 0`. A parameter is a scalar or a
per-head tuple of ``heads`` values; a per-head parameter acts on the head axis :math:`-3`: the result is
``param.reshape(heads, 1, 1) * g(r)`` by NumPy broadcasting (``r`` of shape ``(n_q, n_k)`` gives
``(heads, n_q, n_k)``). Attention takes one with ``bias=`` ([A-BIAS-1]), on the raw distance.

======================================  ===============================================================  =========
bias                                    :math:`b(r)`                                                     source
======================================  ===============================================================  =========
``alibi(slopes)``                       :math:`-s\,|r|`                                                  ALiBi
``kerple_power(r1, r2)``                :math:`-r_1 |r|^{r_2}`, :math:`r_1 > 0`, :math:`0 < r_2 \le 2`   KERPLE
``kerple_log(r1, r2)``                  :math:`-r_1 \log(1 + r_2 |r|)`, :math:`r_1, r_2 > 0`             KERPLE
``sandwich(lam, dim, theta)``           :math:`\lambda\,(\sum_{i<D/2} \cos(r\,\theta^{-2i/D}) - D/2)`    Sandwich
======================================  ===============================================================  =========

The sources: Press et al., ALiBi (arXiv:2108.12409); Chi et al., KERPLE (arXiv:2205.09921); Chi et al.,
Sandwich (arXiv:2212.10356); the overview of kexue.fm/archives/9431. Spec: docs/spec/schemes.md,
clauses [BIAS-ALIBI-1], [BIAS-SLOPES-1], [BIAS-KERPLE-1], [BIAS-KERPLE-2], [BIAS-SANDWICH-1], [BIAS-EVEN-1].
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from ._entries import Entry
from ._validation import check_int, check_real, finite_real_array

__all__ = ["Bias", "alibi", "kerple_power", "kerple_log", "sandwich", "alibi_slopes", "BIASES", "BiasEntry",
           "name_of"]


def _param(name: str, value: Any, *, minimum: float = 0.0, maximum: float | None = None) -> float | tuple:
    """A scalar or a 1-D per-head sequence of finite reals ``> minimum`` (``<= maximum``), as float or tuple."""
    arr = np.asarray(value) if not isinstance(value, (bool, np.bool_)) else None
    if arr is None or arr.dtype.kind not in "iuf" or arr.ndim > 1 or (arr.ndim == 1 and arr.size == 0):
        raise TypeError(f"{name} must be a real number or a 1-D array of per-head reals, got {value!r}")
    values = [check_real(name, float(v), minimum=minimum, strict_minimum=True, maximum=maximum)
              for v in np.atleast_1d(arr)]
    return values[0] if arr.ndim == 0 else tuple(values)


def _per_head(value: float | tuple) -> np.ndarray | float:
    return np.asarray(value, dtype=np.float64).reshape(-1, 1, 1) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Bias:
    """Base class of the biases; use the factory functions. Subclasses define ``name`` and ``_even``."""

    name = ""
    """The registry name (the key of :data:`BIASES` and of the capability ``bias:<name>``)."""

    def __post_init__(self) -> None:
        self.heads  # per-head parameters must agree in length  # noqa: B018

    def _even(self, a: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, r: Any) -> np.ndarray:
        """:math:`b(r)`, float64; per-head parameters add the head axis at :math:`-3` (broadcasting)."""
        return self._even(np.abs(finite_real_array("r", r))) + 0.0  # + 0.0: b(0) is +0, not -0

    @property
    def heads(self) -> int | None:
        """The number of per-head values of the parameters (None when every parameter is a scalar)."""
        sizes = {len(v) for v in (getattr(self, f.name) for f in fields(self)) if isinstance(v, tuple)}
        if len(sizes) > 1:
            raise ValueError(f"{self.name}: per-head parameters of different lengths {sorted(sizes)}: "
                             + ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)))
        return sizes.pop() if sizes else None

    def head(self, h: int) -> Bias:
        """The bias of head ``h`` alone (every per-head parameter replaced by its value at ``h``)."""
        return replace(self, **{f.name: getattr(self, f.name)[h] for f in fields(self)
                                if isinstance(getattr(self, f.name), tuple)})

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(f'{f.name}={getattr(self, f.name)!r}' for f in fields(self))})"


@dataclass(frozen=True, repr=False)
class _ALiBi(Bias):
    name = "alibi"
    slopes: float | tuple

    def _even(self, a):
        return -_per_head(self.slopes) * a

    def rounding(self, r, u, ua):
        return 3.0 * u * np.abs(self(r))


@dataclass(frozen=True, repr=False)
class _KerplePower(Bias):
    name = "kerple_power"
    r1: float | tuple
    r2: float | tuple

    def _even(self, a):
        return -_per_head(self.r1) * a ** _per_head(self.r2)

    def rounding(self, r, u, ua):
        log = np.abs(np.log(np.where(np.abs(r) > 0, np.abs(r), 1.0))) * _per_head(self.r2)
        return u * (4.0 + 2.0 * log) * np.abs(self(r))


@dataclass(frozen=True, repr=False)
class _KerpleLog(Bias):
    name = "kerple_log"
    r1: float | tuple
    r2: float | tuple

    def _even(self, a):
        return -_per_head(self.r1) * np.log1p(_per_head(self.r2) * a)

    def rounding(self, r, u, ua):
        return u * (3.0 * np.abs(self(r)) + 2.0 * _per_head(self.r1))


@dataclass(frozen=True, repr=False)
class _Sandwich(Bias):
    name = "sandwich"
    lam: float | tuple
    dim: int
    theta: float

    def frequencies(self) -> np.ndarray:
        r""":math:`\omega_i = \theta^{-2i/D}`, :math:`i < D/2`: the sinusoidal encoding's frequencies."""
        return self.theta ** (-np.arange(0, self.dim, 2, dtype=np.float64) / self.dim)

    def _even(self, a):
        # sum_i (cos(a w_i) - 1) = -2 sum_i sin^2(a w_i / 2): exact 0 at r = 0, no cancellation near it
        half = np.sin(a[..., None] * (0.5 * self.frequencies()))
        return -2.0 * _per_head(self.lam) * np.sum(half * half, axis=-1)

    def rounding(self, r, u, ua):
        angles = np.abs(np.asarray(r, dtype=np.float64))[..., None] * self.frequencies()
        lam = np.abs(_per_head(self.lam))
        return lam * 4.0 * ua * np.sum(1.0 + angles, axis=-1) + u * (self.dim / 2 + 2) * (np.abs(self(r))
                                                                                         + lam * self.dim)


def alibi(slopes: Any) -> Bias:
    r"""ALiBi: :math:`b(r) = -s\,|r|`, slopes :math:`s > 0` (a scalar or one per head).

    The bias of kexue.fm/archives/9431 (:math:`q_m^\top k_n - \lambda|m - n|`, a smooth local mask); with
    :func:`alibi_slopes` the slopes of the paper. Spec: [BIAS-ALIBI-1]. Source: Press et al., ALiBi
    (arXiv:2108.12409) §3; kexue.fm/archives/9431.

    >>> alibi(0.5)([-4, 0, 3])
    array([-2. ,  0. , -1.5])
    >>> alibi([0.5, 0.25])([[2.0]])  # per head: the head axis at -3
    array([[[-1. ]],
    <BLANKLINE>
           [[-0.5]]])
    """
    return _ALiBi(_param("slopes", slopes))


def kerple_power(r1: Any, r2: Any) -> Bias:
    r"""KERPLE, power variant: :math:`b(r) = -r_1 |r|^{r_2}` with :math:`r_1 > 0`, :math:`0 < r_2 \le 2`.

    :math:`r_2 = 1` is ALiBi with slope :math:`r_1`. Spec: [BIAS-KERPLE-1]. Source: Chi et al., KERPLE
    (arXiv:2205.09921) §4 (the power kernel); kexue.fm/archives/9431.

    >>> kerple_power(2.0, 0.5)([-4.0, 9.0])
    array([-4., -6.])
    """
    return _KerplePower(_param("r1", r1), _param("r2", r2, maximum=2.0))


def kerple_log(r1: Any, r2: Any) -> Bias:
    r"""KERPLE, logarithmic variant: :math:`b(r) = -r_1 \log(1 + r_2 |r|)` with :math:`r_1, r_2 > 0`.

    Spec: [BIAS-KERPLE-2]. Source: Chi et al., KERPLE (arXiv:2205.09921) §4 (the logarithmic kernel);
    kexue.fm/archives/9431.

    >>> kerple_log(1.0, 1.0)([0.0, np.e - 1]).round(12)
    array([ 0., -1.])
    """
    return _KerpleLog(_param("r1", r1), _param("r2", r2))


def sandwich(lam: Any, dim: int, theta: float = 10000.0) -> Bias:
    r"""Sandwich: :math:`b(r) = \lambda\big(\sum_{i<D/2}\cos(r\,\theta^{-2i/D}) - D/2\big)
    = \lambda\,(p_m^\top p_n - D/2)`, :math:`r = m - n`.

    :math:`p_m = [\sin m\omega_i, \cos m\omega_i]_i` is the sinusoidal encoding of dimension :math:`D` =
    ``dim`` (even, :math:`\ge 2`), :math:`\omega_i = \theta^{-2i/D}`; ``lam`` :math:`\lambda > 0` (a scalar or
    one per head). The constant :math:`-D/2` makes :math:`b(0) = 0` and cancels in the softmax, so attention
    with this bias equals NoPE attention on :math:`[q, \sqrt{\lambda/c}\,p_m]`, :math:`[k, \sqrt{\lambda/c}\,p_n]`
    at logit scale :math:`c` (identity S1 of kexue.fm/archives/9431). Spec: [BIAS-SANDWICH-1].
    Source: Chi et al., Sandwich (arXiv:2212.10356) §5; kexue.fm/archives/9431.

    >>> sandwich(1.0, 2)([0.0, np.pi]).round(12)  # D = 2: cos(r) - 1
    array([ 0., -2.])
    """
    dim = check_int("dim", dim, minimum=2, even=True)
    return _Sandwich(_param("lam", lam), dim, check_real("theta", theta, minimum=0.0, strict_minimum=True))


def alibi_slopes(n_heads: int) -> np.ndarray:
    r"""The ALiBi paper's slopes for ``n_heads`` heads, float64, shape ``(n_heads,)``.

    A power of two :math:`n`: :math:`s_h = 2^{-8(h+1)/n}`, :math:`h = 0, \dots, n - 1`. Otherwise, with
    :math:`c = 2^{\lfloor\log_2 n\rfloor}`: the :math:`c` slopes of ``alibi_slopes(c)`` followed by
    ``alibi_slopes(2c)[0::2][:n - c]`` (the paper's ``get_slopes``). These are transformers' Bloom and Falcon
    slopes and MPT's with ``alibi_bias_max=8`` ([BIAS-SLOPES-1]). Spec: [BIAS-SLOPES-1]. Source: Press et al.,
    ALiBi (arXiv:2108.12409) §3 and ofirpress/attention_with_linear_biases ``get_slopes``; HF 5.24
    ``modeling_bloom.py`` (``_get_alibi_slopes``), ``modeling_mpt.py`` (``build_mpt_alibi_tensor``).

    >>> alibi_slopes(4)
    array([0.25      , 0.0625    , 0.015625  , 0.00390625])
    >>> np.log2(alibi_slopes(12)).round(12).tolist()  # 8 heads' slopes, then the odd ones of 16 heads
    [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -0.5, -1.5, -2.5, -3.5]
    """
    n = check_int("n_heads", n_heads, minimum=1)
    c = 1 << (n.bit_length() - 1)
    powers = 2.0 ** (-8.0 * np.arange(1, c + 1) / c)
    if c == n:
        return powers
    return np.concatenate([powers, alibi_slopes(2 * c)[0::2][: n - c]])


BiasEntry = Entry
"""The entry of :data:`BIASES` (``refrope._entries.Entry``)."""


BIASES = MappingProxyType({e.name: e for e in (
    BiasEntry("alibi", alibi, _ALiBi, ("slopes",), "BIAS-ALIBI-1",
              lambda c, reach: alibi(c.real(2.0**-8, 1.0, favour=(0.5, 2.0**-8), label="slope"))),
    BiasEntry("kerple_power", kerple_power, _KerplePower, ("r1", "r2"), "BIAS-KERPLE-1",
              lambda c, reach: kerple_power(c.real(0.01, 2.0, label="r1"),
                                            c.real(0.01, 2.0, favour=(1.0, 2.0), label="r2"))),
    BiasEntry("kerple_log", kerple_log, _KerpleLog, ("r1", "r2"), "BIAS-KERPLE-2",
              lambda c, reach: kerple_log(c.real(0.01, 4.0, label="r1"), c.real(0.01, 4.0, label="r2"))),
    BiasEntry("sandwich", sandwich, _Sandwich, ("lam", "dim", "theta"), "BIAS-SANDWICH-1",
              lambda c, reach: sandwich(c.real(0.01, 2.0, label="lam"), 2 * c.integer(1, 8, label="pairs"),
                                        c.choice((10000.0, 100.0, max(2.0, float(reach))), label="theta"))),
)})
"""Every bias by name, the one table that capabilities, strategies, vectors and adapters use."""


def name_of(bias: Any) -> str:
    """The registry name of a bias object, ``"custom"`` for any other callable.

    >>> name_of(alibi(0.5)), name_of(lambda r: -abs(r))
    ('alibi', 'custom')
    """
    entry = BIASES.get(getattr(bias, "name", None))
    return entry.name if entry is not None and type(bias) is entry.cls else "custom"

