"""[V-ERR-1], [V-ERR-2], [V-MUT-1]: bad input is a clear error; nothing else escapes; inputs are never mutated."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from spec_tests.strategies import VARIANT_NAMES, variant_params

F8 = refrope.inv_freq("default", 8)

INV_FREQ_CASES = [
    # (variant, rotary_dim, kwargs, exception, words that must appear in the message)
    ("default", 7, {}, ValueError, ["rotary_dim", "7"]),
    ("default", 0, {}, ValueError, ["rotary_dim", "0"]),
    ("default", -4, {}, ValueError, ["rotary_dim", "-4"]),
    ("default", 8.0, {}, TypeError, ["rotary_dim", "8.0"]),
    ("default", True, {}, TypeError, ["rotary_dim", "True"]),
    ("default", 8, {"theta": 0.0}, ValueError, ["theta", "0.0"]),
    ("default", 8, {"theta": -1e4}, ValueError, ["theta", "-10000.0"]),
    ("default", 8, {"theta": float("nan")}, ValueError, ["theta", "nan"]),
    ("default", 8, {"theta": float("inf")}, ValueError, ["theta", "inf"]),
    ("default", 8, {"theta": "10000"}, TypeError, ["theta", "'10000'"]),
    ("nope", 8, {}, ValueError, ["variant", "'nope'"]),
    (None, 8, {}, TypeError, ["variant", "None"]),
    ("linear", 8, {"factor": 0.5}, ValueError, ["factor", "0.5"]),
    ("ntk_aware", 8, {"factor": 0.9}, ValueError, ["factor", "0.9"]),
    ("ntk_fixed", 8, {"factor": float("nan")}, ValueError, ["factor", "nan"]),
    ("ntk_mixed", 8, {"factor": 8.0, "b": 1.5}, ValueError, ["b", "1.5"]),
    ("ntk_mixed", 8, {"factor": 8.0, "b": -0.1}, ValueError, ["b", "-0.1"]),
    ("dynamic_ntk", 8, {"factor": 2.0, "original_max_position_embeddings": 0, "seq_len": 3}, ValueError,
     ["original_max_position_embeddings", "0"]),
    ("dynamic_ntk", 8, {"factor": 2.0, "original_max_position_embeddings": 64, "seq_len": -1}, ValueError,
     ["seq_len", "-1"]),
    ("dynamic_ntk", 8, {"factor": 2.0, "original_max_position_embeddings": 64, "seq_len": 3.5}, TypeError,
     ["seq_len", "3.5"]),
    ("yarn", 8, {"factor": 0.5, "original_max_position_embeddings": 64}, ValueError, ["factor", "0.5"]),
    ("yarn", 8, {"factor": 4.0, "original_max_position_embeddings": 64, "beta_fast": 1.0, "beta_slow": 2.0},
     ValueError, ["beta_fast", "beta_slow"]),
    ("yarn", 8, {"factor": 4.0, "original_max_position_embeddings": 64, "truncate": "no"}, TypeError,
     ["truncate", "'no'"]),
    ("yarn", 8, {"factor": 4.0, "original_max_position_embeddings": 64, "attention_factor": -1.0}, ValueError,
     ["attention_factor", "-1.0"]),
    ("yarn", 8, {"theta": 1.0, "factor": 4.0, "original_max_position_embeddings": 64}, ValueError, ["theta", "1.0"]),
    ("llama3", 8, {"factor": 8.0, "original_max_position_embeddings": 8192, "low_freq_factor": 4.0,
                   "high_freq_factor": 1.0}, ValueError, ["high_freq_factor", "low_freq_factor"]),
    ("longrope", 8, {"short_factor": [1.0] * 3, "long_factor": [1.0] * 4, "original_max_position_embeddings": 64,
                     "factor": 2.0}, ValueError, ["short_factor", "4"]),
    ("longrope", 8, {"short_factor": [1.0] * 4, "long_factor": [1.0, 2.0, -1.0, 1.0],
                     "original_max_position_embeddings": 64, "factor": 2.0}, ValueError, ["long_factor", "-1.0"]),
    ("longrope", 8, {"short_factor": "1,1,1,1", "long_factor": [1.0] * 4,
                     "original_max_position_embeddings": 64, "factor": 2.0}, TypeError, ["short_factor"]),
    ("mixed_radix", 8, {"radices": [2.0, 1.0, 1.0]}, ValueError, ["radices", "4"]),
    ("proportional", 8, {"partial_rotary_factor": 1.5}, ValueError, ["partial_rotary_factor", "1.5"]),
]


@pytest.mark.parametrize("variant, d, kwargs, exc, words", INV_FREQ_CASES,
                         ids=[f"{c[0]}-{'-'.join(map(str, c[2].keys())) or c[1]}" for c in INV_FREQ_CASES])
def test_inv_freq_bad_input(variant, d, kwargs, exc, words):
    """[V-ERR-1] Each invalid parameter raises ValueError/TypeError naming the parameter and its value."""
    with pytest.raises(exc) as info:
        refrope.inv_freq(variant, d, **kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


APPLY_CASES = [
    (lambda: refrope.apply_rope(np.ones((2, 6)), [0, 1], F8), ValueError, ["rotary_dim=8", "head_dim=6"]),
    (lambda: refrope.apply_rope(np.ones((2, 10)), [0, 1], F8, rotary_offset=3), ValueError,
     ["rotary_offset=3", "head_dim=10"]),
    (lambda: refrope.apply_rope(np.ones((2, 8)), [0, 1], F8, rotary_offset=-1), ValueError, ["rotary_offset", "-1"]),
    (lambda: refrope.apply_rope(np.ones((2, 8)), [0, float("nan")], F8), ValueError, ["positions", "nan"]),
    (lambda: refrope.apply_rope(np.ones((2, 8)), [0, float("inf")], F8), ValueError, ["positions", "inf"]),
    (lambda: refrope.apply_rope(np.ones((2, 8)), [0, 1, 2], F8), ValueError, ["positions", "(3,)", "(2,)"]),
    (lambda: refrope.apply_rope(np.ones((2, 8)), np.zeros((3, 2)), F8), ValueError, ["positions", "(3, 2)"]),
    (lambda: refrope.apply_rope(np.ones((2, 8), bool), [0, 1], F8), TypeError, ["x", "bool"]),
    (lambda: refrope.apply_rope(np.ones((2, 8), complex), [0, 1], F8), TypeError, ["x", "complex"]),
    (lambda: refrope.apply_rope(np.ones((2, 8)), ["a", "b"], F8), TypeError, ["positions"]),
    (lambda: refrope.apply_rope(np.ones((2, 8)), [True, False], F8), TypeError, ["positions", "bool"]),
    (lambda: refrope.apply_rope(np.ones((2, 8)), [0, 1], [[1.0, 0.5]]), ValueError, ["inv_freq", "(1, 2)"]),
    (lambda: refrope.apply_rope(np.ones((2, 8)), [0, 1], [1.0, float("nan")]), ValueError, ["inv_freq", "nan"]),
    (lambda: refrope.apply_rope(np.ones((2, 8)), [0, 1], []), ValueError, ["inv_freq", "(0,)"]),
    (lambda: refrope.apply_rope(np.float64(1.0), 0, [1.0]), ValueError, ["x", "()"]),
    (lambda: refrope.cos_sin([0, float("nan")], F8), ValueError, ["positions", "nan"]),
    (lambda: refrope.rotation_matrix(float("inf"), F8), ValueError, ["position", "inf"]),
    (lambda: refrope.rotation_matrix("3", F8), TypeError, ["position", "'3'"]),
    (lambda: refrope.Frequencies([1.0], attention_factor=0.0), ValueError, ["attention_factor", "0.0"]),
]


@pytest.mark.parametrize("call, exc, words", APPLY_CASES, ids=[str(i) for i in range(len(APPLY_CASES))])
def test_rotation_bad_input(call, exc, words):
    """[V-ERR-1] apply_rope / cos_sin / rotation_matrix: shapes, slices, positions and freqs are validated with named
    errors."""
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8)
PARAM_NAMES = sorted({p.name for v in refrope.VARIANTS.values() for p in v.params} | {"theta", "bogus"})


@given(variant=st.sampled_from(VARIANT_NAMES + ["bogus"]), d=st.integers(-2, 12) | JSONISH,
       params=st.dictionaries(st.sampled_from(PARAM_NAMES), JSONISH | st.floats(0, 1e5), max_size=6))
def test_fuzzed_parameters_raise_only_value_or_type_errors(variant, d, params):
    """[V-ERR-2] Arbitrary parameters either give valid Frequencies or raise ValueError/TypeError, nothing else."""
    try:
        f = refrope.inv_freq(variant, d, **params)
    except (ValueError, TypeError):
        return
    assert np.all(np.isfinite(f.inv_freq)) and f.attention_factor > 0 and math.isfinite(f.attention_factor)


@given(x=JSONISH | st.lists(st.lists(st.floats(), min_size=4, max_size=4), max_size=3), pos=JSONISH,
       freqs=JSONISH, layout=st.sampled_from(refrope.LAYOUTS) | JSONISH, offset=st.integers(-2, 4) | JSONISH)
def test_fuzzed_apply_rope_raises_only_value_or_type_errors(x, pos, freqs, layout, offset):
    """[V-ERR-2] apply_rope on arbitrary arguments returns finite-shape float64 output or raises
    ValueError/TypeError."""
    try:
        out = refrope.apply_rope(x, pos, freqs, layout=layout, rotary_offset=offset)
    except (ValueError, TypeError):
        return
    assert out.dtype == np.float64 and out.shape == np.shape(x)


@pytest.mark.parametrize("variant", VARIANT_NAMES)
@given(data=st.data())
def test_inputs_never_mutated(variant, data):
    """[V-MUT-1] inv_freq leaves its parameters untouched; apply_rope, cos_sin leave x, positions, inv_freq
    untouched."""
    params = data.draw(variant_params(variant, 8), label="params")
    before = copy.deepcopy(params)
    f = refrope.inv_freq(variant, 8, **params)
    assert params == before
    x = np.arange(24.0).reshape(3, 8)
    pos = np.array([3, 1, 2])
    inv = np.array(f.inv_freq)
    snapshot = (x.copy(), pos.copy(), inv.copy())
    for layout in refrope.LAYOUTS:
        refrope.apply_rope(x, pos, inv, layout=layout)
        refrope.apply_rope(x, pos, f, layout=layout)
        refrope.cos_sin(pos, inv, layout=layout)
    assert all(np.array_equal(a, b) for a, b in zip((x, pos, inv), snapshot))
    assert x.flags.writeable and pos.flags.writeable


@pytest.mark.parametrize("theta, variant, params", [(1e-320, "default", {}), (1e-320, "ntk_fixed", {"factor": 2.0}),
                                                    (1e-319, "linear", {"factor": 2.0})])
def test_extreme_values_are_errors_not_warnings(theta, variant, params):
    """[V-ERR-1] Inputs whose frequencies overflow float64 raise ValueError naming theta, never a RuntimeWarning."""
    with pytest.raises(ValueError, match="theta"):
        refrope.inv_freq(variant, 64, theta=theta, **params)
