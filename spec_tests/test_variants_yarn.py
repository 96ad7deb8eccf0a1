"""[F-YARN-*], [F-PARTS-1], [F-DYNYARN-1]: YaRN and the YaRN repo's variants (docs/spec/frequencies.md).

The reference implementations below follow the code of jquesnelle/yarn
(`scaled_rope/LlamaYaRNScaledRotaryEmbedding.py`) and transformers 5.24 (`modeling_rope_utils.py`,
`_compute_yarn_parameters`): loops over pairs, math.floor/ceil, independently of refrope's vectorised code.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from spec_tests.bounds import EPS
from spec_tests.strategies import factors, lengths, rotary_dims, thetas, variant_params


def _corr_dim(rot, d, theta, length):
    return d * math.log(length / (rot * 2 * math.pi)) / (2 * math.log(theta))


def _ramp_bounds(fast, slow, d, theta, length, truncate=True):
    low, high = _corr_dim(fast, d, theta, length), _corr_dim(slow, d, theta, length)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, d - 1)
    return low, (high + 0.001 if low == high else high)


def _ref_yarn(d, theta, k, length, fast=32.0, slow=1.0, truncate=True):
    low, high = _ramp_bounds(fast, slow, d, theta, length, truncate)
    out = []
    for i in range(d // 2):
        omega = 1.0 / theta ** (2 * i / d)
        ramp = min(max((i - low) / (high - low), 0.0), 1.0)
        extrap = 1.0 - ramp
        out.append(omega / k * (1 - extrap) + omega * extrap)
    return np.array(out)


def _rtol(theta):
    return 32 * EPS * (1 + math.log(theta))


@given(data=st.data())
def test_yarn_ramp_in_pair_index(data):
    """[F-YARN-1] omega' = omega/k (1 - e) + omega e, e = 1 - clip((i - low)/(high - low)), bounds from c(r)."""
    d = data.draw(rotary_dims, label="d")
    theta = data.draw(thetas, label="theta")
    p = data.draw(variant_params("yarn", d), label="params")
    got = refrope.inv_freq("yarn", d, theta=theta, **p).inv_freq
    want = _ref_yarn(d, theta, p["factor"], p["original_max_position_embeddings"], p["beta_fast"], p["beta_slow"],
                     p["truncate"])
    np.testing.assert_allclose(got, want, rtol=_rtol(theta))


def test_gpt_oss_correction_range_truncate_false():
    """[F-YARN-2] gpt-oss (theta 150000, k 32, L 4096, beta 32/1, d 64): low = 8.0928, high = 17.3980 unrounded
    (40-digit mpmath)."""
    from refrope.frequencies.yarn import correction_range

    with mpmath.workdps(40):
        c = lambda r: 64 * mpmath.log(4096 / (r * 2 * mpmath.pi)) / (2 * mpmath.log(150000))  # noqa: E731
        low, high = float(c(32)), float(c(1))
    assert round(low, 2) == 8.09 and round(high, 2) == 17.40          # vllm-project/vllm#28244
    got = correction_range(32.0, 1.0, 64, 150000.0, 4096.0, truncate=False)
    assert math.isclose(got[0], low, rel_tol=16 * EPS) and math.isclose(got[1], high, rel_tol=16 * EPS)
    assert correction_range(32.0, 1.0, 64, 150000.0, 4096.0, truncate=True) == (8, 18)
    kw = dict(theta=150000.0, factor=32.0, original_max_position_embeddings=4096)
    soft = refrope.inv_freq("yarn", 64, truncate=False, **kw).inv_freq
    hard = refrope.inv_freq("yarn", 64, truncate=True, **kw).inv_freq
    np.testing.assert_allclose(soft, _ref_yarn(64, 150000.0, 32.0, 4096, truncate=False), rtol=_rtol(150000.0))
    changed = np.flatnonzero(soft != hard)
    assert changed.min() >= 8 and changed.max() <= 17 and changed.size > 0   # only inside the ramp


@given(k=factors, length=lengths, d=rotary_dims, theta=thetas,
       mscale=st.floats(0.1, 3.0), mscale_all=st.floats(0.1, 3.0), explicit=st.floats(0.1, 3.0))
