"""from_hf_config on vLLM's rope types, keys and policies, against vLLM 0.33's formulas written out in
spec_tests/vllm_formulas.py (docs/spec/hf_config.md, [H-VLLM-1] to [H-VLLM-4]).

vLLM is not installed; each transcription names its file. Both sides compute in float64, so agreement is
to a few float64 roundings (relative 1e-12).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import refrope
from refrope import from_hf_config, hf_query_scale
from spec_tests import hf_models
from spec_tests import vllm_formulas as vllm

RTOL = 1e-12


def _close(ours: refrope.Frequencies, inv: np.ndarray, mscale: float = 1.0) -> None:
    __tracebackhide__ = True
    np.testing.assert_allclose(ours.inv_freq, inv, rtol=RTOL, atol=0.0)
    assert ours.attention_factor == pytest.approx(mscale, rel=RTOL)


def _config(rope: dict, d: int = 64, theta: float = 10000.0, **top) -> dict:
    return {"head_dim": d, "rope_theta": theta, "max_position_embeddings": 8192, **top, "rope_parameters": rope}


@pytest.mark.parametrize("mixed_b", [None, 0.5, 0.625, 1.0])
@pytest.mark.parametrize(("d", "theta", "factor"), [(64, 10000.0, 4.0), (128, 500000.0, 16.0), (8, 100.0, 1.0)])
def test_ntk_matches_vllm(d, theta, factor, mixed_b):
    """[H-VLLM-1] vLLM's rope type ntk is ntk_fixed, with mixed_b ntk_mixed (b = mixed_b), as vLLM's
    NTKScalingRotaryEmbedding computes them."""
    rope = {"rope_type": "ntk", "factor": factor, "mixed_b": mixed_b}
    ours = from_hf_config(_config(rope, d, theta))
    assert ours.variant == ("ntk_fixed" if mixed_b is None else "ntk_mixed")
    _close(ours, vllm.ntk(d, theta, factor, mixed_b))


@pytest.mark.parametrize("alpha", [1.0, 4.0, 1000.0])
def test_dynamic_alpha_is_ntk_aware_as_vllm(alpha):
    """[H-VLLM-1] dynamic with alpha (Hunyuan) is ntk_aware with k = alpha, vLLM's DynamicNTKAlphaRotaryEmbedding;
    a factor beside alpha is not read, and neither are the YaRN keys Hunyuan's checkpoints carry."""
    rope = {"type": "dynamic", "alpha": alpha, "factor": 1.0, "beta_fast": 32, "beta_slow": 1, "mscale": 1.0,
            "mscale_all_dim": 1.0}
    ours = from_hf_config(_config(rope, 128))
    assert ours.variant == "ntk_aware"
    _close(ours, vllm.ntk_alpha(128, 10000.0, alpha))


def test_hunyuan_alpha_is_not_plain_rope():
    """[H-VLLM-1] The issue's Hunyuan case: alpha 1000 moves the lowest frequency by more than 99.9 %, so reading
    it as plain RoPE (dropping alpha) is far outside any budget."""
    ours = from_hf_config(_config({"type": "dynamic", "alpha": 1000.0, "factor": 1.0}, 128))
    plain = refrope.inv_freq("default", 128)
    assert abs(ours.inv_freq[-1] / plain.inv_freq[-1] - 1.0) > 0.998


@pytest.mark.parametrize(("max_position", "trained", "seq_len"), [
    (8192, None, None), (8192, 2048, None), (8192, 2048, 4096), (8192, 4096, 2048), (32768, 8192, 65536)])
def test_dynamic_at_max_length_matches_vllm(max_position, trained, seq_len):
    """[H-VLLM-3] dynamic="at_max_length" is vLLM's DynamicNTKScalingRotaryEmbedding: one evaluation at the
    engine's maximum position (seq_len; None: max_position_embeddings) against max_trained_positions
    (default max_position_embeddings), unscaled at or below it."""
    rope = {"rope_type": "dynamic", "factor": 4.0, "max_trained_positions": trained}
    config = _config(rope, max_position_embeddings=max_position)
    ours = from_hf_config(config, seq_len=seq_len, dynamic="at_max_length")
    engine_max = max_position if seq_len is None else seq_len
    _close(ours, vllm.dynamic_ntk(64, 10000.0, 4.0, engine_max, trained or max_position))


