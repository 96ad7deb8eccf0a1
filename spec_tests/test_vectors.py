"""[GV-REPLAY-1] The golden vectors replayed against the chosen backend, and the file formats they rely on.

The backend is the suite's (``--backend`` or ``$REFROPE_BACKEND``, default: the oracle itself), loaded
through the conformance protocol (:func:`refrope.backends.load_backend`); each case's output must lie within
the budget its recorded inputs give (:func:`refrope.vectors.budget.case_budget`). The Python suite and the
native harnesses (examples/c) read the same files. From a wheel install, where the committed files are
absent, the vectors are exported into a temporary directory first: the case list lives in the package.
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

import refrope
from refrope import vectors
from refrope.backends import feature_name, load_backend, supports
from refrope.vectors import budget as vbudget
from refrope.vectors import generate, jsonfmt, safetensors
from refrope.vectors.files import NOTES, file_names

COMMITTED = Path(__file__).resolve().parent / "vectors"
SPEC = Path(__file__).resolve().parents[1] / "docs" / "spec"


@pytest.fixture(scope="session")
def backend(request):
    """The backend under test: the one spec_tests/conftest.py loaded, else ``load_backend()``."""
    return getattr(request.config, "refrope_backend", None) or load_backend()


@pytest.fixture(scope="session")
def vector_dir(tmp_path_factory) -> Path:
    if (COMMITTED / file_names()[-1]).is_file():
        return COMMITTED
    out = tmp_path_factory.mktemp("vectors")
    vectors.export(out)
    return out


def _cases():
    directory = COMMITTED if (COMMITTED / file_names()[-1]).is_file() else None
    if directory is None:  # wheel install: the ids come from the case list, the files from the fixture
        return [pytest.param(i, id=f"case{i}") for i in range(len(generate.ROPE_CASES) + len(generate.ATTENTION_CASES)
                                                              + len(generate.LONG_ROPE_CASES)
                                                              + len(generate.LONG_ATTENTION_CASES))]
    return [pytest.param(i, id=c.name) for i, c in enumerate(vectors.load(directory))]


@pytest.fixture(scope="session")
def loaded(vector_dir):
    return vectors.load(vector_dir)


def _dtype(backend, case) -> str | None:
    """The dtype to feed: the case's own if the backend takes it, else float64 (the inputs are exact in it)."""
    if case.budget["dtype"] in backend.dtypes:
        return case.budget["dtype"]
    return "float64" if "float64" in backend.dtypes else None


def _run(backend, case, dtype: str) -> np.ndarray:
    i = case.inputs
    freqs = refrope.Frequencies(i["inv_freq"], i["attention_factor"])
    if case.function == "apply_rope":
        reason = supports(backend, "apply_rope", layout=i["layout"], rotary_offset=i["rotary_offset"] > 0
                          or i["x"].shape[-1] != freqs.rotary_dim)
        if reason:
            pytest.skip(reason)
        out = backend.function("apply_rope")(backend.to_backend(i["x"], dtype), i["positions"], freqs,
                                             layout=i["layout"], rotary_offset=i["rotary_offset"])
        return np.asarray(backend.to_numpy(out), dtype=np.float64)
    relpos = getattr(refrope.relpos, i["relpos"][0])(*i["relpos"][1])
    qs = None if i["query_scale"] is None else getattr(refrope.query_scale, i["query_scale"][0])(*i["query_scale"][1])
    features = {"layout": i["layout"], "relpos": feature_name("relpos", relpos),
                "gqa": i["q"].shape[-3] != i["k"].shape[-3], "rotary_offset": i["q"].shape[-1] != freqs.rotary_dim}
    if qs is not None:
        features["query_scale"] = feature_name("query_scale", qs)
    reason = supports(backend, "attention", **features)
    if reason:
        pytest.skip(reason)
    q, k, v = (backend.to_backend(i[n], dtype) for n in ("q", "k", "v"))
    out = backend.function("attention")(q, k, v, freqs, positions_q=i["positions_q"], positions_k=i["positions_k"],
                                        relpos=relpos, layout=i["layout"], causal=i["causal"],
                                        sliding_window=i["sliding_window"], key_mask=None, scale=i["logit_scale"],
                                        query_scale=qs, mscale_all_dim=None)
    return np.asarray(backend.to_numpy(out), dtype=np.float64)


