"""[F-FREQ-*], [F-ALL-*], [F-DEFAULT-1], [F-LINEAR-*]: the registry and its shared contracts
(docs/spec/frequencies.md)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from spec_tests.bounds import EPS, angle_bound, max_angle
from spec_tests.strategies import VARIANT_NAMES, frequencies, positions, rotary_dims, thetas, variant_params, vectors

SANDWICH = ["linear", "ntk_aware", "ntk_base", "ntk_fixed", "ntk_mixed", "mixed_radix", "yarn", "llama3",
            "ntk_by_parts"]


@pytest.mark.parametrize("variant", VARIANT_NAMES)
@given(data=st.data())
def test_frequencies_contract(variant, data):
    """[F-FREQ-1] float64 (d/2,) read-only inv_freq, positive magnitude, variant and every parameter recorded."""
    d = data.draw(rotary_dims, label="d")
    theta = data.draw(thetas, label="theta")
    params = data.draw(variant_params(variant, d), label="params")
    f = refrope.inv_freq(variant, d, theta=theta, **params)
    assert isinstance(f, refrope.Frequencies)
    assert f.inv_freq.dtype == np.float64 and f.inv_freq.shape == (d // 2,) and f.rotary_dim == d
    assert not f.inv_freq.flags.writeable
    assert np.all(np.isfinite(f.inv_freq)) and np.all(f.inv_freq >= 0)
    assert isinstance(f.attention_factor, float) and f.attention_factor > 0
    assert f.variant == variant and f.params["theta"] == theta
    assert set(f.params) == {"theta", *refrope.VARIANTS[variant].param_names}
    for name, value in params.items():
        assert f.params[name] is value or f.params[name] == value
    with pytest.raises((AttributeError, TypeError)):
        f.attention_factor = 2.0
    with pytest.raises(ValueError):
        f.inv_freq[0] = 1.0


def test_registry_documents_every_parameter():
    """[F-FREQ-1] Every VARIANTS entry documents name, default or required, meaning, source and its clause."""
    clauses = set()
    for name, spec in refrope.VARIANTS.items():
        assert spec.name == name and spec.clause.startswith("F-") and spec.source and spec.summary
        clauses.add(spec.clause)
        for p in spec.params:
            assert p.name.isidentifier() and p.meaning and isinstance(p.required, bool)
    assert len(clauses) == len(refrope.VARIANTS)


@pytest.mark.parametrize("variant", VARIANT_NAMES)
def test_unknown_and_missing_parameters_are_type_errors(variant):
    """[F-FREQ-2] An unknown parameter, or a missing required one, is a TypeError naming it."""
    spec = refrope.VARIANTS[variant]
    neutral = spec.neutral(8)
    with pytest.raises(TypeError, match="bogus"):
        refrope.inv_freq(variant, 8, bogus=1.0, **neutral)
    for p in spec.params:
        if p.required:
            partial = {k: v for k, v in neutral.items() if k != p.name}
            with pytest.raises(TypeError, match=p.name):
                refrope.inv_freq(variant, 8, **partial)


def test_transformers_parameter_names():
    """[F-FREQ-2] Parameters use transformers' names wherever transformers has the concept."""
    names = {p.name for v in refrope.VARIANTS.values() for p in v.params}
    hf = {"factor", "original_max_position_embeddings", "beta_fast", "beta_slow", "mscale", "mscale_all_dim",
          "attention_factor", "truncate", "low_freq_factor", "high_freq_factor", "short_factor", "long_factor",
          "partial_rotary_factor", "seq_len"}
    assert hf <= names
    assert {"b", "radices"} <= names  # the source's names where transformers has none
    assert not names & {"scale", "base", "dim", "rope_scaling", "max_positions"}


@pytest.mark.parametrize("variant", VARIANT_NAMES)
@given(d=rotary_dims, theta=thetas)
def test_neutral_parameters_reduce_to_default_exactly(variant, d, theta):
    """[F-ALL-1] With k = 1 (the registry's neutral parameters) every variant is exactly default, magnitude 1."""
    f = refrope.inv_freq(variant, d, theta=theta, **refrope.VARIANTS[variant].neutral(d))
    ref = refrope.inv_freq("default", d, theta=theta)
    assert np.array_equal(f.inv_freq, ref.inv_freq) and f.attention_factor == 1.0


