"""refrope.from_hf_config: how a config.json is read, and what is rejected (docs/spec/hf_config.md).

These tests need neither torch nor transformers; test_hf_crosscheck.py compares with transformers itself.
Expected values are written by hand or computed here from the formula the clause states.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refrope import from_hf_config
from spec_tests import hf_strategies as hs
from spec_tests.hf_strategies import LONG, YARN, nested, omega

# --- [H-MAP-1] ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("rope", "variant"), [
    ({}, "default"), ({"rope_type": "linear", "factor": 2}, "linear"),
    ({"rope_type": "dynamic", "factor": 2}, "dynamic_ntk"),
    (YARN, "yarn"), ({**LONG, "original_max_position_embeddings": 4096}, "longrope"),
    ({"rope_type": "llama3", "factor": 8, "original_max_position_embeddings": 8192, "low_freq_factor": 1,
      "high_freq_factor": 4}, "llama3"), ({"rope_type": "proportional"}, "proportional")])
def test_rope_type_maps_to_variant(rope, variant):
    """[H-MAP-1] Each transformers rope_type maps to its refrope variant."""
    config = {"head_dim": 4, "max_position_embeddings": 8192, "rope_parameters": rope}
    assert from_hf_config(config).variant == variant


def test_proportional_keeps_the_head_dim():
    """[H-MAP-1] proportional rotates over the whole head: rotary_dim = head_dim, the trailing pairs get 0."""
    config = {"head_dim": 8, "rope_parameters": {"rope_type": "proportional", "partial_rotary_factor": 0.5}}
    np.testing.assert_array_equal(from_hf_config(config).inv_freq, [1.0, 0.1, 0.0, 0.0])


# --- [H-V4V5-1] -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rope_type", hs.HF_TYPES)
@given(data=st.data())
def test_v4_v5_and_nested_spellings_agree(rope_type, data):
    """[H-V4V5-1] [H-NEST-1] The same parameters written as v4 rope_scaling (type, top-level theta and partial),
    v5 rope_parameters, or a per-layer entry give identical Frequencies."""
    spec = data.draw(hs.rope_specs(rope_type), label="spec")
    v5 = hs.render(spec, "v5")
    expected = from_hf_config(v5.config, seq_len=v5.seq_len)
    for case in (hs.render(spec, "v4", type_key="type"), hs.render(spec, "v4", type_key="rope_type")):
        assert from_hf_config(case.config, seq_len=case.seq_len) == expected
    if "original_max_position_embeddings" not in spec.top:  # else L differs on purpose ([H-ORIG-1])
        case = hs.render(spec, "nested")
        assert from_hf_config(case.config, seq_len=case.seq_len, layer_type=case.layer_type) == expected


def test_null_is_absent_and_entry_values_win():
    """[H-V4V5-1] A JSON null equals a missing key; the rope dict's rope_theta wins over the top-level one;
    rope_parameters and rope_scaling may both be present when equal."""
    base = {"head_dim": 4, "rope_theta": 100.0}
    assert from_hf_config({**base, "rope_scaling": None, "rope_parameters": None}) == from_hf_config(base)
    inner = {**base, "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}}
    np.testing.assert_array_equal(from_hf_config(inner).inv_freq, [1.0, 0.01])
    both = {**base, "rope_parameters": {"rope_type": "linear", "factor": 2}, "rope_scaling": {"rope_type": "linear",
                                                                                               "factor": 2}}
    np.testing.assert_array_equal(from_hf_config(both).inv_freq, [0.5, 0.05])
    assert from_hf_config({"head_dim": 4}).params["theta"] == 10000.0


# --- [H-TYPE-1] -----------------------------------------------------------------------------------------------------

def test_legacy_type_names():
    """[H-TYPE-1] "su" is longrope (both spellings may be present); Phi-3 configs read "yarn" as longrope."""
    config = {"head_dim": 4, "original_max_position_embeddings": 64, "max_position_embeddings": 256}
    longrope = from_hf_config({**config, "rope_scaling": LONG}, seq_len=65)
    su = {"type": "su", **{k: v for k, v in LONG.items() if k != "rope_type"}}
    assert from_hf_config({**config, "rope_scaling": su}, seq_len=65) == longrope
    assert from_hf_config({**config, "rope_scaling": {**su, "rope_type": "longrope"}}, seq_len=65) == longrope
    phi3 = {**config, "model_type": "phi3", "rope_scaling": {**su, "type": "yarn"}}
    assert from_hf_config(phi3, seq_len=65) == longrope
    np.testing.assert_array_equal(longrope.inv_freq, [1.0 / 4.0, 0.01 / 8.0])


# --- [H-NEST-1] -----------------------------------------------------------------------------------------------------

def test_layer_type_selects_the_entry():
    """[H-NEST-1] layer_type picks the per-layer entry; a flat rope dict serves every type listed in layer_types."""
    config = nested({"rope_type": "linear", "factor": 4, "rope_theta": 100.0}, {"rope_theta": 10000.0})
    full = from_hf_config(config, layer_type="full_attention").inv_freq
    np.testing.assert_array_equal(full[:2], [0.25, 0.25 * 100 ** (-1 / 32)])
    sliding = from_hf_config(config, layer_type="sliding_attention").inv_freq
    np.testing.assert_allclose(sliding, omega(64, 1e4), rtol=1e-15)
    flat = {"head_dim": 4, "layer_types": ["sliding_attention", "full_attention"], "rope_theta": 100.0}
    assert from_hf_config(flat, layer_type="sliding_attention") == from_hf_config(flat)


def test_gemma3_local_base_freq():
    """[H-NEST-1] A flat config with rope_local_base_freq (Gemma3, v4) has a full_attention entry (its rope dict and
    rope_theta) and a default sliding_attention entry with theta = rope_local_base_freq."""
    config = {"head_dim": 8, "rope_theta": 1e6, "rope_local_base_freq": 100.0,
              "rope_scaling": {"rope_type": "linear", "factor": 8.0}}
    full = from_hf_config(config, layer_type="full_attention")
    np.testing.assert_allclose(full.inv_freq, omega(8, 1e6) / 8.0, rtol=1e-15)
    np.testing.assert_allclose(from_hf_config(config, layer_type="sliding_attention").inv_freq, omega(8, 100.0),
                               rtol=1e-15)
    with pytest.raises(ValueError, match="layer_type"):
        from_hf_config(config)


# --- [H-HEAD-1] / [H-PARTIAL-1] -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("config", "layer_type", "rotary_dim"), [
    ({"hidden_size": 200, "num_attention_heads": 3}, None, 66),  # 200 // 3
    ({"head_dim": 96, "hidden_size": 4096, "num_attention_heads": 32}, None, 96),
    ({"model_type": "deepseek_v3", "qk_rope_head_dim": 64, "head_dim": 192}, None, 64),  # MLA: the rope part
    ({"qk_rope_head_dim": 64, "hidden_size": 4096, "num_attention_heads": 32}, None, 64),  # no head_dim: MLA
    ({"model_type": "mistral4", "qk_rope_head_dim": 64, "qk_nope_head_dim": 64}, None, 64),  # 128 * (64 / 128)
    ({"model_type": "mistral4", "qk_rope_head_dim": 64, "qk_nope_head_dim": 64,
      "rope_parameters": {"partial_rotary_factor": 0.25}}, None, 32),
    ({"model_type": "jetmoe", "kv_channels": 96, "hidden_size": 2048, "num_attention_heads": 32}, None, 96),
    ({"model_type": "gptj", "rotary_dim": 64, "n_embd": 4096, "n_head": 16}, None, 64),  # the rotary_dim key
    ({"model_type": "dbrx", "d_model": 2048, "n_heads": 16}, None, 128),
    ({"head_dim": 256, "global_head_dim": 512, "layer_types": ["full_attention"]}, "full_attention", 512),
    ({"head_dim": 256, "global_head_dim": 512, "layer_types": ["sliding_attention"]}, "sliding_attention", 256),
    ({"head_dim": 256, "global_head_dim": 512, "layer_types": ["full_attention"]}, None, 256),
    ({"head_dim": 256, "layer_types": ["sliding_attention", "full_attention"],
      "per_layer_config": {"1": {"head_dim": 512}}}, "full_attention", 512),
    ({"head_dim": 100, "partial_rotary_factor": 0.29}, None, 28),  # int(28.999999999999996), as transformers
    ({"head_dim": 64, "rotary_pct": 0.25}, None, 16),  # GPT-NeoX's key
    ({"head_dim": 64, "rotary_pct": 0.25, "rope_parameters": {"partial_rotary_factor": 0.5}}, None, 32),
])
def test_rotary_dimension(config, layer_type, rotary_dim):
    """[H-HEAD-1] [H-PARTIAL-1] The head dimension and rotary dimension int(head_dim * partial_rotary_factor)."""
    assert from_hf_config(config, layer_type=layer_type).rotary_dim == rotary_dim


def test_partial_applies_to_default():
    """[H-PARTIAL-1] default with partial_rotary_factor rotates int(D rho) dims with exponent 2i/(D rho)."""
    freqs = from_hf_config({"head_dim": 16, "rope_theta": 100.0, "partial_rotary_factor": 0.25})
    np.testing.assert_array_equal(freqs.inv_freq, [1.0, 0.1])


# --- [H-ORIG-1] -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("top", "own", "nested_", "expected"), [
    (1024, 4096, False, 1024), (None, 4096, False, 4096), (None, None, False, 8192),
    (1024, 4096, True, 4096), (1024, None, True, 8192)])
def test_original_length(top, own, nested_, expected):
    """[H-ORIG-1] L is the top-level original_max_position_embeddings for a flat config (Phi-3), else the rope
    dict's, else max_position_embeddings; a per-layer entry ignores the top-level value (as transformers)."""
    rope = {**YARN, "original_max_position_embeddings": own}
    config = nested(rope) if nested_ else {"head_dim": 64, "rope_parameters": rope}
    config.update(max_position_embeddings=8192, original_max_position_embeddings=top)
    params = from_hf_config(config, layer_type="full_attention" if nested_ else None).params
    assert params["original_max_position_embeddings"] == expected


