"""[G-LOGN-1] to [G-CALL-1]: logn, logn†, Llama 4's temperature and the query-scale contract
(docs/spec/query_scale.md)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope import query_scale as qs
from spec_tests.attn_strategies import METHODS, assert_close, attention_cases, bounds
from spec_tests.bounds import EPS

lengths = st.sampled_from([512, 2048, 4096]) | st.integers(2, 2**20)
positions = st.integers(0, 2**24)


@given(length=lengths, p=positions)
def test_logn_is_log_base_training_length_of_n(length, p):
    """[G-LOGN-1] logn(L)(p) = ln(p + 1)/ln L: exactly 0 at p = 0 and 1 at p = L - 1; increasing."""
    f = qs.logn(length)
    assert abs(float(f(p)) - math.log(p + 1) / math.log(length)) <= 4 * EPS * max(1.0, math.log(p + 1))
    assert float(f(0)) == 0.0 and float(f(length - 1)) == 1.0
    assert float(f(p + 1)) > float(f(p))


@given(d=st.sampled_from([64, 128]) | st.integers(1, 256), p=st.integers(0, 10**6))
def test_attention_e_is_logn_512_over_sqrt_d(d, p):
    """[G-LOGN-2] 8823's kappa log n / d with kappa = sqrt(d)/log 512 equals log_512(n)/sqrt(d) (n = p + 1), and the
    factor is exactly 1 at n = 512 (kexue.fm/archives/8823)."""
    n = p + 1
    kappa = math.sqrt(d) / math.log(512)
    assert abs(kappa * math.log(n) / d - float(qs.logn(512)(p)) / math.sqrt(d)) <= 8 * EPS * (1 + math.log(n))
    assert float(qs.logn(512)(511)) == 1.0


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_attention_e_equals_standard_attention_at_512(method, data):
    """[G-LOGN-2] A query at position 511 (n = 512) with logn(512) gets exactly the standard attention."""
    case = data.draw(attention_cases(), label="case")
    case.q = case.q[..., -1:, :]
    case = case.with_kwargs(positions_q=[511.0], positions_k=511.0 - np.arange(case.k.shape[-2])[::-1],
                            query_scale=qs.logn(512))
    assert np.array_equal(case.call(method=method), case.call(method=method, query_scale=None))


@given(length=lengths, p=positions)
def test_logn_clipped_is_one_within_the_training_length(length, p):
    """[G-CLIP-1] max(1, log_L n): exactly 1 for n <= L, ln n / ln L > 1 beyond, continuous at n = L, non-decreasing
    (kexue.fm/archives/9706 eq. 14)."""
    f = qs.logn_clipped(length)
    value, n = float(f(p)), p + 1
    if n <= length:
        assert value == 1.0
    else:
        assert value > 1.0 and abs(value - math.log(n) / math.log(length)) <= 4 * EPS * math.log(n)
    assert float(f(p + 1)) >= value
    assert float(f(length - 1)) == 1.0 and float(f(length)) - 1.0 <= 2.0 / (length * math.log(length))


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data(), length=st.integers(2, 2**17))
def test_logn_clipped_changes_nothing_below_the_training_length(method, data, length):
    """[G-CLIP-1] With every query position below L, logn† attention equals unscaled attention bit for bit
    (kexue.fm/archives/9706 eq. 14)."""
    case = data.draw(attention_cases(explicit_positions=False), label="case")
    case = case.with_kwargs(positions_q=None, positions_k=None, query_scale=qs.logn_clipped(max(length, 8)))
    assert np.array_equal(case.call(method=method), case.call(method=method, query_scale=None))


def test_logn_is_not_shift_invariant_as_a_function():
    """[G-LOGN-3] The factor depends on the absolute position, not on a difference of positions."""
    f = qs.logn(64)
    assert float(f(10)) != float(f(110))


@pytest.mark.parametrize("p, want", [(0, 1.0), (8190, 1.0), (8191, 1 + 0.1 * math.log(2)),
                                     (16382, 1 + 0.1 * math.log(2)), (16383, 1 + 0.1 * math.log(3)),
                                     (8192 * 100 - 1, 1 + 0.1 * math.log(101))])
def test_llama4_temperature_by_hand(p, want):
    """[G-LLAMA4-1] a log(1 + floor((p + 1)/F)) + 1 with F = 8192, a = 0.1: 1 below p = F - 1, then steps."""
    assert abs(float(qs.llama4_temperature()(p)) - want) <= 4 * EPS


@given(p=st.lists(positions, min_size=1, max_size=8), floor_scale=st.integers(1, 10**5), a=st.floats(-1, 1))
def test_llama4_temperature_matches_transformers_formula(p, floor_scale, a):
    """[G-LLAMA4-1] Same values as HF's torch expression log1p(floor((p + 1.0) / floor_scale)) * attn_scale + 1.0."""
    torch = pytest.importorskip("torch", reason="torch gives the independent HF expression")
    t = torch.tensor(p, dtype=torch.float64)
    want = (torch.log1p(torch.floor((t + 1.0) / floor_scale)) * a + 1.0).numpy()
    got = qs.llama4_temperature(floor_scale, a)(p)
    np.testing.assert_allclose(got, want, rtol=4 * EPS, atol=4 * EPS)


