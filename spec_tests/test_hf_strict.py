"""[H-STRICT-1]: every key of a rope dict is read by its rope type or documented as inert; anything else is an
error, or with strict=False a warning and the result without the key (docs/spec/hf_config.md)."""

from __future__ import annotations

import copy
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refrope import from_hf_config
from refrope.configs.hf_keys import INERT, INERT_BY_TYPE, READ, SHARED, UnreadKeyWarning, accepted
from spec_tests import hf_strategies as hs

_TOP = {"head_dim": 64, "rope_theta": 10000.0, "max_position_embeddings": 8192}
_BASES = {  # a valid rope dict of each type; None: the key under test supplies what the type needs
    "default": {}, "linear": {"factor": 2.0}, "dynamic": {"factor": 2.0}, "proportional": {},
    "yarn": {"factor": 4.0, "original_max_position_embeddings": 2048},
    "longrope": {"short_factor": [1.0] * 32, "long_factor": [2.0] * 32, "original_max_position_embeddings": 2048},
    "llama3": {"factor": 8.0, "original_max_position_embeddings": 2048, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0},
    "ntk": {"factor": 4.0}, "deepseek_yarn": {"factor": 4.0, "original_max_position_embeddings": 2048},
    "deepseek_llama_scaling": {"factor": 4.0, "original_max_position_embeddings": 2048},
    "telechat3-yarn": {"factor": 4.0, "original_max_position_embeddings": 2048},
}
_VALUES = {  # two values of each read key that give different frequencies or magnitudes
    "factor": (2.0, 8.0), "original_max_position_embeddings": (1024, 2048), "beta_fast": (32, 64),
    "beta_slow": (1, 2), "mscale": (0.5, 1.0), "mscale_all_dim": (0.5, 1.0), "attention_factor": (1.0, 2.0),
    "truncate": (True, False), "attn_factor": (1.0, 2.0), "apply_yarn_scaling": (True, False), "alpha": (2.0, 4.0),
    "max_trained_positions": (1024, 2048), "mixed_b": (0.5, 0.75), "low_freq_factor": (1.0, 2.0),
    "high_freq_factor": (4.0, 8.0), "short_factor": ([1.0] * 32, [3.0] * 32), "long_factor": ([2.0] * 32, [5.0] * 32),
    "short_mscale": (1.1, 1.2), "long_mscale": (1.1, 1.2),
}
_CONTEXT = {  # (rope type, key): extra rope keys and call arguments under which the key matters
    ("yarn", "mscale"): ({"mscale_all_dim": 1.0}, {}), ("yarn", "mscale_all_dim"): ({"mscale": 0.5}, {}),
    ("yarn", "truncate"): ({"original_max_position_embeddings": 4096}, {}),
    ("dynamic", "factor"): ({}, {"seq_len": 65536}), ("dynamic", "max_trained_positions"): ({}, {"seq_len": 4096}),
    ("longrope", "long_factor"): ({}, {"seq_len": 4096}), ("longrope", "long_mscale"): ({}, {"seq_len": 4096}),
    ("longrope", "original_max_position_embeddings"): ({}, {"seq_len": 1500}),
    ("llama3", "original_max_position_embeddings"): ({}, {}),
}
_ONLY_ONE_VALUE = {"extrapolation_factor"}  # read and checked, but only 1 is accepted ([H-VLLM-2])


def _read_keys():
    return [(kind, key) for kind, keys in READ.items() for key in sorted(keys) if key not in _ONLY_ONE_VALUE]


@pytest.mark.parametrize(("rope_type", "key"), _read_keys())
def test_every_read_key_changes_the_result(rope_type, key):
    """[H-STRICT-1] Every key the table says a rope type reads does change its Frequencies (it is not silently
    dropped): two values of it give two different results."""
    extra, kwargs = _CONTEXT.get((rope_type, key), ({}, {}))
    results = []
    for value in _VALUES[key]:
        rope = {"rope_type": rope_type, **_BASES[rope_type], **extra, key: value}
        results.append(from_hf_config({**_TOP, "rope_parameters": rope}, **kwargs))
    assert results[0] != results[1]


def _inert_cases():
    cases = [("yarn", key) for key in INERT]
    return cases + [(kind, key) for kind, keys in INERT_BY_TYPE.items() for key in keys]