# --- [H-DYN-1] ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seq_len", [None, 100, 2048, 2049, 10000])
def test_dynamic_formula(seq_len):
    """[H-DYN-1] theta' = theta (k s / L - (k - 1))^(d / (d - 2)), s = max(seq_len, L), L = max_position_embeddings."""
    config = {"head_dim": 8, "rope_theta": 10000.0, "max_position_embeddings": 2048,
              "rope_scaling": {"type": "dynamic", "factor": 4.0}}
    s = max(2048 if seq_len is None else seq_len, 2048)
    base = 10000.0 * (4.0 * s / 2048 - 3.0) ** (8 / 6)
    np.testing.assert_allclose(from_hf_config(config, seq_len=seq_len).inv_freq, omega(8, base), rtol=1e-13)


# --- [H-YARN-1] / [H-TRUNC-1] ---------------------------------------------------------------------------------------

def test_yarn_reading():
    """[H-YARN-1] A null factor is max_position_embeddings / L; a 0 beta means the default (32 and 1); mscale and
    mscale_all_dim give the ratio (0.1 m ln k + 1) / (0.1 m_all ln k + 1)."""
    base = {"head_dim": 64, "rope_theta": 10000.0, "max_position_embeddings": 163840}
    derived = from_hf_config({**base, "rope_parameters": {**YARN, "factor": None, "beta_fast": 0, "beta_slow": 0}})
    explicit = from_hf_config({**base, "rope_parameters": {**YARN, "factor": 40.0, "beta_fast": 32.0,
                                                           "beta_slow": 1.0}})
    assert derived == explicit
    ratio = from_hf_config({**base, "rope_parameters": {**YARN, "mscale": 0.707, "mscale_all_dim": 1.0}})
    assert ratio.attention_factor == pytest.approx((0.0707 * math.log(32) + 1) / (0.1 * math.log(32) + 1), rel=1e-15)


