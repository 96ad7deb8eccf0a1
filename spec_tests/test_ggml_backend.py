"""[K-ADAPT-1] [N-ROPE-3] [GF-YARN-1]: the ggml adapter beyond its conformance run: YaRN, cos_sin and M-RoPE
(ggml_rope_multi) where ggml's ramp agrees with transformers' (the conformance tests of those are xfailed for the
finding below), the finding itself on a hand-computed case, real GGUF files through ggml's kernel, and the adapter's
own errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import refrope
from refrope.frequencies.ramps import correction_range

from .conformance.checks import check_apply_rope, check_cos_sin
from .conformance.checks_nd import check_apply_mrope
from .conformance.strategies import long_positions, pair_counts, thetas
from .conformance.strategies_nd import mrope_cases
from .gguf_convert import convert
from .hf_models import MODEL_CONFIGS
from .strategies import small_floats, variant_params

pytest.importorskip("ggml")
import ggml  # noqa: E402

from refrope import budgets  # noqa: E402
from refrope.backends import load_backend  # noqa: E402
from refrope.backends.ggml_params import RopeExtParams, rope_ext_params  # noqa: E402

BACKEND = load_backend("ggml")


def _ramps_agree(freqs) -> bool:
    """False where ggml's YaRN ramp differs from transformers' (the finding): floored bounds with low > high."""
    p = freqs.params
    if freqs.variant != "yarn" or not p["truncate"]:
        return True
    low, high = correction_range(p["beta_fast"], p["beta_slow"], freqs.rotary_dim, p["theta"],
                                 p["original_max_position_embeddings"])
    return low <= high


@pytest.mark.parametrize("dtype", BACKEND.dtypes)
@pytest.mark.parametrize("layout", ["half", "interleaved"])
@given(data=st.data())
def test_yarn_within_budget_where_the_ramps_agree(dtype, layout, data):
    """[K-ADAPT-1] [N-ROPE-3] ggml's own YaRN (freq_scale 1/k, ext_factor 1, llama.cpp's attn_factor) is within
    budget of the oracle on every YaRN draw of the conformance suite whose correction range is not empty."""
    d = 2 * data.draw(pair_counts, label="pairs")
    freqs = refrope.inv_freq("yarn", d, theta=data.draw(thetas, label="theta"),
                             **data.draw(variant_params("yarn", d), label="params"))
    assume(_ramps_agree(freqs))
    positions = data.draw(hnp.arrays(np.int64, data.draw(st.integers(1, 4)), elements=long_positions))
    x = data.draw(hnp.arrays(np.float64, (positions.shape[0], d + 2), elements=small_floats), label="x")
    check_apply_rope(BACKEND, dtype, x, positions, freqs, layout=layout)


@pytest.mark.parametrize("dtype", BACKEND.dtypes)
@pytest.mark.parametrize("layout", ["half", "interleaved"])
@pytest.mark.parametrize("mode", refrope.multimodal.MODES)
@given(data=st.data())
def test_mrope_within_budget_where_the_ramps_agree(dtype, layout, mode, data):
    """[K-MROPE-1] [N-ROPE-3] ggml_rope_multi (MROPE for blocked, IMROPE for interleaved) on the conformance test's
    M-RoPE cases (Qwen2-VL, Qwen3-VL, Qwen3.5 and random sections; text, video and random position rows; partial
    rotary) is within the per-pair budget of refrope.apply_mrope, YaRN where its correction range is not empty."""
    x, positions, freqs, sections, _ = data.draw(mrope_cases(offsets=False), label="case")
    assume(_ramps_agree(freqs))
    check_apply_mrope(BACKEND, dtype, x, positions, freqs, sections=sections, mode=mode, layout=layout)


@pytest.mark.parametrize("dtype", BACKEND.dtypes)
@pytest.mark.parametrize("layout", ["half", "interleaved"])
@given(data=st.data())
def test_cos_sin_within_budget_where_the_ramps_agree(dtype, layout, data):
    """[K-COSSIN-1] [N-ROPE-3] The conformance test's cos_sin cases (default, YaRN x8, LongRoPE) through ggml's
    kernel on unit pairs, within budget, YaRN where its correction range is not empty."""
    d = 2 * data.draw(st.sampled_from([32, 64]) | st.integers(1, 8), label="pairs")
    variant = data.draw(st.sampled_from(["default", "yarn", "longrope"]), label="variant")
    params = {"yarn": {"factor": 8.0, "original_max_position_embeddings": 4096},
              "longrope": {"short_factor": [1.0] * (d // 2), "long_factor": [4.0] * (d // 2),
                           "original_max_position_embeddings": 4096, "factor": 16.0, "seq_len": 8192}}
    freqs = refrope.inv_freq(variant, d, theta=data.draw(thetas, label="theta"), **params.get(variant, {}))
    assume(_ramps_agree(freqs))
    positions = data.draw(hnp.arrays(np.int64, data.draw(st.integers(1, 5)), elements=long_positions))
    check_cos_sin(BACKEND, dtype, positions, freqs, layout=layout)


def test_finding_yarn_with_an_empty_correction_range():
    """[K-ADAPT-1] [GF-YARN-1] The finding: theta = 2, d = 4, L = 4096 floors the beta_fast correction dimension to
    8 > d - 1 = 3. ggml (ramp over max(0.001, high - low)) keeps both pairs, omega = 2^(-2i/d), where transformers'
    ramp (and the oracle) interpolates both, omega / 8; the magnitude 0.1 ln 8 + 1 is the same."""
    freqs = refrope.inv_freq("yarn", 4, theta=2.0, factor=8.0, original_max_position_embeddings=4096)
    assert correction_range(32.0, 1.0, 4, 2.0, 4096.0) == (8, 3)
    x, positions = np.array([[1.0, 0.0, 1.0, 0.0]]), np.array([3])
    got = BACKEND.function("apply_rope")(np.float32(x), positions, freqs, layout="interleaved")
    kept = refrope.Frequencies([1.0, 2.0**-0.5], attention_factor=0.1 * math.log(8.0) + 1.0)
    assert np.allclose(got, refrope.apply_rope(x, positions, kept, layout="interleaved"), atol=1e-6)
    assert not np.allclose(got, refrope.apply_rope(x, positions, freqs, layout="interleaved"), atol=1e-2)


@pytest.mark.parametrize("name", ["meta-llama/Llama-3.1-8B", "openai/gpt-oss-20b", "microsoft/Phi-3.5-mini-instruct",
                                  "Qwen/Qwen2.5-7B-Instruct + YaRN x4"])
def test_gguf_frequencies_through_ggml(tmp_path, name):
    """[K-ADAPT-1] [GF-MAP-1] [N-ROPE-3] Frequencies read from a converted GGUF file, run through ggml's kernel the
    way llama.cpp runs them (freq_factors for the tensors, ggml's YaRN for YaRN), are within budget of the oracle
    on the same frequencies, at positions up to 2^20 - 1."""
    pytest.importorskip("gguf")
    pytest.importorskip("torch")
    freqs = refrope.from_gguf(convert(MODEL_CONFIGS[name][1], tmp_path / "m.gguf"), n_ctx=131072)
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (4, freqs.rotary_dim))
    for layout in ("half", "interleaved"):
        check_apply_rope(BACKEND, "float32", x, np.array([0, 1, 4097, 2**20 - 1]), freqs, layout=layout)


def test_parameter_mapping():
    """[K-ADAPT-1] The llama.cpp mapping: linear is freq_scale 1/k, NTK-aware a rescaled base, YaRN with
    truncate ggml's YaRN with attn_factor m / (1 + 0.1 ln k) (ggml multiplies its own factor back), and every
    other variant, YaRN without truncate included, baked into freq_factors over base theta."""
    yarn = refrope.inv_freq("yarn", 8, theta=1e4, factor=4.0, original_max_position_embeddings=64, mscale=1.0,
                            mscale_all_dim=0.5)
    p = rope_ext_params(yarn)
    assert p.attn_factor * (1 + 0.1 * math.log(4.0)) == pytest.approx(yarn.attention_factor, rel=1e-15)
    assert rope_ext_params(refrope.inv_freq("ntk_aware", 8, theta=1e4, factor=2.0)).freq_base == \
        pytest.approx(1e4 * 2.0 ** (8 / 6), rel=1e-15)
    gpt_oss = refrope.inv_freq("yarn", 8, theta=1e4, factor=4.0, original_max_position_embeddings=64,
                               truncate=False)
    baked = rope_ext_params(gpt_oss)
    assert baked.ext_factor == 0.0 and baked.freq_factors.dtype == np.float32
    assert np.allclose(1e4 ** (-np.arange(4) / 4) / baked.freq_factors, gpt_oss.inv_freq, rtol=1e-7)
    assert np.isinf(rope_ext_params(refrope.inv_freq("proportional", 8, partial_rotary_factor=0.5)).freq_factors[3])


def test_adapter_errors():
    """[K-ADAPT-1] Frequencies without theta, non-integer positions, a rotary offset, an unknown layout and a
    dtype ggml's CPU rope does not take are ValueErrors naming what is wrong."""
    apply = BACKEND.function("apply_rope")
    x = np.ones((1, 4), np.float32)
    with pytest.raises(ValueError, match="theta"):
        apply(x, [0], refrope.Frequencies([1.0, 0.5]), layout="half")
    freqs = refrope.inv_freq("default", 4)
    with pytest.raises(ValueError, match="int32 positions"):
        apply(x, [0.5], freqs, layout="half")
    with pytest.raises(ValueError, match="rotary_offset"):
        apply(x, [0], freqs, layout="half", rotary_offset=1)
    with pytest.raises(ValueError, match="layouts"):
        apply(x, [0], freqs, layout="interleaved_to_half")
    with pytest.raises(ValueError, match="bfloat16"):
        BACKEND.to_backend(np.ones(2), "bfloat16")
    mrope = BACKEND.function("apply_mrope")
    rows = [[0], [0], [0]]
    with pytest.raises(ValueError, match="rotary_offset"):
        mrope(x, rows, freqs, sections=[1, 1, 0], mode="blocked", rotary_offset=1)
    with pytest.raises(ValueError, match="M-RoPE modes"):
        mrope(x, rows, freqs, sections=[1, 1, 0], mode="vision")
    with pytest.raises(ValueError, match="three for interleaved"):
        mrope(x, rows[:2], freqs, sections=[1, 1], mode="interleaved")
    with pytest.raises(ValueError, match="must sum to rotary_dim/2"):
        mrope(x, rows, freqs, sections=[2, 1, 1], mode="blocked")


def test_imrope_reads_a_fourth_row_where_transformers_keeps_t():
    """[K-MROPE-1] ggml's IMROPE gives Qwen3-VL's pairs 61 and 62 of 64 (sections 24, 20, 20: i mod 3 = 1, 2 past
    3 s_h = 3 s_w = 60) the fourth position row e, where transformers keeps t; every other pair ignores e. The adapter
    passes t as e, so the conformance comparison is of the kernel's formula (refrope/backends/ggml.py MROPE_MODES)."""
    from refrope.backends.ggml import MROPE_MODES, run_rope_ext

    freqs = refrope.inv_freq("default", 128, theta=5e6)
    x = np.zeros((1, 128), np.float32)
    x[0, :64] = 1.0  # the unit pairs (i, i + 64): the output is (cos, sin) of each pair's angle
    t, h, w = 1000, 7, 9
    run = lambda e: run_rope_ext(x, np.array([[t], [h], [w], [e]], np.int32), 128, MROPE_MODES["interleaved"],
                                 rope_ext_params(freqs), sections=(24, 20, 20, 0))
    with_t, with_zero = run(t), run(0)
    changed = np.flatnonzero(np.any(with_t.reshape(2, 64) != with_zero.reshape(2, 64), axis=0))
    assert changed.tolist() == [61, 62]
    expected = refrope.apply_mrope(x.astype(np.float64), [[t], [h], [w]], freqs, sections=[24, 20, 20],
                                   mode="interleaved")
    assert np.abs(with_t - expected).max() < 1e-3  # float32 angles of about 1000 rad: gross agreement only


@pytest.mark.parametrize("table", ["ggml_mrope", "ggml_imrope", "ggml_vision"])
@given(data=st.data())
def test_engine_tables_are_ggml_rope_multi(table, data):
    """[MM-ENG-1] [MM-ENG-2] [N-ROPE-3] refrope's tables of ggml's four-stream modes (engine_axes, engine_freqs through
    apply_rope_nd) are ggml's own kernel: ggml_rope_multi in MROPE, IMROPE and VISION mode on random sections and
    four independent position rows (e included) is within the float32 recurrence budget of the table's rotation."""
    from refrope.backends.ggml import run_rope_ext
    from refrope.multimodal.engines import engine_axes, engine_freqs

    pairs = 2 * data.draw(st.integers(1, 24), label="pairs / 2")
    cuts = sorted(data.draw(st.lists(st.integers(0, pairs), min_size=3, max_size=3), label="cuts"))
    sections = tuple(int(b - a) for a, b in zip([0, *cuts], [*cuts, pairs]))
    assume(any(sections[:3]))  # ggml asserts a t, h or w section
    # VISION restarts each stream's frequency at its section's start in an if-else chain, so an empty section
    # shadows the next stream's restart (that stream then continues the previous one's frequencies;
    # docs/known_libraries.md): four non-empty sections here
    assume(table != "ggml_vision" or all(sections))
    n = data.draw(st.integers(1, 4), label="n")
    positions = data.draw(hnp.arrays(np.int64, (4, n), elements=st.integers(0, 2**16)), label="positions")
    theta = data.draw(st.sampled_from([1e4, 1e6, 5e6]), label="theta")
    d = 2 * pairs
    x = data.draw(hnp.arrays(np.float64, (n, d), elements=small_floats), label="x").astype(np.float32)
    freqs = engine_freqs(table, sections, rotary_dim=d, theta=theta)
    mode = {"ggml_mrope": "GGML_ROPE_TYPE_MROPE", "ggml_imrope": "GGML_ROPE_TYPE_IMROPE",
            "ggml_vision": "GGML_ROPE_TYPE_VISION"}[table]
    n_dims = pairs if table == "ggml_vision" else d  # VISION: n_dims = head/2, every pair of the head rotated
    got = run_rope_ext(x, positions.astype(np.int32), n_dims, getattr(ggml, mode), RopeExtParams(theta),
                       sections=sections)
    expected = refrope.apply_rope_nd(x.astype(np.float64), positions, freqs,
                                     axes=engine_axes(table, sections, rotary_dim=d))
    budget = budgets.rope_nd_budget(x, positions, freqs, axes=engine_axes(table, sections, rotary_dim=d),
                                    dtype="float32", angle_dtype="float32", angle_method="recurrence")
    assert np.all(np.abs(got - expected) <= budget), np.max(np.abs(got - expected) / budget)
