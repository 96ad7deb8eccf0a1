"""The ``precision`` keyword and the frequencies of both modes against every variant's formula in mpmath
(spec_tests/mp_variants.py, 60 digits): fast mode within the bounds of [N-FAST-1], exact mode correctly rounded."""

from __future__ import annotations

import inspect
from dataclasses import replace
from types import MappingProxyType

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from mpmath import mpf

import refrope
from refrope.frequencies import registry
from refrope.precision.exact import exact_inv_freq
from spec_tests import fast_bounds
from spec_tests import mp_variants as R
from spec_tests.strategies import VARIANT_NAMES, rotary_dims, thetas, variant_params


@st.composite
def drawn_variants(draw, names=tuple(VARIANT_NAMES)):
    """``(variant, d, theta, params, exact omega)`` with the float64 and exact discontinuous choices agreeing."""
    name = draw(st.sampled_from(names), label="variant")
    d = draw(rotary_dims | st.sampled_from([80, 96, 128]), label="rotary_dim")
    theta = draw(thetas, label="theta")
    params = draw(variant_params(name, d), label="params")
    exact, choices = R.reference(name, d, theta, params)
    assume(R.choices_agree_with_float64(choices, name, d, theta, params))
    return name, d, theta, params, exact


BAD_PRECISIONS = ["Exact", "double", "", None, 1, True]


@pytest.mark.parametrize("precision", BAD_PRECISIONS)
def test_unknown_precision_is_an_error_naming_it(precision):
    """[P-API-1] An unknown precision raises ValueError naming the value, in inv_freq, cos_sin, apply_rope and
    rotation_matrix."""
    f = refrope.inv_freq("default", 4)
    calls = [lambda: refrope.inv_freq("default", 4, precision=precision),
             lambda: refrope.cos_sin([1], f, precision=precision),
             lambda: refrope.apply_rope(np.ones((1, 4)), [1], f, precision=precision),
             lambda: refrope.rotation_matrix(1.0, f, precision=precision)]
    for call in calls:
        with pytest.raises(ValueError, match=f"precision must be one of .*{precision!r}"):
            call()


@given(case=drawn_variants(), data=st.data())
def test_fast_is_bit_identical_to_omitting_precision(case, data):
    """[P-API-1] precision="fast" gives bit for bit what omitting the keyword gives, for inv_freq and the three
    rotation functions."""
    name, d, theta, params, _ = case
    f = refrope.inv_freq(name, d, theta=theta, **params)
    assert refrope.inv_freq(name, d, theta=theta, precision="fast", **params) == f
    positions = np.array(data.draw(st.lists(st.integers(0, 2**40), min_size=1, max_size=3), label="positions"))
    x = np.linspace(-2.0, 2.0, positions.shape[0] * d).reshape(positions.shape[0], d)
    for fast, default in ((refrope.cos_sin(positions, f, precision="fast"), refrope.cos_sin(positions, f)),
                          (refrope.apply_rope(x, positions, f, precision="fast"), refrope.apply_rope(x, positions, f)),
                          (refrope.rotation_matrix(float(positions[0]), f, precision="fast"),
                           refrope.rotation_matrix(float(positions[0]), f))):
        assert np.array_equal(np.asarray(fast), np.asarray(default))


@given(case=drawn_variants())
def test_fast_inv_freq_within_its_stated_bound(case):
    """[N-FAST-1] Fast mode: every omega'_i within C_v + kappa_i ulps of the formula evaluated in mpmath at 60
    digits, zero frequencies exactly zero."""
    name, d, theta, params, exact = case
    got = refrope.inv_freq(name, d, theta=theta, **params).inv_freq
    bound = fast_bounds.inv_freq_bound(name, d, theta, params, exact)
    errors = [R.ulps(g, w) for g, w in zip(got, exact)]
    assert all(e <= b for e, b in zip(errors, bound)), list(zip(errors, bound))


@pytest.mark.parametrize("d, theta, maxulp", [(96, 10000.0, 1.5), (80, 500000.0, 1.5), (6, 1e6, 1.5)])
def test_fast_default_exponent_is_not_rounded(d, theta, maxulp):
    """[N-FAST-1] At a rotary_dim that is not a power of two the exponent -2i/d is not rounded on its own:
    default stays within 1.5 ulps (it reached 5.7 at d = 96 when -2i/d was rounded before the pow)."""
    got = refrope.inv_freq("default", d, theta=theta).inv_freq
    exact, _ = R.reference("default", d, theta, {})
    assert max(R.ulps(g, w) for g, w in zip(got, exact)) <= maxulp


def test_fast_yarn_keep_weight_is_computed_directly():
    """[N-FAST-1] YaRN's keep-weight (h - i)/(h - l) keeps its relative accuracy where it is small: with integer
    bounds (truncate=True) and k = 64 the blend is within C_yarn = 8 ulps at every pair."""
    params = {"factor": 64.0, "original_max_position_embeddings": 4096}
    for d, theta in ((128, 10000.0), (64, 500000.0), (128, 1e6)):
        got = refrope.inv_freq("yarn", d, theta=theta, **params).inv_freq
        exact, _ = R.reference("yarn", d, theta, params)
        assert max(R.ulps(g, w) for g, w in zip(got, exact)) <= fast_bounds.CONSTANT["yarn"]


