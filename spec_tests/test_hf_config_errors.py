"""[H-ERR-1]: what from_hf_config rejects, and that it never modifies its input (docs/spec/hf_config.md).

Malformed configs written by hand, then fuzzed JSON from the real configs of spec_tests/hf_strategies.py.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings

import refrope
from refrope import from_hf_config
from spec_tests import hf_models
from spec_tests import hf_strategies as hs
from spec_tests.hf_strategies import LONG_L, YARN, nested

# --- [H-ERR-1] ------------------------------------------------------------------------------------------------------

_H4 = {"head_dim": 4}
_BAD = [  # (config, keyword arguments, exception, fragments the message must contain)
    ([1, 2], {}, TypeError, ["config", "[1, 2]"]),
    ({**_H4, "rope_scaling": {"type": "linear"}}, {}, ValueError, ["'factor'", "'linear'"]),
    ({**_H4, "rope_scaling": {"type": "linear", "factor": "2"}}, {}, TypeError, ["factor", "'2'"]),
    ({**_H4, "rope_theta": "1e4"}, {}, TypeError, ["rope_theta", "'1e4'"]),
    ({**_H4, "rope_theta": 0}, {}, ValueError, ["rope_theta", "0"]),
    ({**_H4, "rope_theta": -1.0}, {}, ValueError, ["rope_theta", "-1.0"]),
    ({**_H4, "rope_theta": float("nan")}, {}, ValueError, ["rope_theta", "nan"]),
    ({**_H4, "rope_theta": float("inf")}, {}, ValueError, ["rope_theta", "inf"]),
    ({"head_dim": 64, "rope_theta": 1e-320}, {}, ValueError, ["overflow"]),
    ({**_H4, "rope_parameters": {"rope_type": "ntk"}}, {}, ValueError, ["'factor'", "'ntk'"]),  # vLLM's type
    ({**_H4, "rope_parameters": {"rope_type": "ntk_by_parts"}}, {}, ValueError, ["rope_type", "'ntk_by_parts'"]),
    ({**_H4, "rope_parameters": {"rope_type": "mrope", "mrope_section": [1]}}, {}, ValueError,
     ["mrope_section", "[1]"]),
    ({**_H4, "rope_parameters": {"rope_type": "default", "mrope_section": [1]}}, {}, ValueError,
     ["mrope_section", "[1]"]),
    ({**_H4, "model_type": "qwen2_vl_text"}, {}, ValueError, ["mrope_section", "[16, 24, 24]", "2"]),
    ({**_H4, "model_type": "eomt_dinov3"}, {}, ValueError, ["'eomt_dinov3'", "vision"]),
    ({**_H4, "rope_parameters": {"rope_type": "axial"}}, {}, ValueError, ["'axial'", "vision"]),
    ({**_H4, "rope_parameters": {"rope_type": 5}}, {}, TypeError, ["rope_type", "5"]),
    ({**_H4, "rope_scaling": {"type": "linear", "rope_type": "dynamic", "factor": 2}}, {}, ValueError,
     ["type='linear'", "rope_type='dynamic'"]),
    ({"rope_theta": 1e4}, {}, ValueError, ["head_dim", "hidden_size", "num_attention_heads"]),
    ({"text_config": {"head_dim": 4}}, {}, ValueError, ["head_dim", "text_config"]),
    ({"head_dim": "64"}, {}, TypeError, ["head_dim", "'64'"]),
    ({"head_dim": 192, "qk_rope_head_dim": 64}, {}, ValueError, ["head_dim=192", "qk_rope_head_dim=64", "ambiguous"]),
    ({"model_type": "gemma", "hidden_size": 2048, "num_attention_heads": 8}, {}, ValueError,
     ["head_dim", "'gemma'", "256"]),
    ({"model_type": "jetmoe", "kv_channels": 96, "head_dim": 64}, {}, ValueError, ["kv_channels=96", "head_dim=64"]),
    ({"head_dim": 0}, {}, ValueError, ["head_dim", "0"]),
    ({"head_dim": 10**30}, {}, ValueError, ["head_dim", str(10**30)]),
    ({"hidden_size": 64, "num_attention_heads": 0}, {}, ValueError, ["num_attention_heads", "0"]),
    ({"head_dim": 10, "partial_rotary_factor": 0.5}, {}, ValueError, ["partial_rotary_factor", "0.5", "= 5"]),
    ({"head_dim": 65}, {}, ValueError, ["head_dim", "65"]),
    ({"head_dim": 64, "partial_rotary_factor": 1.5}, {}, ValueError, ["partial_rotary_factor", "1.5"]),
    ({"head_dim": 64, "partial_rotary_factor": 0.5, "rotary_pct": 0.25}, {}, ValueError, ["rotary_pct", "0.25", "0.5"]),
    ({"head_dim": 64, "rope_theta": 1e4, "rotary_emb_base": 1e5}, {}, ValueError, ["rotary_emb_base", "100000.0"]),
    ({**_H4, "rope_scaling": {**LONG_L, "short_factor": [1.0]}}, {}, ValueError, ["short_factor", "(1,)"]),
    ({**_H4, "rope_scaling": {**LONG_L, "long_factor": "abc"}}, {}, TypeError, ["long_factor"]),
    ({**_H4, "rope_parameters": {**YARN, "truncate": "no"}}, {}, TypeError, ["truncate", "'no'"]),
    ({**_H4, "rope_parameters": {**YARN, "beta_fast": 1, "beta_slow": 2}}, {}, ValueError, ["beta_fast", "beta_slow"]),
    ({**_H4, "rope_parameters": {"rope_type": "llama3", "factor": 8, "original_max_position_embeddings": 8192,
                                 "low_freq_factor": 1}}, {}, ValueError, ["'high_freq_factor'", "'llama3'"]),
    ({**_H4, "rope_parameters": {"rope_type": "dynamic", "factor": 2}}, {}, ValueError, ["max_position_embeddings"]),
    ({**_H4, "rope_parameters": {**YARN, "factor": None}}, {}, ValueError, ["max_position_embeddings", "factor"]),
    ({**_H4, "rope_parameters": [1]}, {}, TypeError, ["rope_parameters", "[1]"]),
    ({**_H4, "rope_parameters": {"rope_type": "linear", "factor": 2}, "rope_scaling": {"rope_type": "linear",
                                                                                       "factor": 3}},
     {}, ValueError, ["rope_parameters", "rope_scaling", "'factor': 3"]),
    (nested(YARN), {}, ValueError, ["layer_type", "'full_attention'", "None"]),
    (nested(YARN), {"layer_type": "local"}, ValueError, ["layer_type", "'local'"]),
    (nested(YARN), {"layer_type": 3}, TypeError, ["layer_type", "3"]),
    ({**nested(YARN), "rope_parameters": {"full_attention": None}}, {"layer_type": "full_attention"}, ValueError,
     ["'full_attention'", "null"]),
    (nested(YARN, rope_theta=5.0), {"layer_type": "full_attention"}, ValueError, ["'rope_theta'"]),
    ({**_H4, "layer_types": ["full_attention"]}, {"layer_type": "sliding_attention"}, ValueError,
     ["'sliding_attention'", "layer_types"]),
    ({**_H4, "layer_types": "full_attention"}, {}, TypeError, ["layer_types", "'full_attention'"]),
    ({**_H4, "layer_types": ["a", "a"], "per_layer_config": {"0": {"head_dim": 8}}}, {"layer_type": "a"}, ValueError,
     ["per_layer_config", "'a'"]),
    ({**_H4, "layer_types": ["a"], "per_layer_config": {"0": {"rope_theta": 8.0}}}, {"layer_type": "a"}, ValueError,
     ["per_layer_config", "rope_theta"]),
    ({**_H4, "layer_types": ["a"], "per_layer_config": {"7": {"head_dim": 8}}}, {"layer_type": "a"}, ValueError,
     ["per_layer_config", "'7'"]),
    (_H4, {"seq_len": -1}, ValueError, ["seq_len", "-1"]),
    (_H4, {"seq_len": 1.5}, TypeError, ["seq_len", "1.5"]),
]


@pytest.mark.parametrize(("config", "kwargs", "error", "fragments"), _BAD)
def test_malformed_config_is_rejected(config, kwargs, error, fragments):
    """[H-ERR-1] A malformed config raises ValueError or TypeError naming the key and the value."""
    with pytest.raises(error) as info:
        from_hf_config(config, **kwargs)
    assert type(info.value) in (ValueError, TypeError)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


@settings(max_examples=10 * settings.default.max_examples)  # fuzzing wants volume: 250 (dev), 400 (ci)
@given(call=hs.fuzzed_calls())
def test_arbitrary_json_raises_only_value_or_type_errors(call):
    """[H-ERR-1] For arbitrary JSON in any key a config reader looks at, from_hf_config returns Frequencies or
    raises ValueError/TypeError (never KeyError, AttributeError, ZeroDivisionError, OverflowError, a warning...),
    and it never modifies the config."""
    config, layer_type, seq_len = call
    before = copy.deepcopy(config)
    try:
        freqs = from_hf_config(config, layer_type=layer_type, seq_len=seq_len)
    except (ValueError, TypeError) as exc:
        assert type(exc) in (ValueError, TypeError)
    else:
        assert isinstance(freqs, refrope.Frequencies) and np.all(np.isfinite(freqs.inv_freq))
    assert repr(config) == repr(before)


@settings(max_examples=4 * settings.default.max_examples)
@given(case=hs.hf_cases())
def test_valid_configs_are_not_modified(case):
    """[H-ERR-1] from_hf_config leaves a valid config exactly as it was (compared with a deep copy)."""
    before = copy.deepcopy(case.config)
    from_hf_config(case.config, seq_len=case.seq_len, layer_type=case.layer_type)
    assert case.config == before


@pytest.mark.parametrize("name", sorted(hf_models.MODEL_CONFIGS))
def test_model_fixtures_are_not_modified(name):
    """[H-ERR-1] [H-FIX-1] Reading a real-model config (every layer type) leaves it unchanged."""
    config = hf_models.MODEL_CONFIGS[name][1]
    before = copy.deepcopy(config)
    for layer_type in hf_models.layer_types_of(config):
        from_hf_config(config, layer_type=layer_type, seq_len=5000)
    assert config == before

