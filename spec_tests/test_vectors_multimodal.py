"""[MM-GV-1] The multimodal golden vectors (``rope_nd_vV.json``): what they cover, and that each case's recorded
scheme regenerates its axes and positions (the replay against the backend is spec_tests/test_vectors.py)."""

from __future__ import annotations

import numpy as np
import pytest

import refrope
from refrope.multimodal import engine_axes
from refrope.vectors.cases_multimodal import segments_of


@pytest.fixture(scope="module")
def nd_cases(vector_dir):
    return [c for c in refrope.vectors.load(vector_dir) if c.function == "apply_rope_nd"]


def test_coverage(nd_cases):
    """[MM-GV-1] Blocked and interleaved M-RoPE (Qwen2-VL, Qwen2.5-VL with tokens_per_second, Qwen3-VL), Qwen3.5's
    partial rotary, ids near 2^20, every vision tower, the ggml_imrope and ernie45_vl tables; inputs exact in
    float32."""
    schemes = [c.test["scheme"] for c in nd_cases]
    assert {s["mode"] for s in schemes if s["kind"] == "mrope"} == {"blocked", "interleaved"}
    assert {s["tower"] for s in schemes if s["kind"] == "vision"} == set(refrope.multimodal.VISION_KINDS)
    assert {s["table"] for s in schemes if s["kind"] == "engine"} == {"ggml_imrope", "ernie45_vl"}
    assert any(c.test["positionsFrom"] and c.test["positionsFrom"]["tokensPerSecond"] for c in nd_cases)
    assert any(c.inputs["x"].shape[-1] > 2 * len(c.inputs["inv_freq"]) for c in nd_cases)
    assert max(float(c.inputs["positions"].max()) for c in nd_cases) >= 2**20 - 32
    assert {c.inputs["layout"] for c in nd_cases} >= {"half", "interleaved"}
    for c in nd_cases:
        assert np.array_equal(c.inputs["x"].astype(np.float32).astype(np.float64), c.inputs["x"]), c.name


def test_schemes_regenerate_axes_and_positions(nd_cases):
    """[MM-GV-1] Each case's axes come from its scheme (mrope_axes, vision_rope, engine_axes) and its M-RoPE
    positions from mrope_positions(positionsFrom) + start, so a harness can check its own id generator."""
    for c in nd_cases:
        s, axes = c.test["scheme"], c.inputs["axes"].tolist()
        if s["kind"] == "mrope":
            assert axes == refrope.mrope_axes(s["sections"], s["mode"]).tolist(), c.name
        elif s["kind"] == "vision":
            v = refrope.vision_rope(s["tower"], head_dim=c.inputs["x"].shape[-1], grid=s["grid"],
                                    spatial_merge_size=s["spatialMergeSize"])
            assert axes == v.axes.tolist() and np.array_equal(c.inputs["positions"], v.positions), c.name
            assert np.array_equal(c.inputs["inv_freq"], v.freqs), c.name
        else:
            assert axes == engine_axes(s["table"], s["sections"], rotary_dim=2 * len(axes)).tolist(), c.name
        source = c.test["positionsFrom"]
        if source:
            tps = None if source["tokensPerSecond"] is None else float.fromhex(source["tokensPerSecond"])
            positions, _ = refrope.mrope_positions(segments_of(source), spatial_merge_size=source["spatialMergeSize"],
                                                   tokens_per_second=tps, resume=source["resume"])
            assert np.array_equal(c.inputs["positions"], source["start"] + positions), c.name


def test_expected_is_the_oracle(nd_cases):
    """[MM-GV-1] Each expected value is refrope.apply_rope_nd of the recorded inputs (to 4 ULP: platform sin/cos)."""
    for c in nd_cases:
        i = c.inputs
        got = refrope.apply_rope_nd(i["x"], i["positions"], refrope.Frequencies(i["inv_freq"], i["attention_factor"]),
                                    axes=i["axes"], layout=i["layout"], rotary_offset=i["rotary_offset"])
        assert np.all(np.abs(got - c.expected) <= 4 * np.spacing(np.abs(c.expected)) + 1e-300), c.name
