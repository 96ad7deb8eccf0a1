"""[GV-JSON-1] [GV-JSON-2] [GV-TEXT-1] [GV-ST-1] [GV-ST-2]: the golden vectors' file formats: C99 hex floats,
the Wycheproof-shaped JSON, the flat text file and the pure-NumPy safetensors reader and writer.
"""

from __future__ import annotations

import math
import pickle
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refrope import vectors
from refrope.vectors import jsonfmt, safetensors
from refrope.vectors.cases_multimodal import ND_NOTES
from refrope.vectors.files import NOTES, file_names

COMMITTED = Path(__file__).resolve().parent / "vectors"
SPEC = Path(__file__).resolve().parents[1] / "docs" / "spec"

# --- the formats -----------------------------------------------------------------------------------------


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_hex_floats_round_trip_exactly(value):
    """[GV-JSON-1] hexf/unhex round-trip every finite float bit for bit, the sign of zero included."""
    back = jsonfmt.unhex(jsonfmt.hexf(value))
    assert struct.pack("<d", back) == struct.pack("<d", value)
    assert re.fullmatch(r"-?0x[01]\.[0-9a-f]+p[+-]\d+", jsonfmt.hexf(value))


@pytest.mark.parametrize("text, value", [("0x1.8000000000000p+1", 3.0), ("-0x1.0000000000000p-1", -0.5),
                                         ("0x0.0p+0", 0.0), ("0x1.0p-1074", 5e-324), ("0x1.fffffffffffffp+1023",
                                                                                       1.7976931348623157e308)])
def test_hex_floats_are_c99(text, value):
    """[GV-JSON-1] The strings are C99 hex floats: hand-written ones parse to the values strtod gives."""
    assert jsonfmt.unhex(text) == value
    with pytest.raises(ValueError, match="finite"):
        jsonfmt.hexf(math.inf)


def test_json_documents_are_wycheproof_shaped(vector_dir):
    """[GV-JSON-2] Header, consecutive tcIds, test count, a note per flag, comment, result and defined clauses."""
    defined = set(re.findall(r"^\*\*\[([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\]\*\*", "\n".join(
        p.read_text() for p in SPEC.glob("*.md")), flags=re.M)) if SPEC.is_dir() else None
    for name in file_names():
        if not name.endswith(".json") or name.startswith("index_"):
            continue
        doc = jsonfmt.loads((vector_dir / name).read_bytes())
        assert {"function", "schema", "formatVersion", "numberOfTests", "notes", "testGroups"} <= set(doc), name
        tests = [t for _, t in jsonfmt.iter_tests(doc)]
        assert [t["tcId"] for t in tests] == list(range(1, doc["numberOfTests"] + 1)), name
        assert doc["formatVersion"] == vectors.FORMAT_VERSION
        for t in tests:
            assert t["comment"] and t["result"] == "valid" and t["clauses"], (name, t["tcId"])
            assert set(t["flags"]) <= set(doc["notes"]), (name, t["tcId"])
            if defined is not None:
                assert set(t["clauses"]) <= defined, (name, t["tcId"], set(t["clauses"]) - defined)
        assert set(doc["notes"]) <= set(NOTES) | set(ND_NOTES)


def test_dumps_is_deterministic_and_refuses_decimal_floats():
    """[GV-JSON-2] Sorted keys and one layout whatever the insertion order; a bare float is refused."""
    assert jsonfmt.dumps({"b": 1, "a": [2, "x"]}) == jsonfmt.dumps({"a": [2, "x"], "b": 1}) == \
        b'{\n "a": [2, "x"],\n "b": 1\n}\n'
    with pytest.raises(TypeError, match="hexf"):
        jsonfmt.dumps({"a": 0.1})


