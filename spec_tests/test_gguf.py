"""[GF-*]: GGUF files in (docs/spec/gguf.md). Real configs converted the way llama.cpp's converter converts them
(spec_tests/gguf_convert.py) give the frequencies of ``from_hf_config`` of the original config, within the
float32 storage (and, for Llama 3, the float32 computation) of the factor tensors."""

from __future__ import annotations

import copy
import sys

import numpy as np
import pytest

import refrope
from refrope.budgets import inv_freq_budget

from .gguf_convert import convert
from .hf_models import MODEL_CONFIGS

gguf = pytest.importorskip("gguf")
U32 = 2.0**-24


def _config(name: str) -> dict:
    return copy.deepcopy(MODEL_CONFIGS[name][1])


def _assert_close(got, expected, budget) -> None:
    assert got.rotary_dim == expected.rotary_dim
    assert np.all(np.abs(got.inv_freq - expected.inv_freq) <= budget), np.max(np.abs(got.inv_freq - expected.inv_freq)
                                                                              / budget)
    assert abs(got.attention_factor - expected.attention_factor) <= 2 * U32 * expected.attention_factor


def _write(tmp_path, name="m.gguf", arch="llama", keys=(), tensors=()):
    """A GGUF file with the given (method, value) writer calls and (name, values) float32 tensors."""
    writer = gguf.GGUFWriter(str(tmp_path / name), arch)
    for method, value in keys:
        if method.startswith("add_"):
            getattr(writer, method)(value)
        elif isinstance(value, str):  # a raw key
            writer.add_string(method, value)
        else:
            writer.add_float32(method, value)
    for tensor, values in tensors:
        writer.add_tensor(tensor, np.asarray(values, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return tmp_path / name


def test_llama31_round_trip(tmp_path):
    """[GF-TENSOR-1] [GF-MAP-1] Llama 3.1: the converter bakes llama3 into rope_freqs (computed in float32); the GGUF
    frequencies are within the float32 frequency budget of [N-FREQ-1] of from_hf_config's llama3."""
    pytest.importorskip("torch")
    config = _config("meta-llama/Llama-3.1-8B")
    got = refrope.from_gguf(convert(config, tmp_path / "llama31.gguf"))
    expected = refrope.from_hf_config(config)
    assert got.variant == "custom" and got.params["theta"] == 500000.0
    _assert_close(got, expected, inv_freq_budget(expected, angle_dtype="float32"))


@pytest.mark.parametrize("n_ctx", [None, 4096, 4097, 131072])
def test_phi35_round_trip(tmp_path, n_ctx):
    """[GF-TENSOR-1] [GF-MAP-1] Phi-3.5 (LongRoPE): short factors up to n_ctx = L, long ones past it (llama.cpp's
    n_ctx_per_seq > n_ctx_orig_yarn, transformers' seq_len > L), each within one float32 rounding of the factor;
    the magnitude is the converter's sqrt(1 + ln s / ln L), s = max / L, which transformers also derives."""
    config = _config("microsoft/Phi-3.5-mini-instruct")
    got = refrope.from_gguf(convert(config, tmp_path / "phi35.gguf"), n_ctx=n_ctx)
    expected = refrope.from_hf_config(config, seq_len=n_ctx)
    assert got.variant == "longrope"
    _assert_close(got, expected, 2 * U32 * expected.inv_freq)


@pytest.mark.parametrize("name", ["Qwen/Qwen2.5-7B-Instruct + YaRN x4", "Qwen/Qwen2.5-7B-Instruct"])
def test_qwen25_round_trip(tmp_path, name):
    """[GF-YARN-1] [GF-MAP-1] Qwen2.5, with the model card's YaRN x4 and without scaling: the same frequencies and
    magnitude as transformers (every value here is exact in float32, so they are equal)."""
    config = _config("Qwen/Qwen2.5-7B-Instruct + YaRN x4")
    if "+" not in name:
        del config["rope_scaling"]
    got = refrope.from_gguf(convert(config, tmp_path / "qwen.gguf"))
    expected = refrope.from_hf_config(config)
    assert got.variant == expected.variant
    assert np.array_equal(got.inv_freq, expected.inv_freq) and got.attention_factor == expected.attention_factor


def test_gpt_oss_round_trip_drops_truncate(tmp_path):
    """[GF-YARN-1] gpt-oss: the converter drops YaRN's ``truncate: false`` and ggml floors/ceils the correction
    range, so llama.cpp uses transformers' YaRN with truncate=True: equal to it, and off the model's own YaRN by
    more than the float32 frequency budget on the ramp's pairs (the finding of docs/known_libraries.md)."""
    config = _config("openai/gpt-oss-20b")
    got = refrope.from_gguf(convert(config, tmp_path / "gpt-oss.gguf"))
    truncated = copy.deepcopy(config)
    truncated["rope_scaling"]["truncate"] = True
    _assert_close(got, refrope.from_hf_config(truncated), 0.0 * got.inv_freq)
    original = refrope.from_hf_config(config)
    off = np.abs(got.inv_freq - original.inv_freq) / inv_freq_budget(original, angle_dtype="float32")
    assert np.max(off) > 100 and got.attention_factor == pytest.approx(original.attention_factor, rel=1e-7)


def test_reader_and_inert_keys(tmp_path):
    """[GF-KEYS-1] A gguf.GGUFReader is accepted as well as a path; the inert keys (sliding-window base and
    dimension, scaling.finetuned) change nothing; without dimension_count the head size comes from key_length."""
    plain = _write(tmp_path, "a.gguf", keys=[("add_rope_freq_base", 1e4), ("add_rope_dimension_count", 8)])
    inert = _write(tmp_path, "b.gguf", keys=[("add_rope_freq_base", 1e4), ("add_rope_dimension_count", 8),
                                             ("add_rope_freq_base_swa", 10.0), ("add_rope_scaling_finetuned", True)])
    keyed = _write(tmp_path, "c.gguf", keys=[("add_rope_freq_base", 1e4), ("add_key_length", 8)])
    expected = refrope.inv_freq("default", 8, theta=1e4)
    for path in (plain, inert, keyed):
        assert refrope.from_gguf(path) == expected
    assert refrope.from_gguf(gguf.GGUFReader(str(plain))) == expected


def test_ggml_ramp_where_the_correction_range_is_empty(tmp_path):
    """[GF-YARN-1] Where the floored correction dimension of beta_fast exceeds d - 1 (tiny base), ggml's ramp
    ``max(0.001, high - low)`` keeps every pair (extrapolates), unlike transformers' inverted ramp: from_gguf
    returns ggml's frequencies, theta^(-2i/d), magnitude 0.1 ln k + 1."""
    path = _write(tmp_path, keys=[("add_rope_freq_base", 2.0), ("add_rope_dimension_count", 4),
                                  ("add_rope_scaling_type", gguf.RopeScalingType.YARN),
                                  ("add_rope_scaling_factor", 8.0), ("add_rope_scaling_orig_ctx_len", 4096)])
    got = refrope.from_gguf(path)
    assert got.variant == "custom"
    assert np.array_equal(got.inv_freq, [1.0, 2.0**-0.5]) and got.attention_factor == pytest.approx(0.1 * np.log(8) + 1)


@pytest.mark.parametrize("key, value", [
    ("llama.rope.scaling.alpha", 1000.0), ("llama.rope.scaling.yarn_attn_factor", 0.5),
    ("llama.rope.scaling.foo", 1.0), ("llama.rope.scaling.yarn_beta_fast", 16.0),
    ("llama.rope.scaling.yarn_ext_factor", 0.5)])
def test_unsupported_keys_are_named(tmp_path, key, value):
    """[GF-KEYS-1] An unknown or unsupported {arch}.rope.* setting is a ValueError naming the key (never read
    around): Hunyuan's alpha, the YaRN attn factor llama.cpp overrides, a typo, non-default YaRN betas."""
    path = _write(tmp_path, keys=[("add_rope_freq_base", 1e4), ("add_rope_dimension_count", 8),
                                  ("add_rope_scaling_type", gguf.RopeScalingType.YARN),
                                  ("add_rope_scaling_factor", 4.0), ("add_rope_scaling_orig_ctx_len", 4096),
                                  (key, value)])
    with pytest.raises(ValueError, match=key.removeprefix("llama.")):
        refrope.from_gguf(path)


def test_sections_type_and_tensor_errors(tmp_path):
    """[GF-KEYS-1] [GF-TENSOR-1] M-RoPE sections, an unknown scaling type, a factor tensor of the wrong length and
    both kinds of factor tensors at once are ValueErrors naming what is wrong; a non-path is a TypeError."""
    base = [("add_rope_freq_base", 1e4), ("add_rope_dimension_count", 8)]
    cases = [
        (dict(keys=[*base, ("add_rope_dimension_sections", [2, 1, 1, 0])]), "dimension_sections"),
        (dict(keys=[*base, ("llama.rope.scaling.type", "dynamic")]), "scaling.type"),
        (dict(keys=base, tensors=[("rope_freqs.weight", [1.0, 2.0])]), "rope_freqs"),
        (dict(keys=base, tensors=[("rope_freqs.weight", [1.0] * 4), ("rope_factors_long.weight", [1.0] * 4),
                                  ("rope_factors_short.weight", [1.0] * 4)]), "both"),
        (dict(keys=base, tensors=[("rope_factors_long.weight", [1.0] * 4)]), "partner"),
    ]
    for i, (kwargs, match) in enumerate(cases):
        with pytest.raises(ValueError, match=match):
            refrope.from_gguf(_write(tmp_path, f"e{i}.gguf", **kwargs))
    with pytest.raises(TypeError, match="path_or_reader"):
        refrope.from_gguf({"llama.rope.freq_base": 1e4})


def test_missing_extra_names_it(tmp_path, monkeypatch):
    """[GF-KEYS-1] Without the gguf package, from_gguf of a path is an ImportError naming the extra."""
    path = _write(tmp_path, keys=[("add_rope_freq_base", 1e4), ("add_rope_dimension_count", 8)])
    monkeypatch.setitem(sys.modules, "gguf", None)
    with pytest.raises(ImportError, match=r"refrope\[gguf\]"):
        refrope.from_gguf(path)
