r"""Reading the vector files of one format version back: :func:`load` and the :class:`Case` s it returns.

JSON floats come from C99 hex strings, safetensors through the pure-NumPy reader, every hash is checked
against the index and the manifests, nothing is unpickled. Spec: [GV-LOAD-1].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import safetensors, schemes
from .cases_multimodal import nd_inputs
from .jsonfmt import from_hex_list, iter_tests, loads, unhex
from .version import FORMAT_VERSION, file_names

__all__ = ["Case", "load"]


@dataclass(frozen=True)
class Case:
    """One loaded test: ``function`` (``"apply_rope"``, ``"apply_rope_nd"``, ``"attention"``, ``"apply_xpos"`` or
    ``"dual_chunk_attention"``), its group and test fields decoded, ``inputs`` as arrays, ``expected`` (float64) and
    ``budget`` (``dtype``, ``max_angle``, ``max_abs_input``; attention adds ``logit_multiplier`` and
    ``max_logit``): the inputs of :func:`~refrope.vectors.budget.case_budget`."""

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
    elif function == "apply_rope_nd":
        extra, expected = nd_inputs(test)
        inputs.update(extra)
    elif function in schemes.FUNCTIONS:
        extra, expected = schemes.decode(function, test, lambda key, shape: _decode(test[key], shape, tensors))
        inputs.update(extra)
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
                      logit_scale=unhex(test["logitScale"]), bias=schemes.named(test.get("bias")),
                      chunk_size=test.get("chunkSize"))
        expected = _decode(test["expected"], (hq, n, dv), tensors)
    b = test["budget"]
    budget = {"dtype": b["dtype"], "max_angle": unhex(b["maxAngle"]), "max_abs_input": unhex(b["maxAbsInput"])}
    if function == "attention":  # (xPos and dual-chunk budgets come from the inputs alone)
        budget.update(logit_multiplier=_decode(b["logitMultiplier"], (n,), tensors),
                      max_logit=_decode(b["maxLogit"], (hq, n), tensors))
    return Case(file, function, test["tcId"], test["comment"], tuple(test["flags"]), tuple(test["clauses"]), group,
                test, inputs, expected, budget)


def load(directory: str | Path, version: int = FORMAT_VERSION) -> list[Case]:
    """Every case of the JSON and safetensors files in ``directory``, hashes checked against the index
    and the manifests (``ValueError`` on any mismatch); nothing is unpickled. Spec: [GV-LOAD-1].

    >>> import tempfile
    >>> from refrope.vectors.jsonfmt import dumps
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "index_v1.json").write_bytes(dumps({"formatVersion": 1, "files": {}}))
    >>> load(d, version=1)
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
