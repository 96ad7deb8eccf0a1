"""[F-LLAMA3-*], [F-LONGROPE-*], [F-PROP-*]: model-family schemes (docs/spec/frequencies.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from spec_tests.bounds import EPS
from spec_tests.strategies import factors, lengths, rotary_dims, thetas, variant_params, vectors


def _ref_llama3(d, theta, k, length, low, high):
    """Meta's Llama 3.1 apply_scaling, as transformers 5.24 `modeling_rope_utils.py` (`_compute_llama3_parameters`)
    implements it."""
    out = []
    for i in range(d // 2):
        omega = 1.0 / theta ** (2 * i / d)
        wavelen = 2 * math.pi / omega
        if wavelen < length / high:
            out.append(omega)
        elif wavelen > length / low:
            out.append(omega / k)
        else:
            s = (length / wavelen - low) / (high - low)
            out.append((1 - s) * omega / k + s * omega)
    return np.array(out)


@given(data=st.data())
def test_llama3_bands(data):
    """[F-LLAMA3-1] keep omega below L/high wavelength, omega/k above L/low, smooth interpolation between."""
    d = data.draw(rotary_dims, label="d")
    theta = data.draw(thetas, label="theta")
    p = data.draw(variant_params("llama3", d), label="params")
    f = refrope.inv_freq("llama3", d, theta=theta, **p)
    want = _ref_llama3(d, theta, p["factor"], p["original_max_position_embeddings"], p["low_freq_factor"],
                       p["high_freq_factor"])
    np.testing.assert_allclose(f.inv_freq, want, rtol=32 * EPS * (1 + math.log(theta)))
    assert f.attention_factor == 1.0


def test_llama3_meta_defaults():
    """[F-LLAMA3-1] Llama 3.1 (theta 5e5, k 8, L 8192, low 1, high 4, d 128): bands counted by hand from wavelengths."""
    f = refrope.inv_freq("llama3", 128, theta=500000.0, factor=8.0, original_max_position_embeddings=8192,
                         low_freq_factor=1.0, high_freq_factor=4.0).inv_freq
    omega = refrope.inv_freq("default", 128, theta=500000.0).inv_freq
    wavelen = 2 * np.pi / omega
    kept, scaled = wavelen < 2048, wavelen > 8192
    assert np.array_equal(f[kept], omega[kept]) and np.array_equal(f[scaled], omega[scaled] / 8)
    assert kept.sum() + scaled.sum() < 64 and kept.sum() > 20 and scaled.sum() > 20


@given(d=rotary_dims, theta=thetas, k=factors, length=lengths, low=st.floats(0.25, 4.0), width=st.floats(0.25, 8.0))
def test_llama3_continuous_bounded_monotone(d, theta, k, length, low, width):
    """[F-LLAMA3-2] continuous at both band edges (no jump as L moves), omega/k <= omega' <= omega, omega' decreasing in
    i."""
    kw = dict(theta=theta, factor=k, low_freq_factor=low, high_freq_factor=low + width)
    a = refrope.inv_freq("llama3", d, original_max_position_embeddings=length, **kw).inv_freq
    b = refrope.inv_freq("llama3", d, original_max_position_embeddings=length * (1 + 1e-10), **kw).inv_freq
    assert np.all(np.abs(a - b) <= 1e-7 * a)
    omega = refrope.inv_freq("default", d, theta=theta).inv_freq
    assert np.all(a <= omega * (1 + 4 * EPS)) and np.all(a >= omega / k * (1 - 4 * EPS))
    assert np.all(np.diff(a) <= 0)


@pytest.mark.parametrize("edge", ["high", "low"])
def test_llama3_exactly_at_an_edge(edge):
    """[F-LLAMA3-2] A wavelength exactly at an edge gets the value of both neighbouring bands (s = 1 or 0)."""
    omega = refrope.inv_freq("default", 8, theta=10000.0).inv_freq
    wavelen = 2 * math.pi / omega[2]
    length = wavelen * (4.0 if edge == "high" else 1.0)  # L / high = wavelen, or L / low = wavelen
    f = refrope.inv_freq("llama3", 8, theta=10000.0, factor=8.0, original_max_position_embeddings=length,
                         low_freq_factor=1.0, high_freq_factor=4.0).inv_freq
    want = omega[2] if edge == "high" else omega[2] / 8.0
    assert math.isclose(f[2], want, rel_tol=16 * EPS)


@given(d=rotary_dims, theta=thetas, data=st.data())
def test_longrope_factors_and_policies(d, theta, data):
    """[F-LONGROPE-1] omega'_i = theta^(-2i/d) / e_i; per-call (transformers) and fixed (vLLM) policies are seq_len
    choices."""
    p = data.draw(variant_params("longrope", d), label="params")
    length = p["original_max_position_embeddings"]
    omega = np.array([theta ** (-2 * i / d) for i in range(d // 2)])
    for seq_len, ext in ((None, p["short_factor"]), (length, p["short_factor"]), (3 * length, p["long_factor"])):
        q = dict(p, seq_len=seq_len)
        got = refrope.inv_freq("longrope", d, theta=theta, **q).inv_freq
        np.testing.assert_allclose(got, omega / np.array(ext), rtol=32 * EPS * (1 + math.log(theta)))
    positions = np.arange(length + 5)
    per_call = refrope.inv_freq("longrope", d, theta=theta, **dict(p, seq_len=int(positions.max()) + 1))
    fixed = refrope.inv_freq("longrope", d, theta=theta, **dict(p, seq_len=131072))   # vLLM: max_model_len
    np.testing.assert_allclose(per_call.inv_freq, fixed.inv_freq, rtol=0)


@given(k=st.floats(1.0, 64.0), length=st.integers(2, 1 << 20), explicit=st.floats(0.1, 4.0))
def test_longrope_magnitude(k, length, explicit):
    """[F-LONGROPE-2] sqrt(1 + ln k / ln L) for k > 1, 1 at k = 1; explicit attention_factor replaces it;
    neither, or k < 1, is an error."""
    kw = dict(short_factor=[1.0, 1.0], long_factor=[2.0, 2.0], original_max_position_embeddings=length)
    want = 1.0 if k <= 1 else math.sqrt(1 + math.log(k) / math.log(length))
    assert math.isclose(refrope.inv_freq("longrope", 4, factor=k, **kw).attention_factor, want, rel_tol=4 * EPS)
    assert refrope.inv_freq("longrope", 4, factor=k, attention_factor=explicit, **kw).attention_factor == explicit
    with pytest.raises(ValueError, match="factor"):
        refrope.inv_freq("longrope", 4, **kw)
    with pytest.raises(ValueError, match="factor"):
        refrope.inv_freq("longrope", 4, factor=0.5, **kw)


@given(d=rotary_dims, length=lengths)
def test_longrope_boundary_is_exact(d, length):
    """[F-LONGROPE-3] seq_len = L uses the short factors, L + 1 the long ones, None the short ones
    (cf. unslothai/unsloth#10681)."""
    n = d // 2
    kw = dict(short_factor=[1.0] * n, long_factor=[4.0] * n, original_max_position_embeddings=length, factor=4.0)
    short = refrope.inv_freq("longrope", d, **kw).inv_freq
    assert np.array_equal(refrope.inv_freq("longrope", d, seq_len=length, **kw).inv_freq, short)
    assert np.array_equal(refrope.inv_freq("longrope", d, seq_len=length - 1, **kw).inv_freq, short)
    assert np.array_equal(refrope.inv_freq("longrope", d, seq_len=length + 1, **kw).inv_freq, short / 4.0)


@given(d=rotary_dims, theta=thetas, rho=st.floats(0.0, 1.0), k=factors)
def test_proportional_formula(d, theta, rho, k):
    """[F-PROP-1] rotary_dim is the head dim D: omega_i = theta^(-2i/D)/k for i < floor(rho D / 2), else 0."""
    got = refrope.inv_freq("proportional", d, theta=theta, partial_rotary_factor=rho, factor=k).inv_freq
    r = int(rho * d // 2)
    want = [theta ** (-2 * i / d) / k if i < r else 0.0 for i in range(d // 2)]
    np.testing.assert_allclose(got, want, rtol=32 * EPS * (1 + math.log(theta)), atol=0)
    assert np.all(got[r:] == 0)


@given(theta=thetas, data=st.data())
def test_proportional_is_not_a_partial_rotary(theta, data):
    """[F-PROP-2] Proportional differs from a partial rotary of 2r dims (exponent over D, pairs (i, i + D/2)); pairs
    past r are identity."""
    big_d = 2 * data.draw(st.integers(4, 32), label="D/2")
    rho = data.draw(st.sampled_from([0.25, 0.5, 0.75]), label="rho")
    r = int(rho * big_d // 2)
    prop = refrope.inv_freq("proportional", big_d, theta=theta, partial_rotary_factor=rho)
    x = data.draw(vectors(big_d), label="x")
    p = data.draw(st.integers(1, 1 << 16), label="p")
    y = refrope.apply_rope(x, p, prop, layout="half")
    still = np.r_[r:big_d // 2, big_d // 2 + r:big_d]
    assert np.array_equal(y[still], x[still])
    ones = np.arange(1.0, big_d + 1.0)
    partial = refrope.apply_rope(ones, p, refrope.inv_freq("default", 2 * r, theta=theta), layout="half")
    if r >= 2 and np.abs(np.sin(p * prop.inv_freq[:r])).max() > 1e-3:
        assert not np.allclose(refrope.apply_rope(ones, p, prop, layout="half"), partial)
    np.testing.assert_allclose(prop.inv_freq[1:r], [theta ** (-2 * i / big_d) for i in range(1, r)], rtol=1e-13)
