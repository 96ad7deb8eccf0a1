r"""Writing, reading and verifying the vector files of one format version.

Files (``V`` = :data:`~refrope.vectors.FORMAT_VERSION`), all produced by :func:`build`:

=================================  =================================================================
``rope_apply_vV.json``             small ``apply_rope`` cases, Wycheproof-shaped (docs/vectors/json.md)
``rope_apply_vV.txt``              the same cases in a flat text format for C (docs/vectors/text.md)
``attention_vV.json``              small attention cases: every relative-position map and query scale
``rope_long_vV.safetensors``       long-context ``apply_rope`` tensors, with ``.manifest.json``
``attention_long_vV.safetensors``  long-context attention tensors (n up to 8192), with ``.manifest.json``
``rope_nd_vV.json``                ``apply_rope_nd`` cases: M-RoPE, vision towers, engine tables (since v2)
``xpos_vV.json``                   ``apply_xpos`` cases (from version 2)
``dual_chunk_vV.json``             ``dual_chunk_attention`` cases (from version 2)
``index_vV.json``                  every other file's size and SHA-256
=================================  =================================================================

Reading them back is :mod:`~refrope.vectors.loading`. Spec: [GV-FILES-1], [GV-VERIFY-1].
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import safetensors, schemes, textfmt
from .cases_multimodal import nd_document
from .cases_schemes import ATTENTION_SCHEME_CASES, DCA_CASES, SCHEME_NOTES, XPOS_CASES
from .generate import ATTENTION_CASES, FREQS, LONG_ATTENTION_CASES, LONG_ROPE_CASES, ROPE_CASES
from .jsonfmt import document, dumps, hex_list, hexf
from .records import attention_record, rope_record
from .schemas import schema_files
from .version import FORMAT_VERSION, file_names

__all__ = ["file_names", "build", "export", "verify"]

NOTES = {
    "Identity": "position 0 is among the positions: those rows must equal the input (times the magnitude)",
    "LongContext": "positions from 2^11 up to 2^20: the angle error of a float32 p*omega dominates the budget",
    "LargeTheta": "theta of 5e5 or 1e6 (Llama 3, Qwen): frequencies down to 1e-6 per position",
    "LayoutSweep": "the same configuration in all three pair layouts: a layout mix-up shows as a failure here",
    "PartialRotary": "the rotary slice is part of the head, at an offset: the other coordinates must pass through",
    "SlidingWindow": "keys further than the window are masked",
    "ReRoPE": ("a ReRoPE-family map: inside the window RoPE, outside the fixed or rescaled rotation "
               "(kexue.fm/archives/9708, 9728)"),
    "LogN": "a logn query scale multiplies the logits of late queries",
    "GQA": "several query heads share one key/value head",
    "Magnitude": "the frequencies carry a YaRN magnitude m != 1: the logits scale by m^2",
    **SCHEME_NOTES,
}


def _enc(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return hexf(value)
    if isinstance(value, (list, tuple)):
        return [_enc(v) for v in value]
    if isinstance(value, dict):
        return {k: _enc(v) for k, v in value.items()}
    return value


def _group(freq: str, kind: str) -> dict:
    cfg = FREQS[freq]
    f = cfg.freqs()
    return {"type": kind, "variant": cfg.variant, "theta": hexf(cfg.theta), "params": _enc(dict(cfg.params)),
            "rotaryDim": cfg.rotary_dim, "invFreq": hex_list(f.inv_freq), "attentionFactor": hexf(f.attention_factor),
            "tests": []}


def _common(case, record, put) -> dict:
    budget = {k: put(k, v) if isinstance(v, np.ndarray) else _enc(v) for k, v in record.budget.items()}
    return {"comment": case.comment, "flags": sorted(case.flags), "clauses": list(case.clauses), "result": "valid",
            "budget": budget}


def _rope_test(case, record, put: Callable[[str, np.ndarray], Any]) -> dict:
    i = record.inputs
    return {**_common(case, record, put), "layout": case.layout, "headDim": case.head_dim,
            "rotaryOffset": case.rotary_offset, "seqLen": len(case.positions),
            "positions": put("positions", i["positions"]),
            "x": put("x", i["x"]), "expected": put("expected", record.expected)}


def _attention_test(case, record, put: Callable[[str, np.ndarray], Any]) -> dict:
    i = record.inputs
    qs = None if case.query_scale is None else {"name": case.query_scale[0], "args": _enc(case.query_scale[1])}
    window = None if case.sliding_window is None else hexf(case.sliding_window)
    return {**_common(case, record, put), "layout": case.layout, "headDim": case.head_dim, "dv": case.dv,
            "headsQ": case.heads_q, "headsKv": case.heads_kv, "n": case.n, "causal": case.causal,
            "slidingWindow": window, "relpos": {"name": case.relpos[0], "args": _enc(case.relpos[1])},
            "queryScale": qs, "logitScale": hexf(i["logit_scale"]), "bias": schemes.encode_named(case.bias),
            "chunkSize": case.chunk_size, "positionsQ": put("positions_q", i["positions_q"]),
            "positionsK": put("positions_k", i["positions_k"]), "q": put("q", i["q"]), "k": put("k", i["k"]),
            "v": put("v", i["v"]), "expected": put("expected", record.expected)}


def _scheme_test(case, record, put: Callable[[str, np.ndarray], Any]) -> dict:
    return {**_common(case, record, put), **schemes.fields(case, record, put)}


def _inline(name: str, arr: np.ndarray) -> list[str]:
    return hex_list(arr)


def _json_doc(function: str, kind: str, cases, make_record, make_test, put_for=None) -> dict:
    groups: dict[str, dict] = {}
    for index, case in enumerate(cases):
        record = make_record(case)
        put = _inline if put_for is None else put_for(index)
        groups.setdefault(case.freq, _group(case.freq, kind))["tests"].append(make_test(case, record, put))
    return document(function, f"schema/{kind}.schema.json", FORMAT_VERSION, NOTES, list(groups.values()))


def _long_files(stem: str, function: str, kind: str, cases, make_record, make_test) -> dict[str, bytes]:
    tensors: dict[str, np.ndarray] = {}

    def put_for(index: int):
        def put(name: str, arr: np.ndarray) -> str:
            key = f"case{index}.{name}"
            tensors[key] = arr
            return key
        return put

    doc = _json_doc(function, kind, cases, make_record, make_test, put_for)
    blob = safetensors.write(tensors, {"format": "refrope golden vectors", "formatVersion": str(FORMAT_VERSION)})
    parsed, _ = safetensors.read(blob)
    doc["file"] = f"{stem}.safetensors"
    doc["sha256"] = safetensors.sha256(blob)
    doc["bytes"] = len(blob)
    doc["tensors"] = {k: {"dtype": {"<f8": "F64", "<f4": "F32"}[parsed[k].dtype.str], "shape": list(parsed[k].shape),
                          "sha256": safetensors.sha256(parsed[k].tobytes())} for k in sorted(parsed)}
    return {f"{stem}.safetensors": blob, f"{stem}.manifest.json": dumps(doc)}


def build() -> dict[str, bytes]:
    """Every vector file of :data:`~refrope.vectors.FORMAT_VERSION`, by name, as bytes (deterministic).

    Spec: [GV-FILES-1], [GV-CASES-1].

    >>> files = build()
    >>> sorted(files) == sorted(file_names()), files["rope_apply_v2.txt"][:32]
    (True, b'refrope-vectors apply_rope 2 58\\n')
    """
    v = f"v{FORMAT_VERSION}"
    rope_doc = _json_doc("apply_rope", "RopeApplyTest", ROPE_CASES, rope_record, _rope_test)
    files = {f"rope_apply_{v}.json": dumps(rope_doc), f"rope_apply_{v}.txt": textfmt.dumps(rope_doc),
             f"attention_{v}.json": dumps(_json_doc("attention", "AttentionTest",
                                                    ATTENTION_CASES + ATTENTION_SCHEME_CASES, attention_record,
                                                    _attention_test)),
             f"xpos_{v}.json": dumps(_json_doc("apply_xpos", "XposTest", XPOS_CASES, schemes.xpos_record,
                                               _scheme_test)),
             f"dual_chunk_{v}.json": dumps(_json_doc("dual_chunk_attention", "DualChunkTest", DCA_CASES,
                                                     schemes.dca_record, _scheme_test))}
    files.update(_long_files(f"rope_long_{v}", "apply_rope", "RopeApplyTest", LONG_ROPE_CASES, rope_record, _rope_test))
    files.update(_long_files(f"attention_long_{v}", "attention", "AttentionTest", LONG_ATTENTION_CASES,
                             attention_record, _attention_test))
    files[f"rope_nd_{v}.json"] = dumps(nd_document())
    index = {"formatVersion": FORMAT_VERSION,
             "files": {n: {"bytes": len(b), "sha256": safetensors.sha256(b)} for n, b in sorted(files.items())}}
    files[f"index_{v}.json"] = dumps(index)
    return files


def export(directory: str | Path, *, files: dict[str, bytes] | None = None) -> list[Path]:
    """Write :func:`build` and the schemas it references (or only ``files``) into ``directory``, created if
    needed; return the paths written.

    Spec: [GV-FILES-1].

    >>> import tempfile
    >>> [p.name for p in export(tempfile.mkdtemp(), files={"a.json": b"{}\\n"})]
    ['a.json']
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in ({**build(), **schema_files()} if files is None else files).items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
        paths.append(out / name)
    return paths


def verify(directory: str | Path, *, files: dict[str, bytes] | None = None) -> list[str]:
    """Regenerate (or take ``files``) and compare byte for byte with ``directory`` (its ``schema/`` too, when
    present); return the differences.

    An empty list means every file is present and identical. Spec: [GV-VERIFY-1].

    >>> import tempfile
    >>> d = tempfile.mkdtemp(); _ = export(d, files={"a.json": b"{}\\n"})
    >>> verify(d, files={"a.json": b"{}\\n"}), verify(d, files={"a.json": b"[]\\n", "b.txt": b""})
    ([], ['a.json: differs from the regenerated file (3 bytes on disk, 3 regenerated)', 'b.txt: missing from ...'])
    """
    directory = Path(directory)
    problems = []
    if files is None:
        files = {**build(), **(schema_files() if (directory / "schema").is_dir() else {})}
    for name, data in files.items():
        path = directory / name
        if not path.is_file():
            problems.append(f"{name}: missing from {directory}")
        elif path.read_bytes() != data:
            problems.append(f"{name}: differs from the regenerated file ({path.stat().st_size} bytes on disk, "
                            f"{len(data)} regenerated)")
    return problems
