"""The relative-position maps and their factories (the table is in :mod:`refrope.relpos`).

Spec: docs/spec/relpos.md, clauses [L-MAP-1] to [L-MAP-7], [L-PASS-1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_real, finite_real_array

__all__ = ["RelPos", "rope", "linear", "rerope", "leaky_rerope", "inv_leaky_rerope", "none"]


@dataclass(frozen=True)
class RelPos:
    r"""Base class of the relative-position maps; use the factory functions of this module.

    Subclasses define ``_nonneg`` (the article's formula for :math:`r \ge 0`),
    :attr:`inner_window` and :attr:`outer_slope`.
    """

    def _nonneg(self, r: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def inner_window(self) -> float:
        r""":math:`W`: :math:`f(r) = r` for :math:`|r| < W` (``inf`` for RoPE, 0 for linear)."""
        raise NotImplementedError  # pragma: no cover - abstract

    @property
    def outer_slope(self) -> float:
        r""":math:`s`: the slope of :math:`f` for :math:`|r| \ge W` (1/k; 0 for ReRoPE)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def __call__(self, r: Any) -> np.ndarray:
        r""":math:`f(r)`, elementwise, float64; odd for :math:`r < 0`: :math:`f(r) = -f(-r)`.

        >>> rerope(2)([-5.0, 1.0, 5.0])
        array([-2.,  1.,  2.])
        """
        r = finite_real_array("r", r)
        return np.copysign(self._nonneg(np.abs(r)), r)

    def outer_positions(self, positions_q: Any, positions_k: Any, side: int = 1) -> tuple[np.ndarray, np.ndarray]:
        r"""Where pass 2 rotates queries and keys: :math:`(\sigma w + s(p_q - \sigma w),\; s\,p_k)`.

        With :math:`\sigma` = ``side`` (+1 for :math:`r \ge W`, -1 for :math:`r \le -W`), the angle
        difference of the two is :math:`\sigma w + s(r - \sigma w) = f(r)` on that side [L-PASS-1].
        For Leaky ReRoPE this is the article's :math:`q` at :math:`(i - w)/k + w`, :math:`k` at
        :math:`j/k`; for ReRoPE (:math:`s = 0`) :math:`q` at :math:`w` and :math:`k` unrotated.
        Source: kexue.fm/archives/9708, bojone/rerope ``rerope_patch.py`` / ``leaky_rerope_patch.py``.

        >>> leaky_rerope(4, 2).outer_positions([10.0], [2.0])
        (array([7.]), array([1.]))
        """
        if side not in (1, -1):
            raise ValueError(f"side must be 1 or -1, got {side!r}")
        if not math.isfinite(self.inner_window):
            raise ValueError(f"{self!r} has no outer piece (its inner window is infinite)")
        w = side * self.inner_window
        s = self.outer_slope
        pq = finite_real_array("positions_q", positions_q)
        pk = finite_real_array("positions_k", positions_k)
        return w + s * (pq - w), s * pk

    name = ""
    """The map's registry name (the key of :data:`MAPS` and of the capability ``relpos:<name>``)."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{self.name}({fields})"


@dataclass(frozen=True, repr=False)
class _RoPE(RelPos):
    name = "rope"

    def _nonneg(self, r: np.ndarray) -> np.ndarray:
        return r

    inner_window = math.inf
    outer_slope = 1.0


@dataclass(frozen=True, repr=False)
class _Linear(RelPos):
    name = "linear"

    factor: float

    def _nonneg(self, r: np.ndarray) -> np.ndarray:
        return r / self.factor

    inner_window = 0.0

    @property
    def outer_slope(self) -> float:
        return 1.0 / self.factor


@dataclass(frozen=True, repr=False)
class _ReRoPE(RelPos):
    name = "rerope"

    window: float

    def _nonneg(self, r: np.ndarray) -> np.ndarray:
        return np.minimum(r, self.window)

    @property
    def inner_window(self) -> float:
        return self.window

    outer_slope = 0.0


@dataclass(frozen=True, repr=False)
class _NoPE(RelPos):
    name = "none"

    def _nonneg(self, r: np.ndarray) -> np.ndarray:
        return np.zeros_like(r)

    inner_window = 0.0
    outer_slope = 0.0


@dataclass(frozen=True, repr=False)
class _LeakyBase(RelPos):
    window: float
    factor: float

    def _nonneg(self, r: np.ndarray) -> np.ndarray:
        w = self.window
        return np.where(r < w, r, w + (r - w) / self.factor)

    @property
    def inner_window(self) -> float:
        return self.window

    @property
    def outer_slope(self) -> float:
        return 1.0 / self.factor


@dataclass(frozen=True, repr=False)
class _LeakyReRoPE(_LeakyBase):
    name = "leaky_rerope"

    pass


@dataclass(frozen=True, repr=False)
class _InvLeakyReRoPE(_LeakyBase):
    name = "inv_leaky_rerope"

    pass


def _window(window: Any) -> float:
    return check_real("window", window, minimum=0.0)


def rope() -> RelPos:
    r"""Plain RoPE: :math:`f(r) = r`. The string ``"rope"`` means this map wherever a map is accepted.

    Spec: [L-MAP-1]. Source: Su et al., RoFormer (arXiv:2104.09864); kexue.fm/archives/8265.

    >>> rope()(np.array([-3.0, 0.0, 7.0]))
    array([-3.,  0.,  7.])
    """
    return _RoPE()


def linear(factor: float) -> RelPos:
    r"""Position interpolation: :math:`f(r) = r / k`, :math:`k > 0` (``factor``).

    Equals ``rope()`` with every position divided by :math:`k` ([L-MAP-2]).
    Spec: [L-MAP-2]. Source: Chen et al., PI (arXiv:2306.15595); kexue.fm/archives/9708 §8.1.

    >>> linear(4)([8.0, 2.0])
    array([2. , 0.5])
    """
    return _Linear(check_real("factor", factor, minimum=0.0, strict_minimum=True))


def rerope(window: float) -> RelPos:
    r"""ReRoPE: :math:`f(r) = \min(r, w)` for :math:`r \ge 0`; ``window`` :math:`w` finite, :math:`\ge 0`.

    Every relative position at or beyond the window is seen as :math:`w`, for any length ([L-MAP-3]).
    :math:`w = 0` makes every relative position 0, i.e. attention without positional information
    on the rotary slice (:math:`\mathcal{R}(0) = I`); the articles use :math:`w` below the training
    length (1/4 to 1/2 of it).
    Spec: [L-MAP-3]. Source: kexue.fm/archives/9708 §8.1; bojone/rerope ``rerope_patch.py``.

    >>> rerope(3)([0.0, 2.0, 3.0, 10.0])
    array([0., 2., 3., 3.])
    """
    return _ReRoPE(_window(window))


def leaky_rerope(window: float, factor: float) -> RelPos:
    r"""Leaky ReRoPE: :math:`f(r) = r` for :math:`r < w`, :math:`w + (r - w)/k` for :math:`r \ge w`, :math:`k \ge 1`.

    Continuous at :math:`w`; :math:`k = 1` is RoPE, :math:`k \to \infty` is ReRoPE, :math:`w = 0` is
    ``linear(k)`` ([L-MAP-4]). For :math:`k \ge 1` it equals :math:`\min(r, w + (r - w)/k)`.
    Spec: [L-MAP-4]. Source: kexue.fm/archives/9708 §8.1; bojone/rerope ``leaky_rerope_patch.py``.

    >>> leaky_rerope(2, 4)([1.0, 2.0, 10.0])
    array([1., 2., 4.])
    """
    return _LeakyReRoPE(_window(window), check_real("factor", factor, minimum=1.0))


def inv_leaky_rerope(window: float, factor: float) -> RelPos:
    r"""InvLeaky ReRoPE (training side): Leaky ReRoPE's formula with :math:`0 < k < 1` (outer step :math:`1/k > 1`).

    Here :math:`f(r) = \max(r, w + (r - w)/k)`, so the blog's decode exponent
    :math:`\max(j - i, (j - i + w)/k - w)` picks the wrong branch ([L-MAP-5]); the window decides the branch.
    Spec: [L-MAP-5]. Source: kexue.fm/archives/9728.

    >>> inv_leaky_rerope(128, 1 / 16)([100.0, 511.0])
    array([ 100., 6256.])
    """
    factor = check_real("factor", factor, minimum=0.0, strict_minimum=True)
    if factor >= 1.0:
        raise ValueError(f"factor must be < 1 for inv_leaky_rerope (use leaky_rerope for k >= 1), got {factor}")
    return _InvLeakyReRoPE(_window(window), factor)


def none() -> RelPos:
    r"""NoPE: no rotary position at all; the string ``"none"`` means this map wherever a map is accepted.

    :math:`f(r) = 0` (two pieces: :math:`W = 0`, :math:`s = 0`), and attention with it neither rotates nor
    applies the magnitude :math:`m`: the logit is :math:`\lambda g \sigma(p_i)\, q_i^\top k_j`, and
    ``freqs`` may be ``None`` ([A-NOPE-1]). Position enters only through a bias, a mask or a query scale:
    Bloom, MPT and Falcon-RW (ALiBi), Llama 4's NoPE layers (its temperature), HWFA's last layer (logn).
    Spec: [L-MAP-7], [A-NOPE-1]. Source: Kazemnejad et al., *The Impact of Positional Encoding on Length
    Generalization in Transformers* (arXiv:2305.19466); HF ``modeling_llama4.py`` (``no_rope_layers``);
    kexue.fm/archives/9603 (HWFA's last layer).

    >>> none()([-3.0, 0.0, 7.0])
    array([-0.,  0.,  0.])
    """
    return _NoPE()