@pytest.mark.parametrize("index", _cases())
def test_replay_within_budget(index, loaded, backend):
    """[GV-REPLAY-1] Every vector case, run through the backend, is within its recorded budget elementwise."""
    case = loaded[index]
    dtype = _dtype(backend, case)
    if dtype is None:
        pytest.skip(f"{backend.name} takes neither {case.budget['dtype']} nor float64 (inputs would be rounded)")
    out = _run(backend, case, dtype)
    assert out.shape == case.expected.shape, f"{case.name}: shape {out.shape}, expected {case.expected.shape}"
    bound = vbudget.case_budget(case.function, case.inputs, case.budget, angle_dtype=backend.angle_dtype, dtype=dtype)
    err = np.abs(out - case.expected)
    bad = ~(err <= bound)  # NaN counts as outside
    if bad.any():
        first = tuple(int(j) for j in np.argwhere(bad)[0])
        pytest.fail(f"{case.name} ({case.comment}): {int(bad.sum())}/{bad.size} elements outside the budget on "
                    f"{backend.name} ({dtype}, angles in {backend.angle_dtype}); first at {first}: "
                    f"got {out[first]:.9g}, expected {case.expected[first]:.9g}, budget {bound[first]:.3g}; "
                    f"max error {np.nanmax(err):.3g}")


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
        assert set(doc["notes"]) <= set(NOTES)


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


# --- export, load, verify, the case list ---------------------------------------------------------------