def test_yarn_magnitude_rules(k, length, d, theta, mscale, mscale_all, explicit):
    """[F-YARN-3] explicit attention_factor replaces; else the mscale ratio when both non-zero; else 0.1 ln k + 1."""
    kw = dict(theta=theta, factor=k, original_max_position_embeddings=length)
    g = lambda s, mu=1.0: 1.0 if s <= 1 else 0.1 * mu * math.log(s) + 1.0  # noqa: E731  (YaRN eq. 22, HF get_mscale)
    assert math.isclose(refrope.inv_freq("yarn", d, **kw).attention_factor, g(k), rel_tol=4 * EPS)
    assert refrope.inv_freq("yarn", d, attention_factor=explicit, mscale=mscale, mscale_all_dim=mscale_all,
                            **kw).attention_factor == explicit
    ratio = refrope.inv_freq("yarn", d, mscale=mscale, mscale_all_dim=mscale_all, **kw).attention_factor
    assert math.isclose(ratio, g(k, mscale) / g(k, mscale_all), rel_tol=8 * EPS)
    for zero in ({"mscale": 0.0, "mscale_all_dim": mscale_all}, {"mscale": mscale}, {"mscale_all_dim": mscale_all}):
        assert math.isclose(refrope.inv_freq("yarn", d, **zero, **kw).attention_factor, g(k), rel_tol=4 * EPS)
    assert refrope.get_mscale(1.0, mscale) == 1.0 and refrope.get_mscale(0.5) == 1.0


def test_deepseek_softmax_factor():
    """[F-YARN-4] DeepSeek-V3 (k 40, mscale = mscale_all_dim = 1): cos/sin magnitude exactly 1,
    logit factor (0.1 ln 40 + 1)^2."""
    f = refrope.inv_freq("yarn", 64, factor=40.0, original_max_position_embeddings=4096, mscale=1.0, mscale_all_dim=1.0)
    assert f.attention_factor == 1.0
    want = (0.1 * math.log(40.0) + 1.0) ** 2
    assert math.isclose(refrope.deepseek_softmax_factor(40.0, 1.0), want, rel_tol=4 * EPS)
    assert round(want, 3) == 1.874
    assert refrope.deepseek_softmax_factor(40.0, 0.0) == 1.0 and refrope.deepseek_softmax_factor(40.0, None) == 1.0
    assert math.isclose(refrope.deepseek_softmax_factor(40.0, 0.707), (0.0707 * math.log(40.0) + 1) ** 2,
                        rel_tol=8 * EPS)


