"""Where a vector file on disk first differs from the regenerated one, and whether a copy is damaged.

:func:`first_difference` names the first differing test (``tcId`` and comment) and value (field, index, the
value on disk and the regenerated one, hex and decimal) in a JSON file, the first differing line of the text
file, the first differing tensor element of a safetensors file, else the first differing byte.
:func:`damaged` checks a directory against its own index (sizes and SHA-256): a file that does not match the
index it came with was damaged or edited after export, whatever refrope version made it.
Spec: docs/spec/vectors.md [GV-CLI-2].
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from . import safetensors
from .jsonfmt import loads

__all__ = ["first_difference", "damaged"]

_HEX = re.compile(r"^-?0x[0-9a-f.]+p[-+]\d+$")


def _value(v: Any) -> str:
    if isinstance(v, str) and _HEX.match(v):
        return f"{v} ({float.fromhex(v)!r})"
    text = json.dumps(v) if not isinstance(v, float) else repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def _walk(a: Any, b: Any, path: list) -> tuple[list, Any, Any] | None:
    """The path to the first place where ``a`` and ``b`` differ, with the two values there; None if equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return [*path, key], a.get(key, "(absent)"), b.get(key, "(absent)")
            found = _walk(a[key], b[key], [*path, key])
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = _walk(x, y, [*path, i])
            if found:
                return found
        return None if len(a) == len(b) else ([*path, "length"], len(a), len(b))
    return None if a == b else (path, a, b)


def _json_difference(stored: bytes, fresh: bytes) -> str:
    try:
        a = loads(stored)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"not valid JSON ({exc}): the file is damaged"
    found = _walk(a, loads(fresh), [])
    if found is None:
        return "the same JSON values, written differently (whitespace or key order)"
    path, on_disk, regenerated = found
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    if len(path) >= 4 and path[0] == "testGroups" and path[2] == "tests" and isinstance(path[3], int):
        try:
            test = a["testGroups"][path[1]]["tests"][path[3]]
            field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[4:]).lstrip(".")
            where = f"test tcId {test.get('tcId')} ({test.get('comment', '')!r}), field {field or '(the test)'}"
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
    return f"first difference at {where}: on disk {_value(on_disk)}, regenerated {_value(regenerated)}"


def _text_difference(stored: bytes, fresh: bytes) -> str:
    a, b = stored.decode("ascii", "replace").splitlines(), fresh.decode("ascii").splitlines()
    for number, (x, y) in enumerate(zip(a, b), 1):
        if x != y:
            return f"first difference on line {number}: on disk {x[:100]!r}, regenerated {y[:100]!r}"
    return f"{len(a)} lines on disk, {len(b)} regenerated (the same up to the shorter)"


def _tensor_difference(stored: bytes, fresh: bytes) -> str:
    try:
        a, meta_a = safetensors.read(stored)
    except ValueError as exc:
        return f"not a readable safetensors file ({exc}): the file is damaged"
    b, meta_b = safetensors.read(fresh)
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            return f"tensor {key!r} is {'missing on disk' if key not in a else 'not regenerated'}"
        x, y = np.asarray(a[key]), np.asarray(b[key])
        if x.shape != y.shape or x.dtype != y.dtype:
            return f"tensor {key!r}: on disk {x.dtype} {x.shape}, regenerated {y.dtype} {y.shape}"
        differ = (x != y) & ~(np.isnan(x) & np.isnan(y)) if x.dtype.kind == "f" else x != y
        if differ.any():
            index = tuple(int(i) for i in np.argwhere(differ)[0])
            return (f"first difference in tensor {key!r} at index {index}: on disk {x[index].item()!r}, "
                    f"regenerated {y[index].item()!r} ({int(differ.sum())} of {x.size} values differ)")
    if meta_a != meta_b:
        return f"metadata differs: on disk {meta_a}, regenerated {meta_b}"
    return "the same tensors, laid out differently"


def first_difference(name: str, stored: bytes, fresh: bytes) -> str:
    """In words, where ``stored`` (the file on disk) first differs from ``fresh`` (regenerated).

    >>> first_difference("a.json", b'{"testGroups": [{"tests": [{"tcId": 1, "comment": "c", "x": ["0x1.0p+0"]}]}]}',
    ...                  b'{"testGroups": [{"tests": [{"tcId": 1, "comment": "c", "x": ["0x1.8p+0"]}]}]}')
    "first difference at test tcId 1 ('c'), field x[0]: on disk 0x1.0p+0 (1.0), regenerated 0x1.8p+0 (1.5)"
    >>> first_difference("a.txt", b"head\\n1 2\\n", b"head\\n1 3\\n")
    "first difference on line 2: on disk '1 2', regenerated '1 3'"
    """
    if stored == fresh:
        return "identical"
    if name.endswith(".json"):
        return _json_difference(stored, fresh)
    if name.endswith(".txt"):
        return _text_difference(stored, fresh)
    if name.endswith(".safetensors"):
        return _tensor_difference(stored, fresh)
    offset = next((i for i, (x, y) in enumerate(zip(stored, fresh)) if x != y), min(len(stored), len(fresh)))
    return f"first difference at byte {offset}"


def damaged(directory: str | Path, index_name: str) -> list[str]:
    """The files of ``directory`` that do not match its own index ``index_name`` (size or SHA-256), or whose
    index cannot be read: what was damaged or edited after export. Empty when the copy is intact.

    >>> import tempfile
    >>> damaged(tempfile.mkdtemp(), "index_v1.json")
    ['index_v1.json: missing or unreadable (FileNotFoundError)']
    """
    directory = Path(directory)
    try:
        index = loads((directory / index_name).read_bytes())
        files = index["files"]
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        return [f"{index_name}: missing or unreadable ({type(exc).__name__})"]
    out = []
    for name, info in sorted(files.items()):
        path = directory / name
        if not path.is_file():
            out.append(f"{name}: listed in {index_name} but missing")
            continue
        data = path.read_bytes()
        if len(data) != info.get("bytes") or safetensors.sha256(data) != info.get("sha256"):
            out.append(f"{name}: does not match its size and SHA-256 in {index_name} (damaged or edited after export)")
    return out
