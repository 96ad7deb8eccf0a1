"""The building blocks every frequency variant shares.

* :class:`Frequencies`, the result of :func:`refrope.inv_freq` [F-FREQ-1];
* :func:`rope_inv_freq`, the one place the original RoPE frequencies
  :math:`\\omega_i = \\theta^{-2i/d}` are computed [F-DEFAULT-1];
* :func:`ntk_inv_freq`, the base-rescaled frequencies of the NTK family;
* :func:`blend`, the exact convex blend used by every ramp (YaRN, llama3, ...).

Every formula takes ``xp``, the arithmetic it is evaluated in (:mod:`refrope.precision.namespaces`):
:data:`~refrope.precision.namespaces.FAST` (float64, the default) or
:data:`~refrope.precision.namespaces.EXACT` (triple-double, for ``precision="exact"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .._validation import check_real
from ..precision.namespaces import FAST

__all__ = ["Frequencies", "rope_inv_freq", "ntk_inv_freq", "blend", "pair_index"]


def pair_index(rotary_dim: int) -> np.ndarray:
    """The pair index :math:`i = 0, \\dots, d/2 - 1` as float64.

    >>> pair_index(6)
    array([0., 1., 2.])
    """
    return np.arange(rotary_dim // 2, dtype=np.float64)


def rope_inv_freq(rotary_dim: int, theta: Any, xp: Any = FAST) -> Any:
    r"""Original RoPE inverse frequencies :math:`\omega_i = \theta^{-2i/d}`, shape ``(d/2,)``.

    The exponent :math:`-2i/d` is never rounded on its own (``xp.rational_power``): in float64 its rounding
    would be amplified by :math:`|\ln\omega_i|` at a ``d`` that is not a power of two ([N-FAST-1]).
    Spec: [F-DEFAULT-1]. Source: Su et al., RoFormer (arXiv:2104.09864); kexue.fm/archives/8265.

    >>> rope_inv_freq(8, 10000.0)
    array([1.   , 0.1  , 0.01 , 0.001])
    """
    return xp.rational_power(theta, -2.0 * pair_index(rotary_dim), rotary_dim)


def ntk_inv_freq(rotary_dim: int, theta: float, alpha: Any, xp: Any = FAST) -> Any:
    r"""RoPE frequencies with the base raised to :math:`\theta\,\alpha^{d/(d-2)}`.

    .. math:: \omega_i = \theta^{-2i/d}\,\alpha^{-2i/(d-2)}

    which is :math:`(\theta\alpha^{d/(d-2)})^{-2i/d}` written per pair so that the
    highest frequency :math:`\omega_0 = 1` is exact and ``d = 2`` is defined.
    Spec: [F-NTKAWARE-1]. Source: bloc97 (NTK-aware scaled RoPE), kexue.fm/archives/9675 §6.3.

    >>> ntk_inv_freq(4, 100.0, 4.0)
    array([1.   , 0.025])
    """
    return rope_inv_freq(rotary_dim, theta, xp) * xp.rational_power(alpha, -2.0 * pair_index(rotary_dim),
                                                                    rotary_dim - 2)


def blend(low: Any, high: Any, weight: Any, xp: Any = FAST) -> Any:
    r"""The convex blend :math:`(1 - w)\,\ell + w\,h`, computed as :math:`\ell + w(h - \ell)`.

    The second form is exact when :math:`\ell = h` (so every scaling variant with
    factor 1 reduces to ``default`` bit for bit) and at :math:`w = 0`; :math:`w = 1`
    returns :math:`h` itself, so both ends of every ramp are exact.

    >>> blend(np.array([1.0, 1.0]), np.array([3.0, 3.0]), np.array([0.0, 0.5]))
    array([1., 2.])
    """
    return xp.where(weight == 1.0, high, low + weight * (high - low))


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr = np.array(arr, dtype=np.float64, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Frequencies:
    r"""Inverse frequencies and the cos/sin magnitude of one RoPE variant [F-FREQ-1].

    Attributes
    ----------
    inv_freq : ndarray, float64, shape ``(rotary_dim // 2,)``
        :math:`\omega_i`, read-only. The angle of pair ``i`` at position ``p`` is :math:`p\,\omega_i`.
    attention_factor : float
        The magnitude :math:`m` that multiplies cos and sin (YaRN's and LongRoPE's
        ``attention_factor``). The attention logits therefore scale by :math:`m^2`.
    variant : str
        The registry name that produced it (``"custom"`` when built by hand).
    params : Mapping
        Every parameter the variant used, defaults included, and ``theta``.

    Examples
    --------
    >>> f = Frequencies([1.0, 0.5], attention_factor=2.0)
    >>> f.rotary_dim, f.attention_factor, f.inv_freq.flags.writeable
    (4, 2.0, False)
    """

    inv_freq: np.ndarray
    attention_factor: float = 1.0
    variant: str = "custom"
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from .._validation import finite_real_array

        inv = finite_real_array("inv_freq", self.inv_freq)
        if inv.ndim != 1 or inv.shape[0] < 1:
            raise ValueError(f"inv_freq must be a non-empty 1-D array, got shape {inv.shape}")
        object.__setattr__(self, "inv_freq", _readonly(inv))
        factor = check_real("attention_factor", self.attention_factor, minimum=0.0, strict_minimum=True)
        object.__setattr__(self, "attention_factor", factor)
        if not isinstance(self.variant, str):
            raise TypeError(f"variant must be a string, got {self.variant!r}")
        if not isinstance(self.params, Mapping):
            raise TypeError(f"params must be a mapping, got {type(self.params).__name__}")
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @property
    def rotary_dim(self) -> int:
        """``2 * len(inv_freq)``: the number of rotated coordinates."""
        return 2 * self.inv_freq.shape[0]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frequencies):
            return NotImplemented
        return (
            np.array_equal(self.inv_freq, other.inv_freq)
            and self.attention_factor == other.attention_factor
            and self.variant == other.variant
            and dict(self.params) == dict(other.params)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if not isinstance(v, (list, tuple, np.ndarray)))
        return (
            f"Frequencies(variant={self.variant!r}, rotary_dim={self.rotary_dim}, "
            f"attention_factor={self.attention_factor!r}, {params})"
        )
