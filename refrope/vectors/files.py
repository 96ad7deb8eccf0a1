r"""Writing, reading and verifying the vector files of one format version.

Files (``V`` = :data:`~refrope.vectors.FORMAT_VERSION`), all produced by :func:`build`:

=================================  =================================================================
``rope_apply_vV.json``             small ``apply_rope`` cases, Wycheproof-shaped (docs/vectors/json.md)
``rope_apply_vV.txt``              the same cases in a flat text format for C (docs/vectors/text.md)
``attention_vV.json``              small attention cases: every relative-position map and query scale
``rope_long_vV.safetensors``       long-context ``apply_rope`` tensors, with ``.manifest.json``
``attention_long_vV.safetensors``  long-context attention tensors (n up to 8192), with ``.manifest.json``
``index_vV.json``                  every other file's size and SHA-256
=================================  =================================================================

Spec: [GV-FILES-1], [GV-VERIFY-1], [GV-LOAD-1].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import safetensors, textfmt
from .generate import ATTENTION_CASES, FREQS, LONG_ATTENTION_CASES, LONG_ROPE_CASES, ROPE_CASES
from .jsonfmt import document, dumps, from_hex_list, hex_list, hexf, iter_tests, loads, unhex
from .records import attention_record, rope_record
from .schemas import schema_files
from .version import FORMAT_VERSION

__all__ = ["Case", "file_names", "build", "export", "verify", "load"]

NOTES = {
    "Identity": "position 0 is among the positions: those rows must equal the input (times the magnitude)",
    "LongContext": "positions from 2^11 up to 2^20: the angle error of a float32 p*omega dominates the budget",
    "LargeTheta": "theta of 5e5 or 1e6 (Llama 3, Qwen): frequencies down to 1e-6 per position",
    "LayoutSweep": "the same configuration in all three pair layouts: a layout mix-up shows as a failure here",
    "PartialRotary": "the rotary slice is part of the head, at an offset: the other coordinates must pass through",
    "SlidingWindow": "keys further than the window are masked",
    # the v1 files keep their original wording, source reference included (FORMAT_VERSION 1 files never change)
    "ReRoPE": ("a ReRoPE-family map: inside the window RoPE, outside the fixed or rescaled rotation "
               "(seeds 8.2, 9)"),
    "LogN": "a logn query scale multiplies the logits of late queries",
    "GQA": "several query heads share one key/value head",
    "Magnitude": "the frequencies carry a YaRN magnitude m != 1: the logits scale by m^2",
}


def file_names(version: int = FORMAT_VERSION) -> tuple[str, ...]:
    """The names :func:`build` produces, in order.

    >>> file_names(1)[:2]
    ('rope_apply_v1.json', 'rope_apply_v1.txt')
    """
    v = f"v{version}"
    return (f"rope_apply_{v}.json", f"rope_apply_{v}.txt", f"attention_{v}.json", f"rope_long_{v}.safetensors",
            f"rope_long_{v}.manifest.json", f"attention_long_{v}.safetensors", f"attention_long_{v}.manifest.json",
            f"index_{v}.json")


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
            "queryScale": qs, "logitScale": hexf(i["logit_scale"]), "positionsQ": put("positions_q", i["positions_q"]),
            "positionsK": put("positions_k", i["positions_k"]), "q": put("q", i["q"]), "k": put("k", i["k"]),
            "v": put("v", i["v"]), "expected": put("expected", record.expected)}


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
    >>> sorted(files) == sorted(file_names()), files["rope_apply_v1.txt"][:32]
    (True, b'refrope-vectors apply_rope 1 58\\n')
    """
    v = f"v{FORMAT_VERSION}"
    rope_doc = _json_doc("apply_rope", "RopeApplyTest", ROPE_CASES, rope_record, _rope_test)
    files = {f"rope_apply_{v}.json": dumps(rope_doc), f"rope_apply_{v}.txt": textfmt.dumps(rope_doc),
             f"attention_{v}.json": dumps(_json_doc("attention", "AttentionTest", ATTENTION_CASES, attention_record,
                                                    _attention_test))}
    files.update(_long_files(f"rope_long_{v}", "apply_rope", "RopeApplyTest", LONG_ROPE_CASES, rope_record, _rope_test))
    files.update(_long_files(f"attention_long_{v}", "attention", "AttentionTest", LONG_ATTENTION_CASES,
                             attention_record, _attention_test))
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


