r"""``precision="exact"`` for the rotation: the frequencies recomputed from their formula, the angles' cosines and
sines in double-double, the rotation and the magnitude applied with one final rounding.

* :func:`exact_inv_freq`: :math:`\omega_i` in three words. A :class:`~refrope.Frequencies` made by
  :func:`refrope.inv_freq` is re-evaluated from its recorded variant and parameters in triple-double
  (:data:`~refrope.precision.namespaces.EXACT`), after checking that its stored float64 values are that
  formula's (a hand-made ``Frequencies`` with a registry name and other values is refused); any other
  frequencies (``variant="custom"``, a plain array) are exact as given.
* :func:`cos_sin_words`: :math:`\cos p\omega_i`, :math:`\sin p\omega_i` as double-doubles
  (:func:`refrope.precision.trig.cos_sin_dd`), for :math:`|p\,\omega| \le 2^{41}` (:data:`ANGLE_LIMIT`).
* :func:`round_scaled` and :func:`rotate_words`: :math:`m\cos` and :math:`m(a\cos - b\sin)` from those words, each
  rounded once to float64.

Spec: docs/spec/precision.md [P-EXACT-2], [P-EXACT-3], [P-EXACT-4].
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..frequencies.base import Frequencies
from ..frequencies.registry import VARIANTS, evaluate
from .eft import split, two_prod, two_prod_split, two_sum
from .multi import Multi
from .namespaces import EXACT
from .trig import cos_sin_dd, steps_per_radian

__all__ = ["ANGLE_LIMIT", "CONSISTENCY", "exact_inv_freq", "cos_sin_words", "round_scaled", "rotate_words",
           "rotate_words_dd", "split"]

ANGLE_LIMIT = 2.0**41
"""Largest :math:`|p\\,\\omega|` (radians) ``precision="exact"`` accepts: the angle in table steps then stays below
:math:`2^{52}`, where its integer part is exact in float64."""
CONSISTENCY = 2.0**-26
"""Relative distance beyond which a stored ``inv_freq`` is not its recorded formula's (fast mode is within
:math:`2^{-40}` of it for every parameter the registry draws)."""


def exact_inv_freq(freqs: Any) -> tuple[Multi, float]:
    """``(omega, magnitude)``: the inverse frequencies in three words and the stored float64 magnitude.

    >>> from refrope import inv_freq
    >>> omega, m = exact_inv_freq(inv_freq("default", 96))
    >>> omega.words[1][1] != 0, m  # 10000^(-2/96) is not a float64: its second word carries the rest
    (np.True_, 1.0)
    """
    if isinstance(freqs, Frequencies) and freqs.variant in VARIANTS:
        key = _key(freqs.params)
        words = _words(freqs.variant, freqs.rotary_dim, freqs.params) if key is None else \
            _memo_words(VARIANTS[freqs.variant], freqs.rotary_dim, key)
        omega = Multi(words)
        _check_consistent(freqs, omega)
        return omega, freqs.attention_factor
    if not isinstance(freqs, Frequencies):
        freqs = Frequencies(freqs)
    return Multi.of(freqs.inv_freq, EXACT.words), freqs.attention_factor


def _words(variant: str, rotary_dim: int, params: Any) -> tuple:
    """The three read-only words of a registry variant's exact frequencies at its recorded ``params``."""
    params = dict(params)
    theta = params.pop("theta")
    omega, _, _, _ = evaluate(variant, rotary_dim, theta, params, EXACT)
    omega = Multi.of(omega, EXACT.words)
    words = tuple(np.array(np.broadcast_to(w, omega.shape)) for w in omega.words)
    for w in words:
        w.setflags(write=False)
    return words


@lru_cache(maxsize=64)
def _memo_words(spec: Any, rotary_dim: int, key: tuple) -> tuple:
    """:func:`_words` memoized by the registry entry and a parameter key (:func:`_key`): a pure function of its
    arguments, as the frequencies are of their formula and parameters; the triple-double evaluation costs
    milliseconds."""
    return _words(spec.name, rotary_dim, {name: list(value) if isinstance(value, tuple) else value
                                          for name, _, value in key})


def _key(params: Any) -> tuple | None:
    """A hashable key of a parameter mapping (sequences as tuples of floats, each value with its type's name), or
    None when some value has no such form."""
    out = []
    for name, value in sorted(params.items()):
        if isinstance(value, (list, tuple, np.ndarray)):
            try:
                value = tuple(float(v) for v in np.asarray(value, dtype=np.float64).reshape(-1))
            except (TypeError, ValueError):
                return None
        elif not isinstance(value, (bool, int, float, str, type(None))):
            return None
        out.append((name, type(value).__name__, value))
    return tuple(out)


def _check_consistent(freqs: Frequencies, omega: Multi) -> None:
    rounded = omega.to_float()
    stored = freqs.inv_freq
    bad = np.abs(stored - rounded) > CONSISTENCY * np.abs(rounded)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(
            f"freqs.inv_freq is not the formula of variant {freqs.variant!r} at its recorded params (pair {i}: "
            f"stored {stored[i]!r}, formula {rounded[i]!r}); precision='exact' recomputes a registry variant from "
            f"its params: pass the inverse frequencies as an array (or variant='custom') to use them as given")


