"""[H-ERR-1] [H-STRICT-1]: thousands of config dicts derived from real configs (spec_tests/hf_models.py): keys
dropped, added, retyped, set to NaN, negative or huge values, nested wrongly. from_hf_config returns finite
Frequencies or raises ValueError / TypeError, and never modifies its input.

Volume: 60 x the profile's examples (1,500 dev, 2,400 ci; ``HYPOTHESIS_PROFILE=thorough`` runs 60,000).
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import refrope
from refrope.configs.hf_keys import INERT, READ, SHARED
from spec_tests import hf_models

_REAL = [(config, layer_type) for _, config in hf_models.MODEL_CONFIGS.values()
         for layer_type in hf_models.layer_types_of(config)]
_KEYS = sorted(set(SHARED) | {k for keys in READ.values() for k in keys} | set(INERT) | {
    "head_dim", "hidden_size", "num_attention_heads", "qk_rope_head_dim", "qk_nope_head_dim", "kv_channels",
    "max_position_embeddings", "original_max_position_embeddings", "layer_types", "per_layer_config", "model_type",
    "rope_scaling", "rope_parameters", "rope_local_base_freq", "compress_rope_theta", "rotary_dim", "rotary_pct",
    "orignal_max_position_embeddings", "full_attention", "sliding_attention", "main", "compress", "mrope_section"})
_MODEL_TYPES = ["llama", "deepseek_v3", "deepseek_v4", "mistral4", "gptj", "jetmoe", "gemma", "qwen2_vl", "pixtral",
                "phi3", "hunyuan_v1_dense", "zamba2", "dbrx", "nonexistent"]
_WEIRD = st.sampled_from([math.nan, math.inf, -math.inf, -1, -1.5, 0, 0.0, 1e308, -1e308, 5e-324, 2**70, -(2**70),
                          True, False, None, "", "1e4", "yarn", [], {}, [1.0], {"a": 1}, [math.nan] * 4]).map(
    copy.deepcopy)  # fresh containers: a shared one mutated by a later example would make draws depend on history
_VALUES = _WEIRD | st.integers(-10, 1 << 21) | st.floats(-1e6, 1e6) | st.sampled_from(_MODEL_TYPES) | st.sampled_from(
    sorted(READ) + ["su", "mrope", "axial", "xdrope"])


def _containers(config: dict) -> list[dict]:
    """Every dict of the config (top level, rope dicts, per-layer entries, nested values), depth first."""
    out, todo = [], [config]
    while todo:
        node = todo.pop()
        out.append(node)
        todo.extend(v for v in node.values() if isinstance(v, dict))
    return out


def _retype(value):
    """The same value in another JSON kind."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return [value] if isinstance(value, int) else str(value)
    if isinstance(value, str):
        return {"value": value}
    if isinstance(value, list):
        return tuple(value) if value else None
    return [value]


@st.composite
def mutated(draw):
    """(config, layer_type, seq_len, options) from a real config with 1 to 6 mutations."""
    config, layer_type = draw(st.sampled_from(_REAL), label="real config")
    config = copy.deepcopy(config)
    for _ in range(draw(st.integers(1, 6), label="mutations")):
        target = draw(st.sampled_from(_containers(config)))
        keys = sorted(target, key=str)
        key = draw(st.sampled_from(keys) if keys and draw(st.booleans()) else st.sampled_from(_KEYS) | st.text(
            max_size=8))
        kind = draw(st.sampled_from(["drop", "set", "retype", "wrap", "move"]), label="mutation")
        if kind == "drop":
            target.pop(key, None)
        elif kind == "set":
            target[key] = draw(_VALUES)
        elif kind == "retype" and key in target:
            target[key] = _retype(target[key])
        elif kind == "wrap" and key in target:  # nested wrongly: a value inside a list or a one-key dict
            target[key] = draw(st.sampled_from([[target[key]], {key: target[key]}, {"full_attention": target[key]}]))
            target[key] = copy.deepcopy(target[key])  # never two references to one container
        elif kind == "move" and key in target and target is not config:  # a rope key lifted to the top level
            config[key] = target.pop(key)
    layer_type = layer_type if draw(st.integers(0, 4)) else draw(st.none() | st.sampled_from(
        ["full_attention", "sliding_attention", "main", "compress", ""]) | _WEIRD)
    seq_len = draw(st.none() | st.integers(-2, 1 << 22) | _WEIRD) if draw(st.integers(0, 3)) == 0 else None
    options = draw(st.fixed_dictionaries({}, optional={
        "strict": st.booleans(), "dynamic": st.sampled_from(["per_call", "at_max_length", "x", 1]),
        "longrope": st.sampled_from(["per_call", "at_max_length"]), "yarn_bounds": st.sampled_from(
            ["as_config", "rounded"]), "yarn_mscale": st.sampled_from(["pair", "lone", None])}))
    return config, layer_type, seq_len, options


@settings(max_examples=60 * settings.default.max_examples)
@given(call=mutated())
def test_mutated_real_configs_raise_only_value_or_type_errors(call):
    """[H-ERR-1] [H-STRICT-1] Real configs mutated (keys dropped, added, retyped, NaN, negative, huge, nested
    wrongly): from_hf_config returns finite Frequencies or raises ValueError/TypeError (never another exception,
    and no warning unless strict=False), and leaves the config exactly as it was."""
    config, layer_type, seq_len, options = call
    before = copy.deepcopy(config)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            freqs = refrope.from_hf_config(config, layer_type=layer_type, seq_len=seq_len, **options)
        except (ValueError, TypeError) as exc:
            assert type(exc) in (ValueError, TypeError) and str(exc)
        else:
            assert np.all(np.isfinite(freqs.inv_freq)) and freqs.attention_factor > 0
    if options.get("strict", True) is not False:
        assert not caught, [str(w.message) for w in caught]
    assert repr(config) == repr(before)