@pytest.mark.parametrize(("rope_type", "key"), _inert_cases())
@pytest.mark.parametrize("value", [0.1, 1048576, True])
def test_documented_inert_keys_are_accepted_and_change_nothing(rope_type, key, value):
    """[H-STRICT-1] Every documented inert key is accepted in strict mode and leaves the result as without it."""
    rope = {"rope_type": rope_type, **_BASES[rope_type]}
    config = {**_TOP, "rope_parameters": rope}
    assert from_hf_config({**_TOP, "rope_parameters": {**rope, key: value}}) == from_hf_config(config)


@pytest.mark.parametrize(("rope", "key"), [
    ({"rope_type": "yarn", "factor": 4.0, "orignal_max_position_embeddings": 2048}, "orignal_max_position_embeddings"),
    ({"factor": 4.0}, "factor"),  # no rope type: default, which reads no factor
    ({"foo": 1}, "foo"),
    ({"rope_type": "dynamic", "factor": 2.0, "original_max_position_embeddings": 2048},
     "original_max_position_embeddings"),  # transformers' dynamic uses max_position_embeddings as L
    ({"rope_type": "linear", "factor": 2.0, "truncate": False}, "truncate"),
    ({"rope_type": "default", "finetuned": True}, "finetuned"),
])
def test_unread_keys_are_named(rope, key):
    """[H-STRICT-1] [H-ERR-1] A key the rope type does not read (a typo, a key of another type, an unknown key)
    raises ValueError naming it and the accepted keys."""
    with pytest.raises(ValueError) as info:
        from_hf_config({**_TOP, "rope_parameters": rope})
    message = str(info.value)
    assert repr(key) in message and "accepts" in message
    assert all(repr(name) in message for name in accepted(rope.get("rope_type", "default")))


def test_strict_false_warns_and_ignores():
    """[H-STRICT-1] strict=False turns the error into one UnreadKeyWarning and returns the result without the key,
    in a flat dict and in a per-layer entry."""
    clean = {**_TOP, "rope_parameters": {"rope_type": "yarn", **_BASES["yarn"]}}
    typo = copy.deepcopy(clean)
    typo["rope_parameters"]["orignal_max_position_embeddings"] = 1024
    with pytest.warns(UnreadKeyWarning, match="orignal_max_position_embeddings"):
        assert from_hf_config(typo, strict=False) == from_hf_config(clean)
    entry = hs.nested({"rope_type": "linear", "factor": 4.0, "foo": [1, 2]})
    with pytest.warns(UnreadKeyWarning, match="'foo'"):
        lenient = from_hf_config(entry, layer_type="full_attention", strict=False)
    assert lenient == from_hf_config(hs.nested({"rope_type": "linear", "factor": 4.0}), layer_type="full_attention")
    with pytest.raises(ValueError, match="'foo'"):
        from_hf_config(entry, layer_type="full_attention")


_KNOWN = set(SHARED) | {key for keys in READ.values() for key in keys} | set(INERT)
_new_keys = st.text(min_size=1, max_size=12).filter(lambda k: k not in _KNOWN)
_values = st.one_of(st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True), st.text(max_size=4),
                    st.lists(st.integers(), max_size=3))  # a dict value would make the rope dict nested [H-NEST-1]


@given(case=hs.hf_cases(), key=_new_keys, value=_values)
def test_any_unknown_key_is_an_error_or_an_ignored_warning(case, key, value):
    """[H-STRICT-1] Any key outside the table, with any non-null value, in the rope dict (or the per-layer entry)
    read: strict raises ValueError naming it; strict=False warns and returns what the config without it gives."""
    config = copy.deepcopy(case.config)
    rope = config.get("rope_parameters") or config.get("rope_scaling")
    if rope is None:
        rope = config["rope_parameters"] = {}
    target = rope[case.layer_type] if case.layer_type else rope
    expected = from_hf_config(config, seq_len=case.seq_len, layer_type=case.layer_type)
    target[key] = value
    with pytest.raises(ValueError) as info:
        from_hf_config(config, seq_len=case.seq_len, layer_type=case.layer_type)
    assert repr(key) in str(info.value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lenient = from_hf_config(config, seq_len=case.seq_len, layer_type=case.layer_type, strict=False)
    assert lenient == expected
    assert [w.category for w in caught] == [UnreadKeyWarning]