def test_dynamic_policies_differ_only_at_none():
    """[H-VLLM-3] per_call's None is initialisation (L: unscaled); at_max_length's None is the maximum position
    max_position_embeddings (scaled when max_trained_positions is below it); a given seq_len reads the same."""
    config = _config({"rope_type": "dynamic", "factor": 4.0, "max_trained_positions": 2048})
    default = from_hf_config({**config, "rope_parameters": {"rope_type": "default"}})
    np.testing.assert_array_equal(from_hf_config(config).inv_freq, default.inv_freq)
    assert from_hf_config(config, seq_len=8192) == from_hf_config(config, seq_len=8192, dynamic="at_max_length")
    assert from_hf_config(config, dynamic="at_max_length") == from_hf_config(config, seq_len=8192)


@pytest.mark.parametrize(("attn_factor", "apply"), [(None, None), (1.5, None), (1.5, False), (0.8, True)])
def test_vllm_yarn_keys_match_vllm(attn_factor, apply):
    """[H-VLLM-2] YaRN with vLLM's attn_factor / apply_yarn_scaling: magnitude get_mscale(k) * attn_factor, or
    attn_factor alone, frequencies as vLLM's YaRNScalingRotaryEmbedding (truncated ramp bounds)."""
    rope = {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 4096, "attn_factor": attn_factor,
            "apply_yarn_scaling": apply, "extrapolation_factor": 1.0}
    ours = from_hf_config(_config(rope, 128, 500000.0))
    mscale = vllm.yarn_mscale_apply(8.0, 1.0 if attn_factor is None else attn_factor, apply is not False)
    _close(ours, vllm.yarn_inv_freq(128, 500000.0, 8.0, 4096), mscale)


@pytest.mark.parametrize(("mscale", "mscale_all_dim", "attn_factor"), [
    (None, None, None), (0.707, None, None), (1.0, 1.0, None), (0.707, 0.707, 1.2), (None, 1.0, None), (0, 0, None)])
@pytest.mark.parametrize("rope_type", ["deepseek_yarn", "deepseek_llama_scaling"])
def test_deepseek_yarn_matches_vllm(rope_type, mscale, mscale_all_dim, attn_factor):
    """[H-VLLM-2] deepseek_yarn is vLLM's DeepseekScalingRotaryEmbedding: mscale 1 and mscale_all_dim 0 by default,
    a lone mscale counts, attn_factor multiplies, the ramp bounds are always rounded."""
    rope = {"rope_type": rope_type, "factor": 40.0, "original_max_position_embeddings": 4096, "mscale": mscale,
            "mscale_all_dim": mscale_all_dim, "attn_factor": attn_factor}
    ours = from_hf_config(_config(rope, 64, 10000.0))
    expected = vllm.deepseek_mscale(40.0, *(v for v, default in ((mscale, 1.0), (mscale_all_dim, 0.0), (attn_factor,
                                                                                                       1.0))
                                            for v in [default if v is None else v]))
    _close(ours, vllm.yarn_inv_freq(64, 10000.0, 40.0, 4096), expected)


def test_lone_mscale_policy():
    """[H-VLLM-3] yarn_mscale="lone" reads yarn as vLLM's DeepSeek models do (a lone mscale counts); the default
    "pair" reads it as transformers (a lone mscale is ignored)."""
    config = _config({"rope_type": "yarn", "factor": 40.0, "original_max_position_embeddings": 4096,
                      "mscale": 0.707})
    assert from_hf_config(config).attention_factor == pytest.approx(0.1 * math.log(40) + 1, rel=1e-15)
    lone = from_hf_config(config, yarn_mscale="lone")
    _close(lone, vllm.yarn_inv_freq(64, 10000.0, 40.0, 4096), vllm.deepseek_mscale(40.0, 0.707, 0.0))


