"""transformers' own RoPE snapshot values and properties, through refrope.from_hf_config ([H-GOLD-1], [H-GOLD-2]).

The expected vectors are copied from huggingface/transformers ``tests/utils/test_modeling_rope_utils.py``
(commit e42e4a43c16b458045aa7b0f721cfe4015680880): ``LlamaConfig()`` defaults, i.e. head_dim 128
(4096 / 32), theta 1e4, max_position_embeddings 2048. They were printed by torch with 5 significant
digits from float32 results, so the bound is half a unit of the 5th digit plus float32 noise.
These tests need neither torch nor transformers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import refrope

LLAMA = {"hidden_size": 4096, "num_attention_heads": 32, "max_position_embeddings": 2048, "rope_theta": 10000.0}

# test_default_rope_numerically, EXPECTED_INV_FREQ
DEFAULT = [
    1.0000e+00, 8.6596e-01, 7.4989e-01, 6.4938e-01, 5.6234e-01, 4.8697e-01, 4.2170e-01, 3.6517e-01,
    3.1623e-01, 2.7384e-01, 2.3714e-01, 2.0535e-01, 1.7783e-01, 1.5399e-01, 1.3335e-01, 1.1548e-01,
    1.0000e-01, 8.6596e-02, 7.4989e-02, 6.4938e-02, 5.6234e-02, 4.8697e-02, 4.2170e-02, 3.6517e-02,
    3.1623e-02, 2.7384e-02, 2.3714e-02, 2.0535e-02, 1.7783e-02, 1.5399e-02, 1.3335e-02, 1.1548e-02,
    1.0000e-02, 8.6596e-03, 7.4989e-03, 6.4938e-03, 5.6234e-03, 4.8697e-03, 4.2170e-03, 3.6517e-03,
    3.1623e-03, 2.7384e-03, 2.3714e-03, 2.0535e-03, 1.7783e-03, 1.5399e-03, 1.3335e-03, 1.1548e-03,
    1.0000e-03, 8.6596e-04, 7.4989e-04, 6.4938e-04, 5.6234e-04, 4.8697e-04, 4.2170e-04, 3.6517e-04,
    3.1623e-04, 2.7384e-04, 2.3714e-04, 2.0535e-04, 1.7783e-04, 1.5399e-04, 1.3335e-04, 1.1548e-04]

# test_dynamic_rope_numerically, EXPECTED_INV_FREQ: {"rope_type": "dynamic", "factor": 10.0}, seq_len=16384
DYNAMIC = [
    1.0000e+00, 8.0931e-01, 6.5498e-01, 5.3008e-01, 4.2900e-01, 3.4720e-01, 2.8099e-01, 2.2741e-01,
    1.8404e-01, 1.4895e-01, 1.2055e-01, 9.7558e-02, 7.8955e-02, 6.3899e-02, 5.1714e-02, 4.1853e-02,
    3.3872e-02, 2.7413e-02, 2.2185e-02, 1.7955e-02, 1.4531e-02, 1.1760e-02, 9.5176e-03, 7.7027e-03,
    6.2339e-03, 5.0451e-03, 4.0831e-03, 3.3045e-03, 2.6744e-03, 2.1644e-03, 1.7517e-03, 1.4176e-03,
    1.1473e-03, 9.2852e-04, 7.5146e-04, 6.0817e-04, 4.9220e-04, 3.9834e-04, 3.2238e-04, 2.6091e-04,
    2.1115e-04, 1.7089e-04, 1.3830e-04, 1.1193e-04, 9.0585e-05, 7.3312e-05, 5.9332e-05, 4.8018e-05,
    3.8861e-05, 3.1451e-05, 2.5453e-05, 2.0600e-05, 1.6672e-05, 1.3492e-05, 1.0920e-05, 8.8374e-06,
    7.1522e-06, 5.7883e-06, 4.6845e-06, 3.7912e-06, 3.0683e-06, 2.4832e-06, 2.0097e-06, 1.6265e-06]

# test_yarn_rope_numerically, EXPECTED_INV_FREQ: {"rope_type": "yarn", "factor": 10.0, "beta_fast": 32, "beta_slow": 1}
YARN = [
    1.0000e+00, 8.6596e-01, 7.4989e-01, 6.4938e-01, 5.6234e-01, 4.8697e-01, 4.2170e-01, 3.6517e-01,
    3.1623e-01, 2.7384e-01, 2.3714e-01, 2.0535e-01, 1.7783e-01, 1.5399e-01, 1.3335e-01, 1.1548e-01,
    1.0000e-01, 8.3479e-02, 6.9590e-02, 5.7925e-02, 4.8136e-02, 3.9931e-02, 3.3061e-02, 2.7315e-02,
    2.2515e-02, 1.8512e-02, 1.5177e-02, 1.2403e-02, 1.0101e-02, 8.1924e-03, 6.6143e-03, 5.3120e-03,
    4.2400e-03, 3.3599e-03, 2.6396e-03, 2.0520e-03, 1.5746e-03, 1.1882e-03, 8.7713e-04, 6.2810e-04,
    4.3007e-04, 2.7384e-04, 2.3714e-04, 2.0535e-04, 1.7783e-04, 1.5399e-04, 1.3335e-04, 1.1548e-04,
    1.0000e-04, 8.6596e-05, 7.4989e-05, 6.4938e-05, 5.6234e-05, 4.8697e-05, 4.2170e-05, 3.6517e-05,
    3.1623e-05, 2.7384e-05, 2.3714e-05, 2.0535e-05, 1.7783e-05, 1.5399e-05, 1.3335e-05, 1.1548e-05]

# test_llama3_rope_numerically, EXPECTED_INV_FREQ: factor 10, original_max_position_embeddings 2048, low 1, high 4
LLAMA3 = [
    1.0000e+00, 8.6596e-01, 7.4989e-01, 6.4938e-01, 5.6234e-01, 4.8697e-01, 4.2170e-01, 3.6517e-01,
    3.1623e-01, 2.7384e-01, 2.3714e-01, 2.0535e-01, 1.7783e-01, 1.5399e-01, 1.3335e-01, 1.1548e-01,
    1.0000e-01, 8.6596e-02, 7.4989e-02, 6.4938e-02, 5.6234e-02, 4.8697e-02, 4.2170e-02, 3.6517e-02,
    3.1623e-02, 2.7384e-02, 2.3714e-02, 2.0535e-02, 1.7783e-02, 1.5399e-02, 1.3335e-02, 1.0730e-02,
    7.7785e-03, 5.6009e-03, 3.9991e-03, 2.8248e-03, 1.9675e-03, 1.3449e-03, 8.9549e-04, 5.7363e-04,
    3.4539e-04, 2.7384e-04, 2.3714e-04, 2.0535e-04, 1.7783e-04, 1.5399e-04, 1.3335e-04, 1.1548e-04,
    1.0000e-04, 8.6596e-05, 7.4989e-05, 6.4938e-05, 5.6234e-05, 4.8697e-05, 4.2170e-05, 3.6517e-05,
    3.1623e-05, 2.7384e-05, 2.3714e-05, 2.0535e-05, 1.7783e-05, 1.5399e-05, 1.3335e-05, 1.1548e-05]


def llama(rope_scaling: dict | None = None) -> dict:
    return {**LLAMA, "rope_scaling": rope_scaling}


def assert_matches_printed(values: np.ndarray, printed: list[float]) -> None:
    """|value - printed| <= half a unit of the 5th significant digit + 2^-21 |printed| (float32 noise)."""
    __tracebackhide__ = True
    printed = np.asarray(printed)
    half_unit = 0.5 * 10.0 ** (np.floor(np.log10(printed)) - 4)
    error = np.abs(values - printed)
    assert values.shape == printed.shape
    assert np.all(error <= half_unit + 2.0**-21 * printed), np.flatnonzero(error > half_unit + 2.0**-21 * printed)


@pytest.mark.parametrize(("rope_scaling", "seq_len", "printed"), [
    (None, None, DEFAULT),
    ({"rope_type": "dynamic", "factor": 10.0}, 16384, DYNAMIC),
    ({"rope_type": "yarn", "factor": 10.0, "beta_fast": 32, "beta_slow": 1}, None, YARN),
    ({"rope_type": "llama3", "factor": 10.0, "original_max_position_embeddings": 2048, "low_freq_factor": 1,
      "high_freq_factor": 4}, None, LLAMA3),
], ids=["default", "dynamic", "yarn", "llama3"])
def test_transformers_snapshots(rope_scaling, seq_len, printed):
    """[H-GOLD-1] transformers' snapshot inv_freq vectors on LlamaConfig() defaults, to their printed precision."""
    assert_matches_printed(refrope.from_hf_config(llama(rope_scaling), seq_len=seq_len).inv_freq, printed)