def test_truncate_reading():
    """[H-TRUNC-1] truncate is read from the entry, then from beside the per-layer entries; null is True."""
    def full(config):
        return from_hf_config(config, layer_type="full_attention")
    flat_false = from_hf_config({"head_dim": 64, "max_position_embeddings": 131072,
                                 "rope_parameters": {**YARN, "truncate": False}})
    assert full(nested({**YARN, "truncate": False})) == flat_false
    assert full(nested(dict(YARN), truncate=False)) == flat_false
    assert full(nested({**YARN, "truncate": True}, truncate=False)) == full(nested(dict(YARN)))
    assert full(nested({**YARN, "truncate": None})) == full(nested({**YARN, "truncate": True}))
    assert flat_false != full(nested(dict(YARN)))


# --- [H-LONG-1] -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("seq_len", "ext"), [(None, [1.0, 2.0]), (0, [1.0, 2.0]), (63, [1.0, 2.0]), (64, [1.0, 2.0]),
                                              (65, [4.0, 8.0]), (10**6, [4.0, 8.0])])
def test_longrope_boundary(seq_len, ext):
    """[H-LONG-1] The long factors are used iff seq_len > L (L = 64 here); None means initialisation (short);
    a null factor is max_position_embeddings / L = 4, magnitude sqrt(1 + ln 4 / ln 64)."""
    config = {"head_dim": 4, "rope_theta": 100.0, "max_position_embeddings": 256,
              "original_max_position_embeddings": 64,
              "rope_scaling": {**LONG, "factor": None}}
    freqs = from_hf_config(config, seq_len=seq_len)
    np.testing.assert_array_equal(freqs.inv_freq, np.array([1.0, 0.1]) / ext)
    assert freqs.attention_factor == pytest.approx(math.sqrt(1 + math.log(4) / math.log(64)), rel=1e-15)


def test_longrope_explicit_attention_needs_no_factor():
    """[H-LONG-1] With attention_factor given, a longrope config needs neither factor nor max_position_embeddings."""
    config = {"head_dim": 4, "rope_scaling": {**LONG, "original_max_position_embeddings": 64, "attention_factor": 1.5}}
    assert from_hf_config(config).attention_factor == 1.5


# --- [H-FACTOR-1] ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rope", [
    {"rope_type": "linear", "factor": 0.5}, {"rope_type": "dynamic", "factor": 0.5}, {**YARN, "factor": 0.5},
    {**YARN, "factor": None, "original_max_position_embeddings": 262144},  # derived: 131072 / 262144
    {"rope_type": "llama3", "factor": 0.5, "low_freq_factor": 1, "high_freq_factor": 4},
    {**LONG, "factor": 0.5}, {**LONG, "original_max_position_embeddings": 262144},  # derived longrope factor 1/2
    {"rope_type": "proportional", "factor": 0.5}])
def test_factor_below_one_is_an_error(rope):
    """[H-FACTOR-1] factor < 1, given or derived, is a ValueError (transformers only warns)."""
    with pytest.raises(ValueError, match="factor"):
        from_hf_config({"head_dim": 4, "max_position_embeddings": 131072, "rope_parameters": rope})