def test_telechat3_yarn_matches_vllm():
    """[H-VLLM-2] telechat3-yarn is YaRN with the magnitude 0.07 ln k + 1 (vLLM's TeleChat3 rotary)."""
    rope = {"rope_type": "telechat3-yarn", "factor": 8.0, "original_max_position_embeddings": 8192}
    ours = from_hf_config(_config(rope, 128, 1000000.0))
    _close(ours, vllm.yarn_inv_freq(128, 1000000.0, 8.0, 8192), vllm.telechat3_mscale(8.0))


@pytest.mark.parametrize("truncate", [True, False, None])
def test_rounded_yarn_bounds_match_older_vllm(truncate):
    """[H-VLLM-3] yarn_bounds="rounded" floors/ceils the ramp bounds whatever truncate says, as vLLM before
    PR #28244 did for gpt-oss; "as_config" honours truncate=False (gpt-oss: the bounds 8.09 and 17.40 stay real)."""
    config = copy.deepcopy(hf_models.MODEL_CONFIGS["openai/gpt-oss-20b"][1])
    config["rope_scaling"]["truncate"] = truncate
    rounded = from_hf_config(config, yarn_bounds="rounded")
    _close(rounded, vllm.yarn_inv_freq(64, 150000.0, 32.0, 4096), vllm.yarn_get_mscale(32.0))
    as_config = from_hf_config(config)
    expected = vllm.yarn_inv_freq(64, 150000.0, 32.0, 4096, truncate=truncate is not False)
    _close(as_config, expected, vllm.yarn_get_mscale(32.0))


@pytest.mark.parametrize("max_model_len", [None, 4096, 4097, 131072])
@pytest.mark.parametrize("mscales", [{}, {"short_mscale": 1.1, "long_mscale": 1.3}])
def test_longrope_at_max_length_matches_vllm(max_model_len, mscales):
    """[H-VLLM-3] longrope="at_max_length" is vLLM's Phi3LongRoPEScaledRotaryEmbedding: the long factors iff the
    maximum length exceeds L (None: L, vLLM's default for longrope), the magnitude from M / L whatever the
    config's factor, or short_mscale / long_mscale."""
    config = copy.deepcopy(hf_models.MODEL_CONFIGS["microsoft/Phi-3.5-mini-instruct"][1])
    config["rope_scaling"].update(mscales, factor=64.0)  # vLLM ignores an explicit factor
    ours = from_hf_config(config, seq_len=max_model_len, longrope="at_max_length")
    rope = config["rope_scaling"]
    inv, mscale = vllm.longrope(96, 10000.0, 131072, 4096, rope["short_factor"], rope["long_factor"],
                                4096 if max_model_len is None else max_model_len, **mscales)
    _close(ours, inv, mscale)


def test_deepseek_v4_reads_as_transformers_and_vllm():
    """[H-VLLM-4] A flat DeepSeek-V4 config is nested as DeepseekV4Config does: main (plain RoPE, rope_theta) and
    compress (YaRN at compress_rope_theta, magnitude 1: vLLM's mscale 0 / mscale_all_dim 0), each over
    head_dim * qk_rope_head_dim / head_dim = 64 dimensions."""
    config = {"model_type": "deepseek_v4", "head_dim": 512, "qk_rope_head_dim": 64, "rope_theta": 10000.0,
              "compress_rope_theta": 160000.0, "max_position_embeddings": 1048576,
              "rope_scaling": {"type": "yarn", "factor": 16.0, "original_max_position_embeddings": 65536,
                               "beta_fast": 32, "beta_slow": 1}}
    _close(from_hf_config(config, layer_type="main"), vllm.base_inv_freq(64, 10000.0))
    compress = from_hf_config(config, layer_type="compress")
    _close(compress, vllm.yarn_inv_freq(64, 160000.0, 16.0, 65536), vllm.deepseek_mscale(16.0, 0, 0))