@pytest.mark.parametrize("factor", [2.0, 10.0, 20.0])
def test_linear_is_default_over_factor(factor):
    """[H-GOLD-2] linear: inv_freq = default / factor exactly, attention factor 1 (transformers' property)."""
    default = refrope.from_hf_config(llama()).inv_freq
    linear = refrope.from_hf_config(llama({"rope_type": "linear", "factor": factor}))
    assert np.array_equal(linear.inv_freq, default / factor) and linear.attention_factor == 1.0


@pytest.mark.parametrize("factor", [2.0, 10.0, 20.0])
@pytest.mark.parametrize("seq_len", [None, 1, 2048])
def test_dynamic_is_default_up_to_max_positions(factor, seq_len):
    """[H-GOLD-2] dynamic equals default (exactly) while seq_len <= max_position_embeddings, magnitude 1."""
    dynamic = refrope.from_hf_config(llama({"rope_type": "dynamic", "factor": factor}), seq_len=seq_len)
    assert np.array_equal(dynamic.inv_freq, refrope.from_hf_config(llama()).inv_freq)
    assert dynamic.attention_factor == 1.0


def test_dynamic_past_max_positions_is_not_linear():
    """[H-GOLD-2] dynamic at seq_len 16384 (factor 10) is not default / factor."""
    dynamic = refrope.from_hf_config(llama({"rope_type": "dynamic", "factor": 10.0}), seq_len=16384).inv_freq
    default = refrope.from_hf_config(llama()).inv_freq
    assert not np.allclose(dynamic, default / 10.0, rtol=1e-3)


