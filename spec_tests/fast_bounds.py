"""The error bounds of fast mode, as docs/spec/numerics.md [N-FAST-1] and [N-FAST-2] state them, computed here
from the exact (mpmath) quantities of spec_tests/mp_variants.py.

[N-FAST-1]: ``inv_freq`` pair ``i`` is within ``C_v + kappa_i`` ulps of the exact value, ``C_v`` the variant's
constant below and ``kappa_i`` the conditioning term of the two variants whose weight is computed from rounded
float64 quantities (YaRN with ``truncate=False``, Llama 3); [N-FAST-2]: an angle ``p * omega`` computed in
fast mode is within ``(eps_i + u) |p omega|`` of the exact one, ``eps_i`` the relative error of the stored
``omega_i``.
"""

from __future__ import annotations

import math

import mpmath
from mpmath import mpf

from spec_tests import mp_variants as R

U = 2.0**-53

CONSTANT = {"default": 3, "linear": 4, "longrope": 4, "proportional": 4, "ntk_base": 4, "mixed_radix": 5,
            "ntk_aware": 7, "ntk_fixed": 7, "dynamic_ntk": 10, "yarn": 8, "llama3": 7, "dynamic_yarn": 10,
            "ntk_by_parts": 17}
"""``C_v`` in ulps; ``ntk_mixed`` has ``6 + 3 ln k`` (its exponent's relative error times the exponent)."""


def constant(variant: str, params: dict) -> float:
    if variant == "ntk_mixed":
        return 6.0 + 3.0 * math.log(params["factor"])
    return CONSTANT[variant]


def _correction_error(r, d, theta, length):
    """[N-FAST-1]: the absolute error of a correction dimension c(r) computed in float64."""
    c = R._corr(r, d, theta, length)
    return 6 * U * abs(c) + 1.2 * d * U / math.log(theta)


def kappa(variant: str, d: int, theta: float, params: dict, exact: list) -> list:
    """The conditioning term ``kappa_i`` (ulps) of [N-FAST-1]; 0 for the variants without one."""
    n = d // 2
    with mpmath.workdps(R.DPS):
        rope = R._rope(d, theta)
        if variant == "yarn" and not params.get("truncate", True):
            fast, slow, length = params.get("beta_fast", 32.0), params.get("beta_slow", 1.0), \
                params["original_max_position_embeddings"]
            low, high = R._bounds(fast, slow, d, theta, length, False, R.Choices())
            d_low, d_high = _correction_error(fast, d, theta, length), _correction_error(slow, d, theta, length)
            k = mpf(params["factor"])
            out = []
            for i in range(n):
                if not low - 1e-6 <= i <= high + 1e-6:  # outside the ramp the weight is 0 or 1 exactly
                    out.append(0.0)
                    continue
                e = R._keep(i, low, high)
                de = (abs(i - low) * d_high + abs(high - i) * d_low) / (high - low) ** 2 + 3 * U * e
                out.append(float(de * rope[i] * (1 - 1 / k) / (U * exact[i])))
            return out
        if variant == "llama3":
            length, lo, hi = (mpf(params[k]) for k in ("original_max_position_embeddings", "low_freq_factor",
                                                       "high_freq_factor"))
            k = mpf(params["factor"])
            out = []
            for i in range(n):
                ratio = length * rope[i] / (2 * mpmath.pi)  # L / lambda
                if not lo * (1 - 1e-9) <= ratio <= hi * (1 + 1e-9):  # kept or divided: no weight
                    out.append(0.0)
                    continue
                ds = 5.4 * U * ratio / (hi - lo) + 3 * U
                out.append(float(ds * rope[i] * (1 - 1 / k) / (U * exact[i])))
            return out
    return [0.0] * n


def inv_freq_bound(variant: str, d: int, theta: float, params: dict, exact: list) -> list:
    """[N-FAST-1] per pair, in ulps of the exact value."""
    c = constant(variant, params)
    return [c + k for k in kappa(variant, d, theta, params, exact)]
