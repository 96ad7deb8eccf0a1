r"""The JSON vector format: Wycheproof-shaped documents with every float as a C99 hex string.

A document is ``{"function", "schema", "formatVersion", "numberOfTests", "notes", "testGroups"}``;
each group holds the parameters its tests share and a list of ``tests``, each with a ``tcId``, a
``comment``, ``flags`` (each explained once in ``notes``), the spec ``clauses`` it exercises, its
inputs, the float64 ``expected`` values and its ``budget`` (docs/vectors/json.md).

Floats are written with :meth:`float.hex` (``"0x1.8000000000000p+1"``) and read back with
:meth:`float.fromhex` (``strtod`` in C): the round trip is exact, so the files carry the oracle's
float64 values bit for bit. The serializer is deterministic (sorted keys, fixed layout, ASCII, one
trailing newline), so regenerating a file gives the same bytes. Spec: [GV-JSON-1], [GV-JSON-2].
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["hexf", "unhex", "hex_list", "from_hex_list", "dumps", "loads", "document", "iter_tests"]


def hexf(value: float) -> str:
    """A finite float as a C99 hex string (exact; ``-0.0`` keeps its sign).

    Spec: [GV-JSON-1].

    >>> hexf(3.0), hexf(-0.1)
    ('0x1.8000000000000p+1', '-0x1.999999999999ap-4')
    """
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"golden vectors hold finite floats only, got {value!r}")
    return value.hex()


def unhex(text: str) -> float:
    """Inverse of :func:`hexf`.

    >>> unhex("0x1.8000000000000p+1")
    3.0
    """
    if not isinstance(text, str):
        raise TypeError(f"a float must be stored as a hex string, got {text!r}")
    return float.fromhex(text)


def hex_list(values: Any) -> list[str]:
    """A flat list of hex strings from any array (C order).

    >>> hex_list([[1.0, 0.5]])
    ['0x1.0000000000000p+0', '0x1.0000000000000p-1']
    """
    return [hexf(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def from_hex_list(values: list[str], shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The float64 array of a list of hex strings, reshaped to ``shape`` if given.

    >>> from_hex_list(['0x1.0p+0', '0x1.0p-1'], (1, 2))
    array([[1. , 0.5]])
    """
    out = np.array([unhex(v) for v in values], dtype=np.float64)
    return out if shape is None else out.reshape(shape)


def _scalar(value: Any) -> str:
    if isinstance(value, float):
        raise TypeError(f"encode floats with hexf before serializing, got {value!r}")
    return json.dumps(value, ensure_ascii=True)


def _dump(obj: Any, indent: int) -> str:
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(str(k))}: {_dump(obj[k], indent + 1)}" for k in sorted(obj)]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return "[" + ", ".join(_scalar(v) for v in obj) + "]"
        return "[\n" + ",\n".join(inner + _dump(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return _scalar(obj)


def dumps(obj: Any) -> bytes:
    """Deterministic bytes: sorted keys, one key per line, lists of scalars on one line, ASCII, final newline.

    Python floats are refused (store them with :func:`hexf`), so no float is ever printed in decimal.
    Spec: [GV-JSON-2].

    >>> dumps({"b": [1, "x"], "a": True})
    b'{\\n "a": true,\\n "b": [1, "x"]\\n}\\n'
    """
    return (_dump(obj, 0) + "\n").encode("ascii")


def loads(data: bytes) -> Any:
    """Parse a vector document (plain JSON).

    >>> loads(b'{"a": ["0x1.0p+0"]}')
    {'a': ['0x1.0p+0']}
    """
    return json.loads(data.decode("ascii"))


def document(function: str, schema: str, version: int, notes: dict[str, str], groups: list[dict]) -> dict:
    """The Wycheproof header around ``groups``; numbers ``tcId`` 1, 2, ... in order and counts the tests.

    >>> doc = document("f", "s.json", 1, {"A": "a flag"}, [{"tests": [{"flags": ["A"]}]}])
    >>> doc["numberOfTests"], doc["testGroups"][0]["tests"][0]["tcId"], doc["notes"]["A"]
    (1, 1, {'description': 'a flag'})
    """
    used = {flag for g in groups for t in g["tests"] for flag in t["flags"]}
    missing = sorted(used - set(notes))
    if missing:
        raise ValueError(f"flags without a note: {missing}")
    tc = 0
    for group in groups:
        for test in group["tests"]:
            tc += 1
            test["tcId"] = tc
    return {"function": function, "schema": schema, "formatVersion": version, "numberOfTests": tc,
            "notes": {k: {"description": notes[k]} for k in sorted(used)}, "testGroups": groups}


def iter_tests(doc: dict):
    """Yield ``(group, test)`` for every test of a document, in file order.

    >>> [t["tcId"] for _, t in iter_tests({"testGroups": [{"tests": [{"tcId": 1}, {"tcId": 2}]}]})]
    [1, 2]
    """
    for group in doc["testGroups"]:
        for test in group["tests"]:
            yield group, test