def test_text_file_carries_the_json_cases(vector_dir):
    """[GV-TEXT-1] The flat text file has the JSON's cases, in order, with the same float strings."""
    v = vectors.FORMAT_VERSION
    doc = jsonfmt.loads((vector_dir / f"rope_apply_v{v}.json").read_bytes())
    tokens = (vector_dir / f"rope_apply_v{v}.txt").read_text().split()
    assert tokens[:4] == ["refrope-vectors", "apply_rope", str(v), str(doc["numberOfTests"])] and tokens[-1] == "end"
    pos = 4
    for group, t in jsonfmt.iter_tests(doc):
        header = ["test", str(t["tcId"]), t["layout"], str(t["headDim"]), str(t["rotaryOffset"]),
                  str(group["rotaryDim"]), str(t["seqLen"]), t["budget"]["dtype"], t["budget"]["maxAngle"],
                  group["attentionFactor"]]
        assert tokens[pos:pos + len(header)] == header
        pos += len(header)
        for key, values in (("inv_freq", group["invFreq"]), ("positions", t["positions"]), ("x", t["x"]),
                            ("expected", t["expected"])):
            assert tokens[pos] == key and tokens[pos + 1:pos + 1 + len(values)] == values
            pos += 1 + len(values)
    assert pos == len(tokens) - 1


# --- safetensors -----------------------------------------------------------------------------------------

ARRAYS = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([-0.0, 1e300]),
          "c": np.array([1, -2], dtype=np.int64), "e": np.zeros((0, 4), dtype=np.float64)}


def test_safetensors_round_trip_and_determinism():
    """[GV-ST-1] write then read gives the arrays back, dtypes and shapes included; the bytes do not depend on order."""
    blob = safetensors.write(ARRAYS, {"k": "v"})
    assert blob == safetensors.write(dict(reversed(list(ARRAYS.items()))), {"k": "v"})
    (n,) = struct.unpack("<Q", blob[:8])
    assert n % 8 == 0
    back, meta = safetensors.read(blob, expected_sha256=safetensors.sha256(blob))
    assert meta == {"k": "v"} and set(back) == set(ARRAYS)
    for key, arr in ARRAYS.items():
        assert back[key].dtype == arr.dtype and back[key].shape == arr.shape
        assert back[key].tobytes() == arr.tobytes()


def test_safetensors_interoperates_with_the_reference_package(tmp_path):
    """[GV-ST-1] Files we write load in the `safetensors` package, and files it writes load in our reader."""
    st_numpy = pytest.importorskip("safetensors.numpy", reason="the safetensors package is not installed")
    ours = safetensors.write(ARRAYS, {"k": "v"})
    theirs = st_numpy.load(ours)
    assert all(np.array_equal(theirs[k], ARRAYS[k]) and theirs[k].dtype == ARRAYS[k].dtype for k in ARRAYS)
    path = tmp_path / "t.safetensors"
    st_numpy.save_file(ARRAYS, str(path), metadata={"k": "v"})
    back, meta = safetensors.read(path.read_bytes())
    assert meta == {"k": "v"}
    assert all(np.array_equal(back[k], ARRAYS[k]) and back[k].dtype == ARRAYS[k].dtype for k in ARRAYS)


def _with_header(header: dict, body: bytes) -> bytes:
    text = jsonfmt.json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


@pytest.mark.parametrize("blob, message", [
    (b"\x01\x00", "fewer than"),
    (struct.pack("<Q", 10**6) + b"{}", "exceeds"),
    (struct.pack("<Q", 2) + b"[]", "JSON object"),
    (_with_header({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4), "do not hold"),
    (_with_header({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 4), "bad shape"),
    (_with_header({"x": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}, b"\0" * 2), "unsupported dtype"),
    (_with_header({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                   "y": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4), "gaps or overlaps"),
    (_with_header({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8), "trailing"),
    (_with_header({"x": {"dtype": "F32", "shape": [1]}}, b"\0" * 4), "exactly dtype"),
])
def test_safetensors_reader_refuses_malformed_files(blob, message):
    """[GV-ST-2] A malformed header, size, dtype or offset raises ValueError naming the problem."""
    with pytest.raises(ValueError, match=message):
        safetensors.read(blob)


def test_safetensors_reader_checks_the_hash_and_never_unpickles(monkeypatch):
    """[GV-ST-2] A wrong sha256 is refused; reading works with pickle disabled."""
    blob = safetensors.write(ARRAYS)
    with pytest.raises(ValueError, match="sha256 mismatch"):
        safetensors.read(blob, expected_sha256="0" * 64)

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(np, "load", refuse)
    assert safetensors.read(blob)[0]["c"].tolist() == [1, -2]