@pytest.mark.parametrize("variant, d, theta, params", [
    ("yarn", 64, 150000.0, {"factor": 32.0, "original_max_position_embeddings": 4096, "truncate": False}),
    ("yarn", 96, 10000.0, {"factor": 32.0, "original_max_position_embeddings": 8192, "truncate": False,
                           "beta_fast": 24.830608381535892, "beta_slow": 1.8855601834808617}),
    ("llama3", 80, 500000.0, {"factor": 57.06191221836673, "original_max_position_embeddings": 6873,
                              "low_freq_factor": 2.1004927223121976, "high_freq_factor": 5.1}),
    ("llama3", 128, 500000.0, {"factor": 8.0, "original_max_position_embeddings": 8192, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0}),
])
def test_fast_weights_from_two_words(variant, d, theta, params):
    """[N-FAST-1] YaRN's real correction dimensions and Llama 3's smoothing weight are computed in two words: the
    gpt-oss configuration, a pair just inside YaRN's ramp end (124 ulps when the bounds were float64) and a
    Llama 3 weight near low_freq_factor (27 ulps) stay within C = 8 ulps."""
    got = refrope.inv_freq(variant, d, theta=theta, **params).inv_freq
    exact, _ = R.reference(variant, d, theta, params)
    assert max(R.ulps(g, w) for g, w in zip(got, exact)) <= fast_bounds.CONSTANT[variant]


def test_every_variant_formula_takes_xp():
    """[P-EXACT-1] Every registry variant's function takes xp (its formula is written once, against the
    arithmetic namespace), so exact mode evaluates the same formula."""
    missing = [name for name, v in refrope.VARIANTS.items() if "xp" not in inspect.signature(v.function).parameters]
    assert missing == []


@given(case=drawn_variants())
def test_exact_omega_has_140_bits(case):
    """[P-EXACT-1] In exact mode each omega_i, in three words, is within 2^-140 relative of the exact value."""
    name, d, theta, params, exact = case
    omega, magnitude = exact_inv_freq(refrope.inv_freq(name, d, theta=theta, **params))
    with mpmath.workdps(R.DPS):
        for i, want in enumerate(exact):
            got = sum(mpf(float(np.broadcast_to(w, omega.shape)[i])) for w in omega.words)
            assert abs(got - want) <= mpf(2) ** -140 * abs(want), (i, got, want)


@given(case=drawn_variants())
def test_exact_inv_freq_is_rounded_once(case):
    """[P-EXACT-2] inv_freq(..., precision="exact") returns each omega_i within half an ulp (plus 2^-80 ulp) of
    the exact value, and the magnitude of fast mode."""
    name, d, theta, params, exact = case
    f = refrope.inv_freq(name, d, theta=theta, precision="exact", **params)
    assert max(R.ulps(g, w) for g, w in zip(f.inv_freq, exact)) <= 0.5 + 2.0**-80
    assert f.attention_factor == refrope.inv_freq(name, d, theta=theta, **params).attention_factor


def test_exact_mode_keeps_the_float64_discontinuous_choices():
    """[P-EXACT-2] Gemma4's rotated pairs floor(rho D / 2) are counted in float64 in both modes: rho = 0.3,
    D = 20 rotates 3 pairs (0.3 * 20 rounds to 6.0), though the float64 rho is below 0.3 in exact arithmetic."""
    fast = refrope.inv_freq("proportional", 20, partial_rotary_factor=0.3)
    exact = refrope.inv_freq("proportional", 20, partial_rotary_factor=0.3, precision="exact")
    assert np.count_nonzero(fast.inv_freq) == np.count_nonzero(exact.inv_freq) == 3
    want, _ = R.reference("default", 20, 10000.0, {})
    assert all(R.ulps(g, w) <= 0.5 for g, w in zip(exact.inv_freq[:3], want[:3]))


def test_exact_mode_refuses_a_frequencies_that_is_not_its_formula():
    """[P-EXACT-5] A Frequencies under a registry name whose inv_freq is not that formula's is a ValueError in
    exact mode; as an array (or variant "custom") the same values are used as given."""
    wrong = refrope.Frequencies([1.0, 0.5], variant="default", params={"theta": 10000.0})
    for call in (lambda: refrope.cos_sin([3], wrong, precision="exact"),
                 lambda: refrope.apply_rope(np.ones((1, 4)), [3], wrong, precision="exact"),
                 lambda: refrope.rotation_matrix(3.0, wrong, precision="exact")):
        with pytest.raises(ValueError, match="not the formula of variant 'default'"):
            call()
    c, s = refrope.cos_sin([3], [1.0, 0.5], precision="exact")
    assert c[0].tolist() == [float(mpmath.cos(3)), float(mpmath.cos(1.5))] * 2


def test_exact_mode_needs_an_exact_formula(monkeypatch):
    """[P-EXACT-5] A registry variant whose function takes no xp raises ValueError in exact mode (never a silent
    float64 fallback); fast mode still works."""
    entry = refrope.VARIANTS["linear"]
    legacy = replace(entry, function=lambda rotary_dim, theta, *, factor: entry.function(rotary_dim, theta,
                                                                                        factor=factor))
    monkeypatch.setattr(registry, "VARIANTS", MappingProxyType({**registry.VARIANTS, "linear": legacy}))
    f = refrope.inv_freq("linear", 8, factor=2.0)
    with pytest.raises(ValueError, match="'linear' has no exact evaluation"):
        refrope.cos_sin([1], f, precision="exact")
