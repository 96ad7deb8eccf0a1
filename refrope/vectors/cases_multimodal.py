r"""The multimodal golden vectors: ``apply_rope_nd`` cases of M-RoPE, the vision towers and two engine tables.

Each case records its scheme (``{"kind": "mrope", "sections", "mode"}``, ``{"kind": "vision", "tower", "grid",
"spatialMergeSize"}`` or ``{"kind": "engine", "table", "sections"}``), the pair-to-axis map ``axes``, the position
rows (``nAxes`` rows of ``seqLen``), and for M-RoPE the segments they come from (``positionsFrom``: the
:func:`refrope.mrope_positions` arguments and a ``start`` added to every id), so a harness can check its own
position generator as well as its rotation. Inputs are float32 dyadics of the case's seed; expected values the
oracle's float64 :func:`refrope.apply_rope_nd`. File ``rope_nd_vV.json``, schema ``RopeNdTest``.
Spec: [MM-GV-1], [GV-CASES-1], [GV-BUDGET-1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import inv_freq
from ..frequencies.base import Frequencies
from ..multimodal import apply_rope_nd, engine_axes, engine_freqs, mrope_axes, mrope_positions, vision_rope
from .generate import dyadic
from .jsonfmt import document, from_hex_list, hex_list, hexf, unhex
from .version import FORMAT_VERSION

__all__ = ["NdCase", "ND_CASES", "ND_NOTES", "nd_record", "nd_document", "nd_inputs"]

ND_NOTES = {
    "MRoPE": "positions have three rows (t, h, w); sections count pairs; text rows are equal, vision rows differ",
    "Vision": "a vision tower's 2-D rotary: positions (row, column) in the tower's token order",
    "EngineTable": "an engine's own pair-to-stream table (refrope.multimodal.ENGINE_TABLES)",
    "LongContext": "positions from 2^11 up to 2^20: the angle error of a float32 p*omega dominates the budget",
    "LargeTheta": "theta of 5e5 or more: frequencies down to 1e-6 per position",
    "PartialRotary": "the rotary slice is part of the head: the other coordinates must pass through",
}


@dataclass(frozen=True)
class NdCase:
    """One ``apply_rope_nd`` case; ``scheme`` names how axes, positions and frequencies are made."""

    name: str
    scheme: tuple
    freq: tuple | None  # (variant, rotary_dim, theta, params) for M-RoPE; None: the scheme's own
    layout: str
    head_dim: int
    seed: int
    comment: str
    segments: tuple = ()
    tokens_per_second: float | None = None
    start: int = 0
    flags: tuple[str, ...] = ()
    clauses: tuple[str, ...] = ("MM-ND-1",)


_QWEN2 = ((("text", 3), ("image", 1, 4, 6), ("text", 2), ("video", 2, 4, 4), ("text", 2)))
_QWEN25 = ((("text", 2), ("video", 4, 4, 4, 1.0), ("text", 2), ("image", 1, 4, 4), ("text", 1)))
_QWEN3 = ((("text", 2), ("video", 1, 4, 4), ("text", 2), ("video", 1, 4, 4), ("text", 2), ("image", 1, 4, 6),
           ("text", 1)))
_MR = ("MM-ND-1", "MM-MROPE-1", "MM-POS-1")

ND_CASES = (
    NdCase("qwen2_vl", ("mrope", (16, 24, 24), "blocked"), ("default", 128, 1e6, ()), "half", 128, 300,
           "Qwen2-VL: blocked [16, 24, 24], text, image, video", _QWEN2, flags=("MRoPE", "LargeTheta"), clauses=_MR),
    NdCase("qwen2_vl_interleaved_layout", ("mrope", (16, 24, 24), "blocked"), ("default", 128, 1e6, ()),
           "interleaved", 128, 301, "blocked M-RoPE in the interleaved (GPT-J) pair layout", _QWEN2,
           flags=("MRoPE", "LargeTheta"), clauses=(*_MR, "C-LAYOUT-1")),
    NdCase("qwen2_5_vl_yarn", ("mrope", (16, 24, 24), "blocked"),
           ("yarn", 128, 1e6, (("factor", 4.0), ("original_max_position_embeddings", 32768))), "half", 128, 302,
           "Qwen2.5-VL: YaRN recipe with mrope_section, video at 2 tokens per second", _QWEN25, 2.0,
           flags=("MRoPE", "LargeTheta"), clauses=(*_MR, "MM-POS-2")),
    NdCase("qwen3_vl", ("mrope", (24, 20, 20), "interleaved"), ("default", 128, 5e6, ()), "half", 128, 303,
           "Qwen3-VL: interleaved [24, 20, 20], video frames between timestamp text, an image", _QWEN3,
           flags=("MRoPE", "LargeTheta"), clauses=(*_MR, "MM-AXES-2")),
    NdCase("qwen3_5_partial", ("mrope", (11, 11, 10), "interleaved"), ("default", 64, 1e7, ()), "half", 256, 304,
           "Qwen3.5: partial rotary 0.25 of 256, interleaved [11, 11, 10]", _QWEN3,
           flags=("MRoPE", "LargeTheta", "PartialRotary"), clauses=(*_MR, "MM-MROPE-3")),
    NdCase("qwen2_vl_long", ("mrope", (16, 24, 24), "blocked"), ("default", 128, 1e6, ()), "half", 128, 305,
           "Qwen2-VL ids near 2^20: the same sequence after 2^20 - 32 tokens", _QWEN2, start=2**20 - 32,
           flags=("MRoPE", "LargeTheta", "LongContext"), clauses=_MR),
    NdCase("vision_qwen2_vl", ("vision", "qwen2_vl", (2, 4, 6), 2), None, "half", 80, 310,
           "Qwen2-VL tower, head 80, two frames of 4 x 6 patches in merge windows", flags=("Vision",),
           clauses=("MM-ND-1", "MM-VIS-1")),
    NdCase("vision_pixtral", ("vision", "pixtral", (3, 5), None), None, "half", 64, 311,
           "Pixtral tower, head 64, 3 x 5 patches", flags=("Vision",), clauses=("MM-ND-1", "MM-VIS-2")),
    NdCase("vision_llama4", ("vision", "llama4", (6, 6), None), None, "interleaved", 88, 312,
           "Llama 4 tower, head 88, 6 x 6 patches and the class token", flags=("Vision",),
           clauses=("MM-ND-1", "MM-VIS-3")),
    NdCase("ggml_imrope_text", ("engine", "ggml_imrope", (24, 20, 20, 0)), None, "half", 128, 320,
           "ggml IMROPE, Qwen3-VL sections, text as llama.cpp feeds it [p, p, p, 0]: pairs 61 and 62 unrotated",
           flags=("EngineTable", "LargeTheta"), clauses=("MM-ND-1", "MM-ENG-2")),
    NdCase("ernie45_vl", ("engine", "ernie45_vl", (22, 22, 20)), None, "interleaved", 128, 321,
           "vLLM Ernie-4.5-VL: h, w alternate on pairs 0-43, t on 44-63", _QWEN2[:2],
           flags=("EngineTable",), clauses=("MM-ND-1", "MM-ENG-1")),
)
"""The ``apply_rope_nd`` cases of ``rope_nd_vV.json``."""

_ENGINE_THETA = {"ggml_imrope": 5e6, "ernie45_vl": 500000.0}


def _scheme(case: NdCase) -> tuple[np.ndarray, np.ndarray, Frequencies]:
    """``(axes, positions, freqs)`` of a case."""
    kind = case.scheme[0]
    if kind == "vision":
        v = vision_rope(case.scheme[1], head_dim=case.head_dim, grid=case.scheme[2], spatial_merge_size=case.scheme[3])
        return v.axes, v.positions, Frequencies(v.freqs, 1.0, "custom", {"theta": v.theta})
    if kind == "mrope":
        variant, d, theta, params = case.freq
        positions, _ = mrope_positions(case.segments, tokens_per_second=case.tokens_per_second)
        return mrope_axes(case.scheme[1], case.scheme[2]), case.start + positions, inv_freq(variant, d, theta=theta,
                                                                                              **dict(params))
    table, sections = case.scheme[1:]
    d, theta = case.head_dim, _ENGINE_THETA[table]
    if table == "ggml_imrope":
        p = np.array([0, 5, 1000, 2**16])
        positions = np.stack([p, p, p, np.zeros_like(p)])
    else:
        positions, _ = mrope_positions(case.segments)
    return (engine_axes(table, sections, rotary_dim=d), positions,
            engine_freqs(table, sections, rotary_dim=d, theta=theta))


@dataclass(frozen=True)
class NdRecord:
    inputs: dict[str, Any]
    expected: np.ndarray
    budget: dict[str, Any]


def nd_record(case: NdCase) -> NdRecord:
    """Inputs, expected :func:`refrope.apply_rope_nd` output and budget inputs of a case; ``maxAngle`` is
    :math:`\\max_i \\max|p_{a_i}|\\,\\omega_i`.

    >>> r = nd_record(ND_CASES[0]); r.expected.shape, r.inputs["positions"].shape
    ((21, 128), (3, 21))
    """
    axes, positions, freqs = _scheme(case)
    positions = np.asarray(positions, dtype=np.float64)
    x = dyadic(case.seed, (positions.shape[1], case.head_dim)).astype(np.float32)
    expected = apply_rope_nd(x, positions, freqs, axes=axes, layout=case.layout)
    max_angle = float(np.max(np.abs(positions).max(axis=1)[axes] * freqs.inv_freq))
    inputs = {"x": x, "positions": positions, "axes": np.asarray(axes), "freqs": freqs, "layout": case.layout}
    return NdRecord(inputs, expected, {"dtype": "float32", "maxAngle": max_angle,
                                       "maxAbsInput": float(np.max(np.abs(x)))})


def _scheme_json(case: NdCase) -> dict:
    kind = case.scheme[0]
    if kind == "mrope":
        return {"kind": "mrope", "sections": list(case.scheme[1]), "mode": case.scheme[2]}
    if kind == "vision":
        return {"kind": "vision", "tower": case.scheme[1], "grid": list(case.scheme[2]),
                "spatialMergeSize": case.scheme[3]}
    return {"kind": "engine", "table": case.scheme[1], "sections": list(case.scheme[2])}


def _positions_from(case: NdCase) -> dict | None:
    if case.scheme[0] != "mrope":
        return None
    segments = [[s[0], *s[1:4], *(hexf(v) for v in s[4:])] for s in case.segments]
    tps = None if case.tokens_per_second is None else hexf(case.tokens_per_second)
    return {"segments": segments, "spatialMergeSize": 2, "tokensPerSecond": tps, "resume": "max",
            "start": case.start}


def _group(freqs: Frequencies, case: NdCase) -> dict:
    variant, params = (case.freq[0], dict(case.freq[3])) if case.freq else ("custom", {})
    return {"type": "RopeNdTest", "variant": variant, "theta": hexf(freqs.params["theta"]),
            "params": {k: hexf(v) if isinstance(v, float) else v for k, v in params.items()},
            "rotaryDim": freqs.rotary_dim, "invFreq": hex_list(freqs.inv_freq),
            "attentionFactor": hexf(freqs.attention_factor), "tests": []}


def nd_document() -> dict:
    """The ``rope_nd_vV.json`` document (Wycheproof-shaped, one group per case's frequencies). Spec: [MM-GV-1]."""
    groups: dict[str, dict] = {}
    for case in ND_CASES:
        record = nd_record(case)
        freqs, i = record.inputs["freqs"], record.inputs
        key = f"{case.freq}" if case.freq else case.name
        group = groups.setdefault(key, _group(freqs, case))
        b = record.budget
        group["tests"].append({
            "comment": case.comment, "flags": sorted(case.flags), "clauses": list(case.clauses), "result": "valid",
            "budget": {"dtype": b["dtype"], "maxAngle": hexf(b["maxAngle"]), "maxAbsInput": hexf(b["maxAbsInput"])},
            "layout": case.layout, "headDim": case.head_dim, "rotaryOffset": 0, "seqLen": int(i["x"].shape[0]),
            "nAxes": int(i["positions"].shape[0]), "axes": [int(a) for a in i["axes"]], "scheme": _scheme_json(case),
            "positionsFrom": _positions_from(case), "positions": hex_list(i["positions"]), "x": hex_list(i["x"]),
            "expected": hex_list(record.expected)})
    return document("apply_rope_nd", "schema/RopeNdTest.schema.json", FORMAT_VERSION, ND_NOTES, list(groups.values()))


def nd_inputs(test: dict) -> tuple[dict, np.ndarray]:
    """``(inputs, expected)`` of a loaded ``apply_rope_nd`` test: ``x``, ``positions`` ``(nAxes, seqLen)``, ``axes``,
    ``rotary_offset``; the group's frequencies are added by the loader.

    >>> inputs, expected = nd_inputs({"seqLen": 1, "headDim": 2, "nAxes": 1, "axes": [0], "rotaryOffset": 0,
    ...     "x": ["0x1.0p+0", "0x0.0p+0"], "positions": ["0x0.0p+0"], "expected": ["0x1.0p+0", "0x0.0p+0"]})
    >>> inputs["axes"], expected
    (array([0]), array([[1., 0.]]))
    """
    n, d, a = test["seqLen"], test["headDim"], test["nAxes"]
    inputs = {"x": from_hex_list(test["x"], (n, d)), "positions": from_hex_list(test["positions"], (a, n)),
              "axes": np.array(test["axes"], dtype=np.int64), "rotary_offset": test["rotaryOffset"]}
    return inputs, from_hex_list(test["expected"], (n, d))


def segments_of(positions_from: dict) -> list[tuple]:
    """The :func:`refrope.mrope_positions` segments of a test's ``positionsFrom`` (hex floats decoded)."""
    return [tuple(s[:4]) + tuple(unhex(v) for v in s[4:]) for s in positions_from["segments"]]