@pytest.mark.parametrize(("p", "want"), [(0, 1.0), (8191, 1.0), (8192, 1 + 0.1 * math.log(2)),
                                         (16383, 1 + 0.1 * math.log(2)), (16384, 1 + 0.1 * math.log(3))])
def test_llama4_scaling_by_hand(p, want):
    """[G-LLAMA4-2] 1 + beta log(1 + floor(p / L)) with beta = 0.1, L = 8192 and p the position itself (not p + 1):
    1 up to p = L - 1, 1 + beta ln 2 from p = L."""
    assert abs(float(qs.llama4_scaling(0.1, 8192)(p)) - want) <= 4 * EPS


@given(p=st.lists(positions, min_size=1, max_size=8), length=st.integers(1, 10**5), beta=st.floats(-1, 1))
def test_llama4_scaling_matches_transformers(p, length, beta):
    """[G-LLAMA4-2] Same values as transformers' get_llama_4_attn_scale (Ministral 3) in float64."""
    pytest.importorskip("torch", reason="transformers' function needs torch")
    ministral3 = pytest.importorskip("transformers.models.ministral3.modeling_ministral3")
    torch = pytest.importorskip("torch")
    want = ministral3.get_llama_4_attn_scale(torch.tensor([p], dtype=torch.float64), beta, length)
    np.testing.assert_allclose(qs.llama4_scaling(beta, length)(p), want.reshape(-1).numpy(), rtol=4 * EPS,
                               atol=4 * EPS)


@pytest.mark.parametrize("call, error, match", [
    (lambda: qs.logn(1), ValueError, "training_length must be > 1"),
    (lambda: qs.logn_clipped(math.nan), ValueError, "training_length must be finite"),
    (lambda: qs.logn(True), TypeError, "training_length must be a real number"),
    (lambda: qs.llama4_temperature(0), ValueError, "floor_scale must be > 0"),
    (lambda: qs.llama4_temperature(8192, math.inf), ValueError, "attn_scale must be finite"),
    (lambda: qs.llama4_scaling(0.1, 0), ValueError, "original_max_position_embeddings must be > 0"),
    (lambda: qs.llama4_scaling("0.1", 8192), TypeError, "beta must be a real number"),
    (lambda: qs.logn(8)([-1.0]), ValueError, "positions must be >= 0"),
    (lambda: qs.logn_clipped(8)([0.0, math.nan]), ValueError, "positions must be finite"),
    (lambda: qs.llama4_temperature()(["a"]), TypeError, "positions must hold real numbers"),
])
def test_bad_scales_and_positions_raise(call, error, match):
    """[G-CALL-1] Bad parameters and negative or non-finite positions raise, naming them."""
    with pytest.raises(error, match=match):
        call()


def test_scales_are_immutable_values():
    """[G-CALL-1] Scales compare by value, hash, and cannot be modified; their output keeps the input's shape."""
    assert qs.logn(512) == qs.logn(512.0) != qs.logn_clipped(512)
    assert hash(qs.llama4_temperature()) == hash(qs.llama4_temperature(8192.0, 0.1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        qs.logn(512).training_length = 4
    for f in (qs.logn(8), qs.logn_clipped(8), qs.llama4_temperature(4)):
        out = f(np.arange(6).reshape(2, 3))
        assert out.shape == (2, 3) and out.dtype == np.float64


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_query_scale_multiplies_the_whole_logit(method, data):
    """[G-CALL-1] Any callable is accepted; its factor multiplies the whole logit of its query, which equals scaling q
    itself before the rotation ([R-PROP-5]; bojone/rerope `rerope_patch.py` scales q before RoPE, `ntk_patch.py`
    after)."""
    case = data.draw(attention_cases(explicit_positions=True, masks=False), label="case").with_kwargs(query_scale=None)
    pq, _ = case.positions()
    factors = 0.5 + np.cos(pq) ** 2                     # any positive callable of the positions
    scaled = case.with_kwargs(query_scale=lambda p: 0.5 + np.cos(p) ** 2)
    manual = case.with_kwargs()
    manual.q = case.q * factors[:, None]
    assert_close(scaled.call(refrope.attention_scores, method=method),
                 manual.call(refrope.attention_scores, method=method), 2 * bounds(manual).logits, "sigma q vs sigma s")