def test_load_detects_tampering(vector_dir, tmp_path):
    """[GV-LOAD-1] One flipped byte in any data file makes load raise, naming the file."""
    for name in file_names():
        if name.startswith("index_"):
            continue
        for other in file_names():
            (tmp_path / other).write_bytes((vector_dir / other).read_bytes())
        data = bytearray((tmp_path / name).read_bytes())
        data[len(data) // 2] ^= 1
        (tmp_path / name).write_bytes(bytes(data))
        with pytest.raises(ValueError, match=re.escape(name)):
            vectors.load(tmp_path)


def test_export_writes_the_versioned_files_and_verify_compares_bytes(tmp_path, vector_dir):
    """[GV-FILES-1] [GV-VERIFY-1] export writes exactly the versioned files, the index hashes them, verify
    finds a fresh export identical and reports a changed byte and a missing file."""
    files = {name: (vector_dir / name).read_bytes() for name in file_names()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(file_names())
    assert all(f"_v{vectors.FORMAT_VERSION}." in name for name in files)
    index = jsonfmt.loads(files[file_names()[-1]])
    assert set(index["files"]) == set(file_names()[:-1])
    assert all(index["files"][n]["sha256"] == safetensors.sha256(files[n]) for n in index["files"])
    assert vectors.verify(tmp_path, files=files) == []
    name = file_names()[2]
    (tmp_path / name).write_bytes(files[name][:-1] + b" ")
    (tmp_path / file_names()[0]).unlink()
    problems = vectors.verify(tmp_path, files=files)
    assert len(problems) == 2 and problems[0].startswith(file_names()[0]) and "missing" in problems[0]
    assert problems[1].startswith(name) and "differs" in problems[1]


def test_cli_export_and_verify(tmp_path, capsys, monkeypatch):
    """[GV-CLI-1] `python -m refrope.vectors export DIR` then `verify DIR` exit 0; verify of a tampered DIR exits 1;
    register() adds the same commands to a `refrope` parser. (One build, shared by the commands.)"""
    from refrope.vectors import cli, files

    built = files.build()
    monkeypatch.setattr(files, "build", lambda: built)
    assert cli.main(["export", str(tmp_path)]) == 0
    assert cli.main(["verify", str(tmp_path)]) == 0
    (tmp_path / file_names()[1]).write_bytes(b"tampered\n")
    assert cli.main(["verify", str(tmp_path)]) == 1
    assert "bump refrope.vectors.FORMAT_VERSION" in capsys.readouterr().err
    import argparse

    parser = argparse.ArgumentParser(prog="refrope")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["vectors", "verify", str(tmp_path)])
    assert args.func(args) == 1


def test_case_list_covers_the_issue(loaded):
    """[GV-CASES-1] Every variant, relpos map and query scale, all layouts, partial rotary with offsets, positions
    2^11 to 2^20, theta 5e5 and 1e6, rotary dims 20..192, attention up to n = 8192; inputs exact in float32."""
    rope = [c for c in loaded if c.function == "apply_rope"]
    attn = [c for c in loaded if c.function == "attention"]
    assert {c.group["variant"] for c in loaded} == set(refrope.VARIANTS)
    assert {c.inputs["relpos"][0] for c in attn} == set(refrope.relpos.MAPS)
    assert {c.inputs["query_scale"][0] for c in attn if c.inputs["query_scale"]} == set(refrope.query_scale.SCALES)
    assert {c.inputs["layout"] for c in rope} == set(refrope.LAYOUTS)
    assert any(c.inputs["rotary_offset"] > 0 and c.inputs["rotary_offset"] + 2 * len(c.inputs["inv_freq"])
               < c.inputs["x"].shape[-1] for c in rope)
    longest = [float(np.max(c.inputs["positions"])) for c in rope]
    assert max(longest) == 2**20 and any(2**11 <= p < 2**12 for c in rope for p in c.inputs["positions"])
    assert {5e5, 1e6} <= {jsonfmt.unhex(c.group["theta"]) for c in loaded}
    assert {20, 36, 72, 80, 96, 120, 192} <= {c.group["rotaryDim"] for c in loaded}
    assert max(c.inputs["q"].shape[-2] for c in attn) == 8192
    assert any("ReRoPE" in c.flags and "LogN" in c.flags for c in attn)
    for c in loaded:
        for key in ("x", "q", "k", "v"):
            if key in c.inputs:
                assert np.array_equal(c.inputs[key].astype(np.float32).astype(np.float64), c.inputs[key]), c.name


def test_cases_are_deterministic_draws():
    """[GV-CASES-1] Inputs are functions of the seed alone: 13-bit dyadics in [-h, h) from the raw PCG64 stream."""
    a = generate.dyadic(7, (4, 5))
    assert np.array_equal(a, generate.dyadic(7, (4, 5))) and not np.array_equal(a, generate.dyadic(8, (4, 5)))
    raw = np.random.PCG64(7).random_raw(20)
    assert np.array_equal(a.ravel(), [((int(r) >> 51) - 4096) / 1024 for r in raw])
    p = generate.sample_positions(3, 10, 20, 6)
    assert p[0] == 10 and p[-1] == 20 and list(p) == sorted(p) and len(p) == 6


def test_recorded_budget_inputs(loaded):
    """[GV-BUDGET-1] Each case records its dtype, max |p w| (recomputed here), max |input|; attention adds c_i and
    S_i."""
    for c in loaded:
        assert c.budget["dtype"] == "float32"
        i = c.inputs
        if c.function == "apply_rope":
            assert c.budget["max_angle"] == float(np.max(np.abs(i["positions"]))) * float(np.max(i["inv_freq"]))
            assert c.budget["max_abs_input"] == float(np.max(np.abs(i["x"])))
        else:
            assert c.budget["max_angle"] >= float(np.max(np.abs(i["positions_q"]))) * float(np.max(i["inv_freq"]))
            assert c.budget["logit_multiplier"].shape == i["positions_q"].shape
            assert np.all(c.budget["max_logit"] >= 0) and c.budget["max_logit"].shape == c.expected.shape[:-1]


def test_case_budget_by_hand():
    """[GV-BUDGET-1] The apply_rope budget is m r (8 u + 4 u_a (1 + |p w|)) + 4 eta per rotated coordinate, 0
    elsewhere."""
    inputs = {"x": np.array([[3.0, 9.0, 4.0]]), "positions": np.array([10.0]), "inv_freq": np.array([0.5]),
              "attention_factor": 2.0, "layout": "interleaved", "rotary_offset": 1}
    b = vbudget.case_budget("apply_rope", inputs, {"dtype": "float32"}, angle_dtype="float64")
    r, u, ua = math.hypot(9.0, 4.0), 2.0**-24, 2.0**-53
    pair = 2.0 * r * (8 * u + 4 * ua * (1 + 5.0)) + 4 * 2.0**-149
    assert b.tolist() == [[0.0, pair, pair]]


def test_json_files_match_their_schemas(vector_dir):
    """[GV-JSON-2] Every JSON file validates against its schema in docs/vectors/schema; a file missing a tcId does
    not."""
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    schemas = Path(__file__).resolve().parents[1] / "docs" / "vectors" / "schema"
    if not schemas.is_dir():
        pytest.skip("docs/vectors/schema ships with the repository, not the wheel")
    for name in file_names():
        if not name.endswith(".json"):
            continue
        doc = jsonfmt.loads((vector_dir / name).read_bytes())
        kind = "index" if name.startswith("index_") else doc["schema"].split("/")[1].split(".")[0]
        schema = jsonfmt.loads((schemas / f"{kind}.schema.json").read_bytes())
        jsonschema.validate(doc, schema)
        if kind != "index":
            del doc["testGroups"][0]["tests"][0]["tcId"]
            with pytest.raises(jsonschema.ValidationError, match="tcId"):
                jsonschema.validate(doc, schema)


def test_python_m_refrope_vectors_is_the_cli():
    """[GV-CLI-1] `python -m refrope.vectors` runs the same command line (help lists export and verify; no command
    is a usage error)."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "refrope.vectors", "--help"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "export" in ok.stdout and "verify" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "refrope.vectors"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "required" in bad.stderr
