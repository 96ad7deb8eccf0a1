r"""A pure-NumPy writer and reader of the safetensors format, with SHA-256 checks; nothing is unpickled.

Layout (huggingface/safetensors): an unsigned little-endian 64-bit header length :math:`N`, then
:math:`N` bytes of UTF-8 JSON mapping each tensor name to ``{"dtype", "shape", "data_offsets": [b, e]}``
(offsets into the data section that follows) plus an optional ``"__metadata__"`` of string pairs,
then the raw little-endian data. The writer is deterministic: tensors in name order, packed, header
keys sorted and padded with spaces to a multiple of 8 bytes. The reader checks every offset, size
and dtype and, when given, the file's SHA-256, before building arrays with :func:`numpy.frombuffer`.
Spec: [GV-ST-1], [GV-ST-2].
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["DTYPES", "write", "read", "sha256"]

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1"}
"""safetensors dtype names and the little-endian NumPy dtypes they hold."""
_NAMES = {np.dtype(v): k for k, v in DTYPES.items()}
_MAX_HEADER = 100_000_000


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``.

    >>> sha256(b"")[:16]
    'e3b0c44298fc1c14'
    """
    return hashlib.sha256(data).hexdigest()


def write(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None) -> bytes:
    """The bytes of a safetensors file holding ``tensors`` (name -> array of a dtype in :data:`DTYPES`).

    Spec: [GV-ST-1]. Source: the safetensors format description (huggingface/safetensors README).

    >>> blob = write({"x": np.array([1.0, 2.0], dtype=np.float32)})
    >>> int.from_bytes(blob[:8], "little"), blob[8:64]
    (56, b'{"x":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}}  ')
    """
    header: dict[str, Any] = {}
    chunks: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(f"tensor names must be non-empty strings other than '__metadata__', got {name!r}")
        arr = np.asarray(tensors[name])
        dtype = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        if dtype not in _NAMES:
            raise TypeError(f"tensor {name!r} has dtype {arr.dtype}; supported: {sorted(DTYPES)}")
        data = np.ascontiguousarray(arr, dtype=DTYPES[_NAMES[dtype]]).tobytes()
        header[name] = {"dtype": _NAMES[dtype], "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        bad = {k: v for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)}
        if bad:
            raise TypeError(f"metadata must map strings to strings, got {bad!r}")
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def read(data: bytes, *, expected_sha256: str | None = None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Parse safetensors bytes into ``(tensors, metadata)``; arrays are read-only views of ``data``.

    Raises ``ValueError`` naming the problem for a hash mismatch, a malformed header, overlapping,
    missing or out-of-range offsets, a size that does not match the shape, or an unknown dtype.
    Spec: [GV-ST-2].

    >>> tensors, meta = read(write({"x": np.arange(3, dtype=np.int64)}, {"k": "v"}))
    >>> tensors["x"], meta
    (array([0, 1, 2]), {'k': 'v'})
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if expected_sha256 is not None and sha256(data) != expected_sha256:
        raise ValueError(f"sha256 mismatch: file has {sha256(data)}, expected {expected_sha256}")
    if len(data) < 8:
        raise ValueError(f"not a safetensors file: {len(data)} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > min(_MAX_HEADER, len(data) - 8):
        raise ValueError(f"header length {n} exceeds the file ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"header is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ValueError("header must be a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise ValueError("__metadata__ must map strings to strings")
    body = data[8 + n:]
    spans = []
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"tensor {name!r}: entry must have exactly dtype, shape, data_offsets, got {info!r}")
        if info["dtype"] not in DTYPES:
            raise ValueError(f"tensor {name!r}: unsupported dtype {info['dtype']!r} (supported: {sorted(DTYPES)})")
        shape, (begin, end) = info["shape"], info["data_offsets"]
        if not all(isinstance(s, int) and s >= 0 for s in shape) or not (0 <= begin <= end <= len(body)):
            raise ValueError(f"tensor {name!r}: bad shape {shape} or offsets {[begin, end]} "
                             f"(data section {len(body)} bytes)")
        dtype = np.dtype(DTYPES[info["dtype"]])
        if (end - begin) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise ValueError(f"tensor {name!r}: {end - begin} bytes do not hold shape {shape} of {info['dtype']}")
        spans.append((begin, end, name))
        count = (end - begin) // dtype.itemsize
        tensors[name] = np.frombuffer(body, dtype=dtype, count=count, offset=begin).reshape(shape)
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            raise ValueError(f"tensor {name!r} starts at {begin}, expected {position}: gaps or overlaps in the data")
        position = end
    if position != len(body):
        raise ValueError(f"data section has {len(body) - position} trailing bytes no tensor covers")
    return tensors, dict(metadata)