@given(data=st.data())
def test_yarn_bounded_and_exact_outside_the_ramp(data):
    """[F-YARN-5] omega/k <= omega' <= omega; pairs at or below low keep omega, pairs at or above high are omega/k
    exactly."""
    d = data.draw(rotary_dims, label="d")
    theta = data.draw(thetas, label="theta")
    p = data.draw(variant_params("yarn", d), label="params")
    got = refrope.inv_freq("yarn", d, theta=theta, **p).inv_freq
    omega = refrope.inv_freq("default", d, theta=theta).inv_freq
    k = p["factor"]
    assert np.all(got <= omega * (1 + 4 * EPS)) and np.all(got >= omega / k * (1 - 4 * EPS))
    low, high = _ramp_bounds(p["beta_fast"], p["beta_slow"], d, theta, p["original_max_position_embeddings"],
                             p["truncate"])
    i = np.arange(d // 2)
    if high > low:  # a degenerate range (high < low: tiny L or tiny d) inverts the ramp; only the bounds hold then
        assert np.array_equal(got[i <= low], omega[i <= low])
        assert np.array_equal(got[i >= high], omega[i >= high] / k)


@given(d=rotary_dims, theta=thetas, k=factors, length=lengths, fast=st.floats(2.0, 64.0), data=st.data())
def test_yarn_continuous_in_its_parameters(d, theta, k, length, fast, data):
    """[F-YARN-5] With truncate=False the frequencies move continuously with beta_fast (no jump at the ramp edges)."""
    slow = data.draw(st.floats(0.25, fast / 1.5), label="slow")
    kw = dict(theta=theta, factor=k, original_max_position_embeddings=length, beta_slow=slow, truncate=False)
    a = refrope.inv_freq("yarn", d, beta_fast=fast, **kw).inv_freq
    b = refrope.inv_freq("yarn", d, beta_fast=fast * (1 + 1e-9), **kw).inv_freq
    assert np.all(np.abs(a - b) <= 1e-6 * a)


def test_yarn_huge_beta_fast_last_pairs_interpolated():
    """[F-YARN-5] HF's test: with a huge beta_fast the ramp starts at 0; the last pairs equal default / factor."""
    f = refrope.inv_freq("yarn", 128, factor=10.0, original_max_position_embeddings=2048, beta_fast=1e12)
    omega = refrope.inv_freq("default", 128).inv_freq
    assert np.array_equal(f.inv_freq[-20:], omega[-20:] / 10.0)


def _ref_part_ntk(d, theta, k, length, ntk_factor=1.0, extrapolation_factor=1.0):
    """jquesnelle/yarn LlamaPartNTKScaledRotaryEmbedding, as described: two truncated ramps, three frequency sets."""
    base_f = np.array([1.0 / theta ** (2 * i / d) for i in range(d // 2)])
    lin_f = base_f / k
    new_base = theta * k ** (d / (d - 2)) if d > 2 else theta
    ntk_f = np.array([1.0 / new_base ** (2 * i / d) for i in range(d // 2)])
    low, high = _ramp_bounds(1.25, 0.75, d, theta, length)
    mask = np.array([(1 - min(max((i - low) / (high - low), 0), 1)) * ntk_factor for i in range(d // 2)])
    inv = lin_f * (1 - mask) + ntk_f * mask
    low, high = _ramp_bounds(16.0, 2.0, d, theta, length)
    mask = np.array([(1 - min(max((i - low) / (high - low), 0), 1)) * extrapolation_factor for i in range(d // 2)])
    return inv * (1 - mask) + base_f * mask


@given(data=st.data())
def test_ntk_by_parts_matches_yarn_repo(data):
    """[F-PARTS-1] ntk_by_parts: linear, NTK-aware and RoPE blended by the (1.25, 0.75) and (16, 2) ramps, magnitude
    1."""
    d = data.draw(rotary_dims, label="d")
    theta = data.draw(thetas, label="theta")
    p = data.draw(variant_params("ntk_by_parts", d), label="params")
    f = refrope.inv_freq("ntk_by_parts", d, theta=theta, **p)
    want = _ref_part_ntk(d, theta, p["factor"], p["original_max_position_embeddings"], p["ntk_factor"],
                         p["extrapolation_factor"])
    np.testing.assert_allclose(f.inv_freq, want, rtol=_rtol(theta) * (1 + math.log(p["factor"])))
    assert f.attention_factor == 1.0


@given(d=rotary_dims, theta=thetas, length=lengths, data=st.data())
def test_dynamic_yarn_states(d, theta, length, data):
    """[F-DYNYARN-1] RoPE below M; YaRN at s = seq_len/L past M, or s = M/L when finetuned;
    magnitude get_mscale(s) * attn_factor."""
    limit = data.draw(st.integers(length, 4 * length), label="M")
    attn = data.draw(st.floats(0.5, 2.0), label="attn_factor")
    kw = dict(theta=theta, original_max_position_embeddings=length, max_position_embeddings=limit, attn_factor=attn)
    below = data.draw(st.integers(0, limit), label="short")
    above = data.draw(st.integers(limit + 1, 16 * limit), label="long")
    g = lambda s: 1.0 if s <= 1 else 0.1 * math.log(s) + 1.0  # noqa: E731
    plain = refrope.inv_freq("dynamic_yarn", d, seq_len=below, **kw)
    assert np.array_equal(plain.inv_freq, refrope.inv_freq("default", d, theta=theta).inv_freq)
    assert plain.attention_factor == 1.0
    grown = refrope.inv_freq("dynamic_yarn", d, seq_len=above, **kw)
    np.testing.assert_allclose(grown.inv_freq, _ref_yarn(d, theta, above / length, length), rtol=_rtol(theta))
    assert math.isclose(grown.attention_factor, g(above / length) * attn, rel_tol=8 * EPS)
    tuned = refrope.inv_freq("dynamic_yarn", d, seq_len=below, finetuned=True, **kw)
    np.testing.assert_allclose(tuned.inv_freq, _ref_yarn(d, theta, limit / length, length), rtol=_rtol(theta))
    assert math.isclose(tuned.attention_factor, g(limit / length) * attn, rel_tol=8 * EPS)
    with pytest.raises(ValueError, match="max_position_embeddings"):
        refrope.inv_freq("dynamic_yarn", d, theta=theta, original_max_position_embeddings=length,
                         max_position_embeddings=length - 1, seq_len=1)
