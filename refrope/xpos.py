r"""xPos: RoPE whose rotated pair :math:`i` is also scaled by :math:`\zeta_i^{\pm p/B}` (queries up, keys down).

With :math:`\zeta_i = (2i/d + \gamma)/(1 + \gamma) \in (0, 1)` (:math:`d` the rotary dimension,
:math:`\gamma` = ``gamma``, :math:`B` = ``scale_base``), a query at :math:`m` is :math:`\zeta^{m/B} R_m q` and a key
at :math:`n` is :math:`\zeta^{-n/B} R_n k`, so their score is (identity X1 of kexue.fm/archives/9431)

.. math:: \sum_i \zeta_i^{(m - n)/B}\,\big[\text{pair } i \text{ of } q^\top R_{n-m} k\big],

a decay in :math:`m - n \ge 0` on top of RoPE. :math:`\zeta^{\pm p/B}` overflows float64 once
:math:`|p|/B\,|\log\zeta_i| > \log(\text{float64 max}) \approx 709.78`: that is a ``ValueError`` naming
``positions``, never an infinity.

rotary-embedding-torch (``use_xpos=True``, 0.9.1) rotates by the positions :math:`t = 0, \dots, n - 1` but
raises :math:`\zeta` to :math:`(t - \lfloor n/2\rfloor)/B`: its rotated vectors are ``apply_rope`` by
:math:`\lfloor n/2\rfloor` of ``apply_xpos`` at :math:`t - \lfloor n/2\rfloor`, and its scores those of
``apply_xpos`` at :math:`t - \lfloor n/2\rfloor` (a common shift leaves the rotation's relative part unchanged).
Spec: docs/spec/schemes.md, [XPOS-SCALE-1], [XPOS-APPLY-1], [XPOS-X1-1], [XPOS-RANGE-1], [XPOS-RET-1].
Source: Sun et al., *A Length-Extrapolatable Transformer* (arXiv:2212.10554) §3; kexue.fm/archives/9431;
lucidrains/rotary-embedding-torch 0.9.1 ``rotary_embedding_torch.py`` (``get_scale``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._validation import check_choice, check_int, check_real, finite_real_array
from .layouts import check_layout, pair_slices
from .rotary import apply_rope, resolve_freqs

__all__ = ["LOG_MAX", "xpos_scale", "apply_xpos"]

LOG_MAX = math.log(np.finfo(np.float64).max)
"""The largest exponent :math:`e` with a finite :math:`\\exp(e)` in float64 (about 709.78)."""


def _exponents(positions: Any, rotary_dim: int, scale_base: Any, gamma: Any) -> np.ndarray:
    r""":math:`(p/B)\log\zeta_i`, shape ``positions.shape + (rotary_dim/2,)``, checked against ``LOG_MAX``."""
    p = finite_real_array("positions", positions)
    d = check_int("rotary_dim", rotary_dim, minimum=2, even=True)
    base = check_real("scale_base", scale_base, minimum=0.0, strict_minimum=True)
    g = check_real("gamma", gamma, minimum=0.0, strict_minimum=True)
    zeta = (np.arange(0, d, 2, dtype=np.float64) / d + g) / (1.0 + g)
    exponent = (p / base)[..., None] * np.log(zeta)
    if exponent.size and np.abs(exponent).max() > LOG_MAX:
        worst = np.unravel_index(np.argmax(np.abs(exponent)), exponent.shape)
        raise ValueError(f"positions up to |p| = {np.abs(p).max():g} overflow the xPos scale zeta^(p/{base:g}) in "
                         f"float64: |p|/B |log zeta_i| = {abs(exponent[worst]):.6g} > {LOG_MAX:.6g} (at position "
                         f"{p[worst[:-1]]:g}, pair {worst[-1]}); use smaller |positions| or a larger scale_base")
    return exponent


def xpos_scale(positions: Any, rotary_dim: int, *, scale_base: float = 512.0, gamma: float = 0.4) -> np.ndarray:
    r"""The xPos factors :math:`\zeta_i^{p/B}`, computed as :math:`\exp\big((p/B)\log\zeta_i\big)`, float64.

    .. math:: \zeta_i = \frac{2i/d + \gamma}{1 + \gamma}, \qquad i = 0, \dots, d/2 - 1

    Parameters
    ----------
    positions : array_like
        Any real, finite positions.
    rotary_dim : int
        :math:`d`, even, :math:`\ge 2`.
    scale_base : float
        :math:`B > 0` (512 in the paper and in rotary-embedding-torch).
    gamma : float
        :math:`\gamma > 0` (0.4: rotary-embedding-torch's ``(arange(0, d, 2) + 0.4 d) / (1.4 d)``).

    Returns
    -------
    ndarray, float64, shape ``positions.shape + (rotary_dim/2,)``
        Finite: a ``ValueError`` naming ``positions`` when some :math:`|p|/B\,|\log\zeta_i|` exceeds
        ``LOG_MAX`` ([XPOS-RANGE-1]).

    Spec: [XPOS-SCALE-1], [XPOS-RANGE-1]. Source: Sun et al. (arXiv:2212.10554) §3 (:math:`\hat\zeta`);
    rotary-embedding-torch 0.9.1 ``RotaryEmbedding.__init__`` (``scale``) and ``get_scale``.

    >>> xpos_scale([0, 512, -512], 4, gamma=1.0)  # zeta = (1/2, 3/4)
    array([[1.        , 1.        ],
           [0.5       , 0.75      ],
           [2.        , 1.33333333]])
    """
    return np.exp(_exponents(positions, rotary_dim, scale_base, gamma))


def apply_xpos(x: Any, positions: Any, freqs: Any, *, role: str, scale_base: float = 512.0, gamma: float = 0.4,
               layout: str = "half") -> np.ndarray:
    r"""xPos: :func:`refrope.apply_rope` with rotated pair :math:`i` times :math:`\zeta_i^{+p/B}` (``role="q"``)
    or :math:`\zeta_i^{-p/B}` (``role="k"``), in float64.

    Parameters
    ----------
    x : array_like, shape ``(..., seq, head_dim)``
        Never modified; the rotary slice is the first ``2 * len(inv_freq)`` coordinates, the rest passes through.
    positions : array_like, broadcastable to ``(..., seq)``
    freqs : Frequencies or array_like ``(d/2,)``
        As for ``apply_rope`` (its magnitude applies too).
    role : {"q", "k"}
    scale_base, gamma
        As for :func:`xpos_scale`.
    layout : {"half", "interleaved", "interleaved_to_half"}

    Returns
    -------
    ndarray, float64, shape of ``x``
        ``ValueError`` naming ``positions`` when a scale would overflow ([XPOS-RANGE-1]), naming ``x`` when
        ``x`` times a finite scale would.

    Spec: [XPOS-APPLY-1], [XPOS-X1-1], [XPOS-RANGE-1]. Source: Sun et al. (arXiv:2212.10554) §3 (eq. for
    :math:`f_q`, :math:`f_k`); kexue.fm/archives/9431 (identity X1); rotary-embedding-torch 0.9.1
    ``rotate_queries_and_keys``.

    >>> apply_xpos([[1.0, 0.0]], [512], [0.0], role="q", gamma=1.0)  # no rotation, zeta_0 = 1/2
    array([[0.5, 0. ]])
    >>> apply_xpos([[1.0, 0.0]], [512], [0.0], role="k", gamma=1.0)
    array([[2., 0.]])
    """
    role = check_choice("role", role, ("q", "k"))
    layout = check_layout(layout)
    omega, _ = resolve_freqs(freqs)
    d = 2 * omega.shape[0]
    exponent = _exponents(positions, d, scale_base, gamma)
    out = apply_rope(x, positions, freqs, layout=layout)
    scale = np.exp(exponent if role == "q" else -exponent)
    a, b = pair_slices(d, layout, output=True)
    finite = np.isfinite(out[..., :d])
    with np.errstate(over="ignore", invalid="ignore"):
        out[..., :d][..., a] *= scale
        out[..., :d][..., b] *= scale
    if np.any(finite & ~np.isfinite(out[..., :d])):
        raise ValueError(f"x times the xPos scale overflows float64 (|x| up to {np.abs(np.asarray(x)).max():g}, "
                         f"scale up to {scale.max():g}); rescale x")
    return out
