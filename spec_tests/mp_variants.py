"""Every frequency variant's formula written out in mpmath, from docs/spec/frequencies.md (not from refrope), and
the measures the precision tests use: ulps of an mpmath value, the exact angle of a position.

Discontinuous choices (YaRN's floored and ceiled correction dimensions, Gemma4's number of rotated pairs) are
made here in exact arithmetic; :func:`reference` reports them, so a test can skip the vanishingly rare draws
where float64 (the spec's choice, docs/spec/precision.md [P-EXACT-2]) and exact arithmetic choose differently.
"""

from __future__ import annotations

import mpmath
from mpmath import mpf

DPS = 60
"""Working precision of every reference value (decimal digits)."""


def ulps(got: float, want) -> float:
    """``|got - want|`` in units of the last place of ``want`` (float64 ulp at ``want``'s binade)."""
    with mpmath.workdps(DPS):
        want = mpf(want)
        if want == 0:
            return float(abs(mpf(got)) / mpf(2) ** -1074)
        _, exponent = mpmath.frexp(want)  # want = m 2^e, 0.5 <= |m| < 1
        unit = mpf(2) ** (max(exponent, -1021) - 53)
        return float(abs(mpf(got) - want) / unit)


def _rope(d: int, theta) -> list:
    return [mpf(theta) ** (-mpf(2 * i) / d) for i in range(d // 2)]


def _ntk_rope(d: int, theta, alpha) -> list:
    alpha = mpf(alpha)
    return [w * (alpha ** (-mpf(2 * i) / (d - 2)) if i else 1) for i, w in enumerate(_rope(d, theta))]


class Choices(dict):
    """The discontinuous choices a reference made, as exact values (name -> exact real before floor/ceil)."""


def _corr(r, d, theta, length):
    return d * mpmath.log(mpf(length) / (mpf(r) * 2 * mpmath.pi)) / (2 * mpmath.log(mpf(theta)))


def _bounds(fast, slow, d, theta, length, truncate, choices):
    low, high = _corr(fast, d, theta, length), _corr(slow, d, theta, length)
    if truncate:
        choices[f"floor c({fast})"], choices[f"ceil c({slow})"] = low, high
        low, high = mpmath.floor(low), mpmath.ceil(high)
    low, high = max(low, mpf(0)), min(high, mpf(d - 1))
    if low == high:
        high = high + mpf(0.001)  # the float64 constant, as the spec says
    return low, high


def _keep(i, low, high):
    """1 - clip((i - low)/(high - low), 0, 1)."""
    return 1 - min(max((i - low) / (high - low), mpf(0)), mpf(1))


def _yarn_blend(omega, scale, low, high, weight=1):
    return [w / scale + _keep(i, low, high) * weight * (w - w / scale) for i, w in enumerate(omega)]


def reference(variant: str, d: int, theta: float, params: dict) -> tuple[list, Choices]:
    """``(omega, choices)``: the exact inverse frequencies (mpf) of ``variant`` and its discontinuous choices."""
    choices = Choices()
    with mpmath.workdps(DPS):
        omega = _reference(variant, d, theta, dict(params), choices)
    return omega, choices


def _reference(variant, d, theta, p, choices):  # noqa: C901 (one branch per variant, as the spec page)
    rope = _rope(d, theta)
    k = mpf(p["factor"]) if p.get("factor") is not None else None
    if variant == "default":
        return rope
    if variant == "linear":
        return [w / k for w in rope]
    if variant == "ntk_aware":
        return _ntk_rope(d, theta, k)
    if variant == "ntk_base":
        return _rope(d, mpf(theta) * k)
    if variant == "ntk_fixed":
        return [w * k ** (-mpf(2 * (i + 1)) / d) for i, w in enumerate(rope)]
    if variant == "ntk_mixed":
        b = mpf(p["b"])
        a = mpmath.log(k) / mpf(d // 2) ** b
        return [w * mpmath.exp(-a * mpf(i + 1) ** b) for i, w in enumerate(rope)]
    if variant == "mixed_radix":
        out, product = [], mpf(1)
        for w, lam in zip(rope, p["radices"]):
            product *= mpf(lam)
            out.append(w / product)
        return out
    if variant == "dynamic_ntk":
        length = mpf(p["original_max_position_embeddings"])
        s = max(mpf(p["seq_len"]), length)
        return _ntk_rope(d, theta, k * s / length - (k - 1))
    if variant == "yarn":
        low, high = _bounds(p.get("beta_fast", 32.0), p.get("beta_slow", 1.0), d, theta,
                            p["original_max_position_embeddings"], p.get("truncate", True), choices)
        return _yarn_blend(rope, k, low, high)
    if variant == "ntk_by_parts":
        length = p["original_max_position_embeddings"]
        b0, b1, g0, g1 = (p.get(n, v) for n, v in (("beta_0", 1.25), ("beta_1", 0.75), ("gamma_0", 16.0),
                                                   ("gamma_1", 2.0)))
        low1, high1 = _bounds(b0, b1, d, theta, length, True, choices)
        low2, high2 = _bounds(g0, g1, d, theta, length, True, choices)
        ntk, nf, xf = _ntk_rope(d, theta, k), mpf(p.get("ntk_factor", 1.0)), mpf(p.get("extrapolation_factor", 1.0))
        first = [w / k + _keep(i, low1, high1) * nf * (n - w / k) for i, (w, n) in enumerate(zip(rope, ntk))]
        return [f + _keep(i, low2, high2) * xf * (w - f) for i, (w, f) in enumerate(zip(rope, first))]
    if variant == "dynamic_yarn":
        length, seq = mpf(p["original_max_position_embeddings"]), mpf(p["seq_len"])
        limit = mpf(p["max_position_embeddings"]) if p.get("max_position_embeddings") is not None else length
        if seq > limit:
            s = seq / length
        elif p.get("finetuned", False):
            s = limit / length
        else:
            return rope
        low, high = _bounds(p.get("beta_fast", 32.0), p.get("beta_slow", 1.0), d, theta, length, True, choices)
        return _yarn_blend(rope, s, low, high, mpf(p.get("extrapolation_factor", 1.0)))
    if variant == "llama3":
        length, lo, hi = (mpf(p[n]) for n in ("original_max_position_embeddings", "low_freq_factor",
                                              "high_freq_factor"))
        out = []
        for w in rope:
            wavelength = 2 * mpmath.pi / w
            if wavelength < length / hi:
                out.append(w)
            elif wavelength > length / lo:
                out.append(w / k)
            else:
                s = (length / wavelength - lo) / (hi - lo)
                out.append((1 - s) * w / k + s * w)
        return out
    if variant == "longrope":
        seq = p.get("seq_len")
        ext = p["long_factor"] if seq is not None and seq > p["original_max_position_embeddings"] else \
            p["short_factor"]
        return [w / mpf(e) for w, e in zip(rope, ext)]
    if variant == "proportional":
        rho = mpf(p.get("partial_rotary_factor", 1.0))
        choices["rotated pairs"] = rho * d / 2
        rotated = int(mpmath.floor(rho * d / 2))
        return [w / k if i < rotated else mpf(0) for i, w in enumerate(rope)]
    raise KeyError(variant)


def choices_agree_with_float64(choices: Choices, variant: str, d: int, theta: float, params: dict) -> bool:
    """Whether every discontinuous choice of :func:`reference` is the one float64 makes (the spec's)."""
    for name, exact in choices.items():
        if name == "rotated pairs":
            if int(params.get("partial_rotary_factor", 1.0) * d // 2) != int(mpmath.floor(exact)):
                return False
        elif abs(exact - mpmath.nint(exact)) < mpf(2) ** -30:  # within float64 reach of an integer: ambiguous
            return False
    return True

