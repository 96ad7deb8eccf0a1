"""[N-ROPE-3]: the declared budget term of the recurrence angle method (ggml's CPU kernel), checked both ways:
it covers a float32 emulation of the recurrence, the direct budget does not, and a worse recurrence is still
caught with the declaration."""

from __future__ import annotations

import numpy as np
import pytest

import refrope
from refrope import budgets
from refrope.backends import validate
from refrope.backends.oracle import make_backend as oracle

U32 = 2.0**-24


def recurrence_f32(p: int, theta: float, d: int) -> np.ndarray:
    """ggml's ``ggml_rope_cache_init`` loop in NumPy float32: ``theta_0 = p``, ``theta_i = theta_{i-1} * s``."""
    s = np.float32(theta) ** np.float32(-2.0 / d)
    out, value = [], np.float32(p)
    for _ in range(d // 2):
        out.append(value)
        value = np.float32(value * s)
    return np.array(out, dtype=np.float64)


@pytest.mark.parametrize("d", [64, 80, 96, 128, 256])
def test_recurrence_bound_covers_the_float32_recurrence(d):
    """[N-ROPE-3] The float32 recurrence's angle error is within u (C_r i + l_i) |phi_i| for every pair, at
    positions up to 2^20 and bases from 2 to 1e6; and it exceeds the direct allowance 2u|phi| of [N-ROPE-1]
    for some pair, so the term is needed (exact angles from float64, whose error is below 1e-13 relative)."""
    rng = np.random.default_rng(d)
    needed = False
    for theta in [10_000.0, 500_000.0, 1_000_000.0, *rng.uniform(2.0, 1e6, 8)]:
        freqs = refrope.inv_freq("default", d, theta=float(theta))
        allowed = budgets.recurrence_error(freqs, "recurrence") * U32
        for p in [2**20 - 1, 999_999, *rng.integers(1, 2**20, 8)]:
            exact = float(p) * freqs.inv_freq
            relative = np.abs(recurrence_f32(int(p), float(theta), d) - exact) / exact
            assert np.all(relative <= allowed + 2 * U32), (theta, p, np.max(relative / (allowed + 2 * U32)))
            needed = needed or bool(np.any(relative > 2 * U32 + 1e-30))
    assert needed


def test_recurrence_term_is_zero_for_the_direct_method_and_at_pair_zero():
    """[N-ROPE-3] The direct method's term is 0 everywhere and the recurrence's is 0 at pair 0 (theta_0 = p is
    exact), so nothing else is widened; an unknown method is a ValueError naming it."""
    freqs = refrope.inv_freq("yarn", 64, theta=1e6, factor=8.0, original_max_position_embeddings=4096)
    assert np.all(budgets.recurrence_error(freqs) == 0.0)
    assert budgets.recurrence_error(freqs, "recurrence")[0] == 0.0
    x, pos = np.ones((2, 64)), np.array([0, 2**20])
    direct = budgets.rope_budget(x, pos, freqs, dtype="float32", angle_dtype="float32")
    wide = budgets.rope_budget(x, pos, freqs, dtype="float32", angle_dtype="float32", angle_method="recurrence")
    assert np.array_equal(direct[0], wide[0]) and np.all(wide[1, 1:32] > direct[1, 1:32])
    with pytest.raises(ValueError, match="angle_method"):
        budgets.recurrence_error(freqs, "pow")


def test_validate_checks_the_angle_method():
    """[N-ROPE-3] [K-PROTO-1] A backend's angle_method defaults to "direct"; an unknown one, or "recurrence" with
    attention (which has no recurrence term), is a ValueError naming angle_method."""
    assert validate(oracle(), "refrope").angle_method == "direct"

    class Bad(type(oracle())):
        angle_method = "lookup"

    with pytest.raises(ValueError, match="angle_method"):
        validate(Bad(), "bad")
    Bad.angle_method = "recurrence"
    with pytest.raises(ValueError, match="attention"):
        validate(Bad(), "bad")


def _recurrence_backend(ratio_dtype):
    torch = pytest.importorskip("torch")
    from spec_tests.meta.mutants.angle_recurrence_undeclared import Mutant, recurrence_angles

    class Declared(Mutant):
        angle_method = "recurrence"
        capabilities = frozenset({"apply_rope", "cos_sin", "rotary_offset"})

        def angles(self, positions, freqs):
            return recurrence_angles(self.tensor(positions), freqs, getattr(torch, ratio_dtype))

    return validate(Declared(), f"declared recurrence ({ratio_dtype} ratio)")


def test_declared_recurrence_passes_and_a_worse_one_is_still_caught():
    """[N-ROPE-3] [K-MUT-1] The recurrence mutant passes the apply_rope probe that catches it once it declares
    angle_method = "recurrence"; the same recurrence with its ratio held in bfloat16 fails it even declared."""
    from spec_tests.conformance.assertions import ConformanceFailure
    from spec_tests.meta.test_mutants import run_probe

    probe = {"test": "apply_rope", "variant": "default", "layout": "half"}
    run_probe(_recurrence_backend("float32"), probe)
    with pytest.raises(ConformanceFailure) as info:
        run_probe(_recurrence_backend("bfloat16"), probe)
    assert info.value.clause == "K-APPLY-1"
