"""The error bounds of fast mode, as docs/spec/numerics.md [N-FAST-1] states them.

[N-FAST-1]: ``inv_freq`` pair ``i`` is within ``C_v`` ulps of the exact value, ``C_v`` the variant's constant
below ([N-FAST-2], for angles, is computed in the test from the stored frequencies' measured error).
"""

from __future__ import annotations

import math

CONSTANT = {"default": 3, "linear": 4, "longrope": 4, "proportional": 4, "ntk_base": 4, "mixed_radix": 5,
            "ntk_aware": 7, "ntk_fixed": 7, "dynamic_ntk": 10, "yarn": 8, "llama3": 8, "dynamic_yarn": 10,
            "ntk_by_parts": 17}
"""``C_v`` in ulps; ``ntk_mixed`` has ``6 + 3 ln k`` (its exponent's relative error times the exponent)."""


def constant(variant: str, params: dict) -> float:
    """``C_v`` of [N-FAST-1] for a variant at its parameters."""
    if variant == "ntk_mixed":
        return 6.0 + 3.0 * math.log(params["factor"])
    return CONSTANT[variant]


def inv_freq_bound(variant: str, d: int, theta: float, params: dict, exact: list) -> list:
    """[N-FAST-1] per pair, in ulps of the exact value."""
    return [constant(variant, params)] * (d // 2)