def cos_sin_words(positions: np.ndarray, omega: Multi, positions_lo: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""``(cos_hi, cos_lo, sin_hi, sin_lo)`` of :math:`p\,\omega_i`, shape ``positions.shape + (d/2,)``, within
    :math:`2^{-100}` (relative, and absolute below 1) of the exact values; ``ValueError`` beyond
    :data:`ANGLE_LIMIT`. ``positions_lo``: the low words of double-double positions (:func:`cos_sin_dd`).

    >>> c_hi, c_lo, s_hi, s_lo = cos_sin_words(np.array([0.0, 2.0**40]), Multi.of(np.array([1.0]), 3))
    >>> c_hi[:, 0].tolist(), float(s_hi[1, 0])  # cos and sin of 2^40, correctly rounded
    ([1.0, -0.914004071991557], -0.40570501153282873)
    """
    positions = np.asarray(positions, dtype=np.float64)
    largest = float(np.max(np.abs(positions), initial=0.0)) * float(np.max(np.abs(omega.words[0]), initial=0.0))
    if not largest <= ANGLE_LIMIT:
        raise ValueError(f"precision='exact' needs every angle |position * inv_freq| <= 2**41, got "
                         f"max |position| = {float(np.max(np.abs(positions)))!r} with max |inv_freq| = "
                         f"{float(np.max(np.abs(omega.words[0])))!r}")
    return cos_sin_dd(positions, steps_per_radian(omega), positions_lo)


def round_scaled(hi: np.ndarray, lo: np.ndarray, magnitude: float) -> np.ndarray:
    """:math:`m(h + \\ell)` rounded once to float64 (``hi`` itself when :math:`m = 1`).

    >>> float(round_scaled(np.array(1.0), np.array(2.0**-60), 3.0)) == 3.0 + 3 * 2.0**-60
    True
    """
    if magnitude == 1.0:
        return hi
    p, e = two_prod(hi, magnitude)
    return p + (e + lo * magnitude)


def rotate_words(a: np.ndarray, b: np.ndarray, words, magnitude: float, splits=None) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`m(a\cos\phi - b\sin\phi)` and :math:`m(b\cos\phi + a\sin\phi)` with :math:`\cos\phi`,
    :math:`\sin\phi` the double-doubles ``words`` = ``(cos_hi, cos_lo, sin_hi, sin_lo)``: the products of the
    high words exact, each output rounded once (shapes broadcast). ``splits``, if given, is
    ``split(cos_hi) + split(sin_hi)`` (computed once per position when many rows share it).

    >>> oa, ob = rotate_words(np.array([1.0]), np.array([0.0]), (np.array([0.0]), np.array([0.0]), np.array([1.0]),
    ...                                                           np.array([0.0])), 2.0)
    >>> oa.tolist(), ob.tolist()
    ([0.0], [2.0])
    """
    (first, tail1), (second, tail2) = _rotated(a, b, words, splits)
    return _rounded(first, tail1, magnitude), _rounded(second, tail2, magnitude)


def rotate_words_dd(a: np.ndarray, b: np.ndarray, words, magnitude: float, splits=None) -> tuple:
    r""":func:`rotate_words` without the final rounding: ``((first_hi, first_lo), (second_hi, second_lo))``, each
    within :math:`2^{-95}\,m\,\|(a, b)\|` of the exact value (exact attention rotates q and k with it).

    >>> (ah, al), (bh, bl) = rotate_words_dd(np.array([3.0]), np.array([1.0]), (np.array([0.5]),
    ...     np.array([0.0]), np.array([0.75]), np.array([0.0])), 1.0)
    >>> float(ah[0]), float(bh[0])
    (0.75, 2.75)
    """
    parts = _rotated(a, b, words, splits)
    out = []
    for high, tail in parts:
        hi, lo = two_sum(high, tail)
        if magnitude != 1.0:
            p, e = two_prod(hi, magnitude)
            hi, lo = two_sum(p, e + lo * magnitude)
        out.append((hi, lo))
    return tuple(out)


def _rotated(a, b, words, splits):
    """The two outputs of the pair rotation as (high, small tail), every product of high words exact."""
    c_hi, c_lo, s_hi, s_lo = words
    ah, al = split(a)
    bh, bl = split(b)
    ch, cl, sh, sl = splits if splits is not None else split(c_hi) + split(s_hi)
    ac, ac_e = two_prod_split(a, ah, al, c_hi, ch, cl)
    bs, bs_e = two_prod_split(b, bh, bl, s_hi, sh, sl)
    bc, bc_e = two_prod_split(b, bh, bl, c_hi, ch, cl)
    as_, as_e = two_prod_split(a, ah, al, s_hi, sh, sl)
    first, e1 = two_sum(ac, -bs)
    second, e2 = two_sum(bc, as_)
    return ((first, ((ac_e - bs_e) + e1) + (a * c_lo - b * s_lo)),
            (second, ((bc_e + as_e) + e2) + (b * c_lo + a * s_lo)))


def _rounded(high: np.ndarray, tail: np.ndarray, magnitude: float) -> np.ndarray:
    """:math:`m(h + t)` rounded once (``high`` the large part, ``tail`` the small one)."""
    if magnitude == 1.0:
        return high + tail
    p, e = two_prod(high, magnitude)
    return p + (e + tail * magnitude)