@pytest.mark.parametrize("factor", [2.0, 10.0, 20.0])
def test_yarn_attention_factor(factor):
    """[H-GOLD-2] yarn's magnitude is 0.1 ln(factor) + 1 by default, and an explicit attention_factor replaces it."""
    computed = refrope.from_hf_config(llama({"rope_type": "yarn", "factor": factor})).attention_factor
    assert computed == pytest.approx(0.1 * math.log(factor) + 1.0, rel=1e-15)
    explicit = llama({"rope_type": "yarn", "factor": factor, "attention_factor": 0.5})
    assert refrope.from_hf_config(explicit, seq_len=1).attention_factor == 0.5


def test_yarn_bounded_and_interpolating():
    """[H-GOLD-2] yarn lies between default / factor and default; with beta_fast 1000 every entry but the first
    is interpolated and the last 20 equal default / factor."""
    default = refrope.from_hf_config(llama()).inv_freq
    inv = refrope.from_hf_config(llama({"rope_type": "yarn", "factor": 10.0, "beta_fast": 32, "beta_slow": 1})).inv_freq
    assert np.all(default / 10.0 <= inv) and np.all(inv <= default)
    wide = refrope.from_hf_config(llama({"rope_type": "yarn", "factor": 10.0, "beta_fast": 1000, "beta_slow": 1}))
    assert wide.inv_freq[0] == default[0] and np.all(wide.inv_freq[1:] < default[1:])
    np.testing.assert_allclose(wide.inv_freq[-20:], default[-20:] / 10.0, rtol=1e-15)


def test_llama3_bounded_and_all_scaled_at_huge_high_freq_factor():
    """[H-GOLD-2] llama3: magnitude 1, default / factor <= inv_freq <= default, and with high_freq_factor 1000
    no frequency counts as high, so every entry is scaled down."""
    default = refrope.from_hf_config(llama()).inv_freq
    params = {"rope_type": "llama3", "factor": 10.0, "original_max_position_embeddings": 2048, "low_freq_factor": 1}
    llama3 = refrope.from_hf_config(llama({**params, "high_freq_factor": 4}))
    assert llama3.attention_factor == 1.0
    assert np.all(default / 10.0 <= llama3.inv_freq) and np.all(llama3.inv_freq <= default)
    assert np.all(refrope.from_hf_config(llama({**params, "high_freq_factor": 1000})).inv_freq < default)


_SHORT = [2.0] * 64
_LONG = [float(i) for i in range(1, 65)]


@pytest.mark.parametrize("factor", [2.0, 10.0, 20.0])
def test_longrope_attention_factor(factor):
    """[H-GOLD-2] longrope's magnitude is sqrt(1 + ln(factor) / ln(L)), L = max_position_embeddings = 2048 here;
    an explicit attention_factor replaces it."""
    rope = {"rope_type": "longrope", "factor": factor, "short_factor": _SHORT, "long_factor": _LONG}
    assert refrope.from_hf_config(llama(rope)).attention_factor == pytest.approx(
        math.sqrt(1.0 + math.log(factor) / math.log(2048)), rel=1e-15)
    assert refrope.from_hf_config(llama({**rope, "attention_factor": 0.5}), seq_len=1).attention_factor == 0.5


@pytest.mark.parametrize(("factor", "seq_len", "ext"), [(1.0, None, _SHORT), (10.0, None, _SHORT),
                                                        (10.0, 20480, _LONG)])
def test_longrope_short_and_long(factor, seq_len, ext):
    """[H-GOLD-2] longrope divides default by short_factor at initialisation and by long_factor once seq_len
    exceeds L (transformers 5.24 chooses by seq_len; its older test chose long at initialisation for factor 10)."""
    rope = {"rope_type": "longrope", "factor": factor, "short_factor": _SHORT, "long_factor": _LONG}
    default = refrope.from_hf_config(llama()).inv_freq
    np.testing.assert_allclose(refrope.from_hf_config(llama(rope), seq_len=seq_len).inv_freq,
                               default / np.array(ext), rtol=1e-15)