@dataclass(frozen=True)
class Case:
    """One loaded test: ``function`` (``"apply_rope"`` or ``"attention"``), its group and test fields decoded,
    ``inputs`` as arrays, ``expected`` (float64) and ``budget`` (``dtype``, ``max_angle``, ``max_abs_input``;
    attention adds ``logit_multiplier`` and ``max_logit``): the inputs of
    :func:`~refrope.vectors.budget.case_budget`."""

    file: str
    function: str
    tc_id: int
    comment: str
    flags: tuple[str, ...]
    clauses: tuple[str, ...]
    group: dict
    test: dict
    inputs: dict
    expected: np.ndarray
    budget: dict

    @property
    def name(self) -> str:
        return f"{self.file}#{self.tc_id}"


def _decode(value: Any, shape: tuple[int, ...], tensors: dict | None) -> np.ndarray:
    if tensors is not None:
        return np.array(tensors[value], dtype=np.float64)
    return from_hex_list(value, shape)


def _case(file: str, function: str, group: dict, test: dict, tensors: dict | None) -> Case:
    omega = from_hex_list(group["invFreq"])
    inputs: dict[str, Any] = {"inv_freq": omega, "attention_factor": unhex(group["attentionFactor"]),
                              "layout": test["layout"]}
    if function == "apply_rope":
        n, d = test["seqLen"], test["headDim"]
        inputs.update(x=_decode(test["x"], (n, d), tensors), positions=_decode(test["positions"], (n,), tensors),
                      rotary_offset=test["rotaryOffset"])
        expected = _decode(test["expected"], (n, d), tensors)
    else:
        hq, hk, n, d, dv = test["headsQ"], test["headsKv"], test["n"], test["headDim"], test["dv"]
        inputs.update(q=_decode(test["q"], (hq, n, d), tensors), k=_decode(test["k"], (hk, n, d), tensors),
                      v=_decode(test["v"], (hk, n, dv), tensors),
                      positions_q=_decode(test["positionsQ"], (n,), tensors),
                      positions_k=_decode(test["positionsK"], (n,), tensors), causal=test["causal"],
                      sliding_window=None if test["slidingWindow"] is None else unhex(test["slidingWindow"]),
                      relpos=(test["relpos"]["name"], tuple(unhex(a) for a in test["relpos"]["args"])),
                      query_scale=None if test["queryScale"] is None else
                      (test["queryScale"]["name"], tuple(unhex(a) for a in test["queryScale"]["args"])),
                      logit_scale=unhex(test["logitScale"]))
        expected = _decode(test["expected"], (hq, n, dv), tensors)
    b = test["budget"]
    budget = {"dtype": b["dtype"], "max_angle": unhex(b["maxAngle"]), "max_abs_input": unhex(b["maxAbsInput"])}
    if function == "attention":
        budget.update(logit_multiplier=_decode(b["logitMultiplier"], (n,), tensors),
                      max_logit=_decode(b["maxLogit"], (hq, n), tensors))
    return Case(file, function, test["tcId"], test["comment"], tuple(test["flags"]), tuple(test["clauses"]), group,
                test, inputs, expected, budget)


def load(directory: str | Path, version: int = FORMAT_VERSION) -> list[Case]:
    """Every case of the JSON and safetensors files in ``directory``, hashes checked against the index
    and the manifests (``ValueError`` on any mismatch); nothing is unpickled. Spec: [GV-LOAD-1].

    >>> import tempfile
    >>> d = tempfile.mkdtemp(); _ = export(d, files={"index_v1.json": dumps({"formatVersion": 1, "files": {}})})
    >>> load(d)
    []
    """
    directory = Path(directory)
    names = file_names(version)
    index = loads((directory / names[-1]).read_bytes())
    blobs = {}
    for name, info in index["files"].items():
        blobs[name] = data = (directory / name).read_bytes()
        if safetensors.sha256(data) != info["sha256"]:
            raise ValueError(f"{name}: sha256 {safetensors.sha256(data)} does not match the index ({info['sha256']})")
    cases = []
    for name, data in blobs.items():
        if not name.endswith(".json"):
            continue
        doc = loads(data)
        tensors = None
        if "file" in doc:
            tensors, _ = safetensors.read(blobs[doc["file"]], expected_sha256=doc["sha256"])
            for key, meta in doc["tensors"].items():
                if safetensors.sha256(tensors[key].tobytes()) != meta["sha256"]:
                    raise ValueError(f"{doc['file']}: tensor {key} does not match its sha256 in {name}")
        cases += [_case(name, doc["function"], g, t, tensors) for g, t in iter_tests(doc)]
    return cases