@pytest.mark.parametrize("inverse", [False, True])
def test_deepseek_v4_trailing_slice_and_inverse(inverse):
    """[H-VLLM-4] DeepSeek-V4 rotates the trailing d channels in GPT-J pairs, and its inverse rotation (the
    de-rotated attention output) is the rotation by -p: apply_rope(layout="interleaved",
    rotary_offset=head_dim - d) at p or -p equals vLLM's DeepseekV4ScalingRotaryEmbedding.forward_native."""
    freqs = refrope.inv_freq("yarn", 64, theta=160000.0, factor=16.0, original_max_position_embeddings=65536,
                             attention_factor=1.0)
    x = np.random.default_rng(3).standard_normal((2, 7, 512))
    positions = np.array([0, 1, 5, 100, 4096, 70000, 1048575])
    ours = refrope.apply_rope(x, -positions if inverse else positions, freqs, layout="interleaved",
                              rotary_offset=512 - 64)
    expected = vllm.deepseek_v4_rotate(x, positions, freqs.inv_freq, 1.0, inverse)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9 * np.abs(x).max())


def test_llama_4_scaling_beta_is_a_query_scale():
    """[H-QSCALE-1] [G-LLAMA4-2] llama_4_scaling_beta (Mistral 4) gives the query scale 1 + beta ln(1 + floor(p / L))
    of vLLM and transformers, L the rope dict's original_max_position_embeddings; it does not change the
    frequencies."""
    config = {"model_type": "mistral4", "qk_rope_head_dim": 64, "qk_nope_head_dim": 64,
              "max_position_embeddings": 1048576,
              "rope_parameters": {"type": "yarn", "factor": 128.0, "original_max_position_embeddings": 8192,
                                  "llama_4_scaling_beta": 0.1, "max_position_embeddings": 1048576}}
    scale = hf_query_scale(config)
    positions = np.array([0.0, 8191.0, 8192.0, 16384.0, 1e6])
    np.testing.assert_allclose(scale(positions), vllm.llama_4_scaling(positions, 0.1, 8192), rtol=1e-15)
    without = {**config, "rope_parameters": {k: v for k, v in config["rope_parameters"].items()
                                             if k != "llama_4_scaling_beta"}}
    assert from_hf_config(config) == from_hf_config(without)
    assert hf_query_scale(without) is None


@pytest.mark.parametrize(("rope", "kwargs", "fragments"), [
    ({"rope_type": "yarn", "factor": 4.0, "attn_factor": 1.5, "mscale": 1.0}, {}, ["attn_factor", "mscale"]),
    ({"rope_type": "yarn", "factor": 4.0, "extrapolation_factor": 0.5}, {}, ["extrapolation_factor", "0.5"]),
    ({"rope_type": "deepseek_yarn", "factor": 4.0, "original_max_position_embeddings": 64,
      "attention_factor": 1.0}, {}, ["attention_factor", "'deepseek_yarn'", "mscale_all_dim"]),
    ({"rope_type": "yarn", "factor": 4.0, "attention_factor": 1.0}, {"yarn_mscale": "lone"},
     ["attention_factor", "DeepSeek"]),
    ({"rope_type": "deepseek_yarn", "factor": 4.0}, {}, ["original_max_position_embeddings", "deepseek_yarn"]),
    ({"rope_type": "ntk", "mixed_b": 0.5}, {}, ["'factor'", "'ntk'"]),
    ({"rope_type": "longrope", "short_factor": [1.0, 1.0], "long_factor": [2.0, 2.0], "attention_factor": 1.0,
      "short_mscale": 1.1}, {}, ["attention_factor", "short_mscale"]),
    ({"rope_type": "default"}, {"dynamic": "fixed"}, ["dynamic", "'fixed'"]),
    ({"rope_type": "default"}, {"longrope": 1}, ["longrope", "1"]),
    ({"rope_type": "default"}, {"yarn_bounds": "floor"}, ["yarn_bounds", "'floor'"]),
    ({"rope_type": "default"}, {"yarn_mscale": "both"}, ["yarn_mscale", "'both'"]),
])
def test_vllm_readings_reject_what_they_cannot_read(rope, kwargs, fragments):
    """[H-VLLM-2] [H-VLLM-3] [H-ERR-1] Mixed YaRN generations, partial extrapolation, keys vLLM's DeepSeek YaRN does
    not read, missing keys vLLM requires, two magnitudes, and unknown policies raise errors naming them."""
    with pytest.raises((ValueError, TypeError)) as info:
        from_hf_config({"head_dim": 4, "max_position_embeddings": 256, "rope_parameters": rope}, **kwargs)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
