"""Rounding bounds the core tests state and check (float64 oracle against itself or an independent formula).

An angle :math:`\\phi = p\\,\\omega` computed in float64 carries an absolute error of at most a few
:math:`\\varepsilon|\\phi|` (one rounding for :math:`\\omega`, one for the product), and cos/sin of it a few
:math:`\\varepsilon` more; a rotated coordinate of a pair with norm :math:`r` is therefore off by at most
:math:`c\\,\\varepsilon\\,(1 + |\\phi|)\\,r`. The constant ``C = 8`` covers the handful of roundings involved.
"""

from __future__ import annotations

import numpy as np

EPS = float(np.finfo(np.float64).eps)
C = 8.0


def angle_bound(max_angle: float, scale: float = 1.0) -> float:
    """Absolute bound ``C * eps * (1 + max_angle) * scale`` for one rotated quantity of size ``scale``."""
    return C * EPS * (1.0 + abs(max_angle)) * max(scale, 1e-300)


def max_angle(positions, inv_freq) -> float:
    """``max |p * omega|`` over the given positions and inverse frequencies."""
    p = np.abs(np.asarray(positions, dtype=np.float64)).max(initial=0.0)
    return float(p * np.abs(np.asarray(inv_freq)).max(initial=0.0))