@pytest.mark.parametrize("variant", SANDWICH)
@given(data=st.data())
def test_sandwich_high_frequencies_extrapolate_low_interpolate(variant, data):
    """[F-ALL-2] omega/k <= omega' <= omega and omega'/omega non-increasing in i (kexue.fm/archives/9675:
    high frequencies extrapolate, low ones interpolate; transformers 5.24 `tests/utils/test_modeling_rope_utils.py`)."""
    d = data.draw(rotary_dims, label="d")
    theta = data.draw(thetas, label="theta")
    params = data.draw(variant_params(variant, d), label="params")
    f = refrope.inv_freq(variant, d, theta=theta, **params)
    omega = refrope.inv_freq("default", d, theta=theta).inv_freq
    k = float(np.prod(params["radices"])) if variant == "mixed_radix" else params["factor"]
    ratio = f.inv_freq / omega
    tol = 16 * EPS
    assert np.all(ratio <= 1 + tol) and np.all(ratio >= 1 / k - tol), ratio
    assert np.all(np.diff(ratio) <= tol), ratio


@given(d=rotary_dims, theta=thetas)
def test_default_matches_high_precision(d, theta):
    """[F-DEFAULT-1] omega_i = theta^(-2i/d) within 4 + ln(theta) ulp of a 40-digit mpmath evaluation.

    The bound: the exponent -2i/d is rounded (relative eps) and pow amplifies that by |ln omega_i| <= ln theta.
    """
    with mpmath.workdps(40):
        want = np.array([float(mpmath.mpf(theta) ** (-mpmath.mpf(2 * i) / d)) for i in range(d // 2)])
    got = refrope.inv_freq("default", d, theta=theta).inv_freq
    np.testing.assert_array_max_ulp(got, want, maxulp=4 + int(np.ceil(np.log(theta))))
    assert got[0] == 1.0


def test_default_golden_values():
    """[F-DEFAULT-1] Hand values: d = 8, theta = 1e4 gives 1, 0.1, 0.01, 0.001 (to 1 ulp)."""
    got = refrope.inv_freq("default", 8).inv_freq
    np.testing.assert_array_max_ulp(got, np.array([1.0, 0.1, 0.01, 0.001]), maxulp=1)


@given(f=frequencies("default"), k=st.floats(1.0, 64.0))
def test_linear_is_default_over_factor(f, k):
    """[F-LINEAR-1] linear: omega_i / k exactly (one division)."""
    lin = refrope.inv_freq("linear", f.rotary_dim, theta=f.params["theta"], factor=k)
    assert np.array_equal(lin.inv_freq, f.inv_freq / k) and lin.attention_factor == 1.0


@given(f=frequencies("default"), k=st.sampled_from([2.0, 4.0, 8.0]) | st.floats(1.0, 16.0),
       i=positions(2**16), j=positions(2**16), data=st.data())
def test_pi_scores_equal_rope_at_divided_positions(f, k, i, j, data):
    """[F-LINEAR-2] PI scores at (i, j) equal RoPE scores at (i/k, j/k); the relative matrix is RoPE's / k
    (PI, arXiv:2306.15595; kexue.fm/archives/9708 §8.1)."""
    lin = refrope.inv_freq("linear", f.rotary_dim, theta=f.params["theta"], factor=k)
    q, k_vec = data.draw(vectors(f.rotary_dim), label="q"), data.draw(vectors(f.rotary_dim), label="k")
    pi_score = refrope.apply_rope(q, i, lin) @ refrope.apply_rope(k_vec, j, lin)
    rope_score = refrope.apply_rope(q, i / k, f) @ refrope.apply_rope(k_vec, j / k, f)
    bound = 4 * angle_bound(max_angle([i, j], lin.inv_freq), np.linalg.norm(q) * np.linalg.norm(k_vec))
    assert abs(pi_score - rope_score) <= bound
