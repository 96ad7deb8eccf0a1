r"""Records, JSON fields and decoding of the schemes' vector files: ``apply_xpos`` and ``dual_chunk_attention``
cases (:mod:`~refrope.vectors.cases_schemes`), and the named biases of attention cases.

Inputs are drawn at float32 (exact there) and the expected values come from the oracle in float64; the budget
records ``dtype``, ``maxAngle`` and ``maxAbsInput`` as for every case (the rest of each budget follows from the
inputs, :func:`~refrope.vectors.budget.case_budget`). Spec: [GV-CASES-1], [GV-BUDGET-1].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..dual_chunk import dual_chunk_attention
from ..xpos import apply_xpos
from .cases_schemes import DcaCase, XposCase
from .generate import FREQS, dyadic
from .jsonfmt import hexf, unhex
from .records import Record, _budget

__all__ = ["FUNCTIONS", "encode_named", "named", "xpos_record", "dca_record", "fields", "decode"]

FUNCTIONS = ("apply_xpos", "dual_chunk_attention")


def _enc(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_enc(v) for v in value]
    return value if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else hexf(value)


def _dec(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_dec(v) for v in value)
    return value if isinstance(value, int) else unhex(value)


def encode_named(pair: tuple[str, tuple] | None) -> dict | None:
    """``(name, args)`` as ``{"name", "args"}`` (floats as hex strings, integers as integers, tuples as lists).

    >>> encode_named(("sandwich", (0.5, 8, 10000.0)))
    {'name': 'sandwich', 'args': ['0x1.0000000000000p-1', 8, '0x1.3880000000000p+13']}
    """
    return None if pair is None else {"name": pair[0], "args": _enc(pair[1])}


def named(value: dict | None) -> tuple[str, tuple] | None:
    """The inverse of :func:`encode_named`.

    >>> named({"name": "alibi", "args": [["0x1.0000000000000p-1", "0x1.0000000000000p-2"]]})
    ('alibi', ((0.5, 0.25),))
    """
    return None if value is None else (value["name"], _dec(value["args"]))


def xpos_record(case: XposCase) -> Record:
    """Inputs, expected :func:`refrope.apply_xpos` output and budget of an xPos case (``maxAngle`` = max|p w|)."""
    freqs = FREQS[case.freq].freqs()
    positions = np.array(case.positions, dtype=np.float64)
    x = dyadic(case.seed, (len(case.positions), case.head_dim)).astype(np.float32)
    expected = apply_xpos(x, positions, freqs, role=case.role, scale_base=case.scale_base, gamma=case.gamma,
                          layout=case.layout)
    inputs = {"x": x, "positions": positions, "inv_freq": freqs.inv_freq, "attention_factor": freqs.attention_factor,
              "layout": case.layout, "role": case.role, "scale_base": case.scale_base, "gamma": case.gamma}
    angle = float(np.max(np.abs(positions)) * np.max(freqs.inv_freq))
    return Record(inputs, expected, _budget(angle, np.max(np.abs(x))))


def dca_record(case: DcaCase) -> Record:
    """Inputs, expected :func:`refrope.dual_chunk_attention` output and budget of a dual-chunk case
    (``maxAngle`` = chunk_size max w; logit scale 1/sqrt(head_dim))."""
    freqs = FREQS[case.freq].freqs()
    d = case.head_dim
    q = dyadic(case.seed, (case.heads_q, case.n_q, d), half_range=1.0).astype(np.float32)
    k = dyadic(case.seed + 10_000, (case.heads_kv, case.n_k, d), half_range=1.0).astype(np.float32)
    v = dyadic(case.seed + 20_000, (case.heads_kv, case.n_k, case.dv)).astype(np.float32)
    lam = 1.0 / math.sqrt(d)
    expected = dual_chunk_attention(q, k, v, freqs, chunk_size=case.chunk_size, local_size=case.local_size,
                                    layout=case.layout, scale=lam)
    inputs = {"q": q, "k": k, "v": v, "inv_freq": freqs.inv_freq, "attention_factor": freqs.attention_factor,
              "layout": case.layout, "chunk_size": case.chunk_size, "local_size": case.local_size, "logit_scale": lam}
    peak = max(float(np.max(np.abs(a))) for a in (q, k, v))
    return Record(inputs, expected, _budget(case.chunk_size * float(np.max(freqs.inv_freq)), peak))


def fields(case: XposCase | DcaCase, record: Record, put: Callable[[str, np.ndarray], Any]) -> dict:
    """The JSON fields of an xPos or dual-chunk test besides the common ones (comment, flags, budget, ...)."""
    i = record.inputs
    if isinstance(case, XposCase):
        return {"layout": case.layout, "role": case.role, "headDim": case.head_dim, "seqLen": len(case.positions),
                "scaleBase": hexf(case.scale_base), "gamma": hexf(case.gamma),
                "positions": put("positions", i["positions"]), "x": put("x", i["x"]),
                "expected": put("expected", record.expected)}
    return {"layout": case.layout, "headDim": case.head_dim, "dv": case.dv, "headsQ": case.heads_q,
            "headsKv": case.heads_kv, "nQ": case.n_q, "nK": case.n_k, "chunkSize": case.chunk_size,
            "localSize": case.local_size, "logitScale": hexf(i["logit_scale"]), "q": put("q", i["q"]),
            "k": put("k", i["k"]), "v": put("v", i["v"]), "expected": put("expected", record.expected)}


def decode(function: str, test: dict, get: Callable[[str, tuple], np.ndarray]) -> tuple[dict, np.ndarray]:
    """``(inputs, expected)`` of a loaded xPos or dual-chunk test; ``get(key, shape)`` decodes an array field."""
    if function == "apply_xpos":
        n, d = test["seqLen"], test["headDim"]
        inputs = {"x": get("x", (n, d)), "positions": get("positions", (n,)), "role": test["role"],
                  "scale_base": unhex(test["scaleBase"]), "gamma": unhex(test["gamma"])}
        return inputs, get("expected", (n, d))
    hq, hk, n_q, n_k, d, dv = (test[key] for key in ("headsQ", "headsKv", "nQ", "nK", "headDim", "dv"))
    inputs = {"q": get("q", (hq, n_q, d)), "k": get("k", (hk, n_k, d)), "v": get("v", (hk, n_k, dv)),
              "chunk_size": test["chunkSize"], "local_size": test["localSize"],
              "logit_scale": unhex(test["logitScale"])}
    return inputs, get("expected", (hq, n_q, dv))
