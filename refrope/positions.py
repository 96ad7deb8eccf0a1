r"""Training-time position samplers: randomized positions and equal-mean random positions.

Both draw from the ``rng`` they are given (a ``numpy.random.Generator``), their only randomness; the
same generator state gives the same positions.

* :func:`randomized`: :math:`n` distinct integers of :math:`\{0, \dots, L - 1\}`, sorted, every subset equally
  likely: a short training sequence sees the positions of a long one (Ruoss et al.; kexue.fm/archives/9444:
  ``np.sort(np.random.permutation(L)[:N])``).
* :func:`equal_mean`: ``linspace(0, 1, n) * s`` with :math:`E[s] = n`: real positions whose spacing is 1 on
  average (Su's variant in kexue.fm/archives/9444), :math:`s` exponential or a scaled Beta.

Spec: docs/spec/schemes.md, [RAND-SUBSET-1], [RAND-MEAN-1]. Source: Ruoss et al., *Randomized Positional
Encodings Boost Length Generalization of Transformers* (arXiv:2305.16843); kexue.fm/archives/9444.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_choice, check_int, check_real

__all__ = ["randomized", "equal_mean"]


def _generator(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}")
    return rng


def randomized(n: int, max_length: int, *, rng: np.random.Generator) -> np.ndarray:
    r"""``n`` distinct integer positions of :math:`[0, L)`, sorted; every subset of size ``n`` equally likely.

    Parameters
    ----------
    n : int
        :math:`1 \le n \le L`: the training sequence's length.
    max_length : int
        :math:`L`: the longest position range to cover (the test length).
    rng : numpy.random.Generator
        The only randomness (one ``rng.choice(L, n, replace=False)`` call).

    Returns
    -------
    ndarray, float64, shape ``(n,)``
        Integer-valued, strictly increasing, in :math:`[0, L - 1]`.

    Spec: [RAND-SUBSET-1]. Source: Ruoss et al. (arXiv:2305.16843) §3; kexue.fm/archives/9444.

    >>> randomized(3, 3, rng=np.random.default_rng(0))
    array([0., 1., 2.])
    """
    n = check_int("n", n, minimum=1)
    length = check_int("max_length", max_length, minimum=1)
    if n > length:
        raise ValueError(f"n must be <= max_length (distinct positions of [0, max_length)), got n={n}, "
                         f"max_length={length}")
    chosen = _generator(rng).choice(length, size=n, replace=False)
    return np.sort(chosen).astype(np.float64)


def equal_mean(n: int, *, rng: np.random.Generator, distribution: str = "exponential", test_length: Any = None,
               concentration: Any = None) -> np.ndarray:
    r"""``linspace(0, 1, n) * s`` with a random stretch :math:`s \ge 0` of mean :math:`E[s] = n`.

    * ``"exponential"``: :math:`s \sim \mathrm{Exp}(\text{mean } n)` (mean = standard deviation, so positions
      reach a few times :math:`n`); ``test_length`` and ``concentration`` must be None.
    * ``"beta"``: :math:`s = M\,\mathrm{Beta}(\kappa n/M,\; \kappa(1 - n/M))` with :math:`M` = ``test_length``
      :math:`> n` and :math:`\kappa` = ``concentration`` :math:`> 0`: bounded by :math:`M`, mean :math:`n`,
      variance :math:`n(M - n)/(\kappa + 1)`.

    Returns
    -------
    ndarray, float64, shape ``(n,)``
        Real positions from 0, evenly spaced by :math:`s/(n - 1)` (``[0.]`` for :math:`n = 1`).

    Spec: [RAND-MEAN-1]. Source: kexue.fm/archives/9444 (equal-mean random positions; exponential or beta).

    >>> equal_mean(3, rng=np.random.default_rng(0), distribution="beta", test_length=4, concentration=1e12).round(3)
    array([0. , 1.5, 3. ])
    """
    n = check_int("n", n, minimum=1)
    rng = _generator(rng)
    kind = check_choice("distribution", distribution, ("exponential", "beta"))
    if kind == "exponential":
        for name, value in (("test_length", test_length), ("concentration", concentration)):
            if value is not None:
                raise ValueError(f"{name} is for distribution='beta' only, got {name}={value!r} with 'exponential'")
        stretch = rng.exponential(float(n))
    else:
        if test_length is None or concentration is None:
            raise ValueError(f"distribution='beta' needs test_length and concentration, got test_length="
                             f"{test_length!r}, concentration={concentration!r}")
        m = check_real("test_length", test_length, minimum=float(n), strict_minimum=True)
        kappa = check_real("concentration", concentration, minimum=0.0, strict_minimum=True)
        stretch = m * rng.beta(kappa * n / m, kappa * (1.0 - n / m))
    return np.linspace(0.0, 1.0, n) * stretch
