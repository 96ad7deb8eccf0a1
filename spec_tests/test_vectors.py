"""[GV-REPLAY-1] The golden vectors replayed against the chosen backend, and the file formats they rely on.

The backend is the suite's (``--backend`` or ``$REFROPE_BACKEND``, default: the oracle itself), loaded
through the conformance protocol (:func:`refrope.backends.load_backend`); each case's output must lie within
the budget its recorded inputs give (:func:`refrope.vectors.budget.case_budget`). The Python suite and the
native harnesses (examples/c) read the same files. From a wheel install, where the committed files are
absent, the vectors are exported into a temporary directory first: the case list lives in the package.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import refrope
from refrope import vectors
from refrope.backends import feature_name, load_backend, supports
from refrope.vectors import budget as vbudget
from refrope.vectors import cases_schemes, generate, jsonfmt, safetensors
from refrope.vectors.cases_multimodal import ND_CASES
from refrope.vectors.files import file_names

COMMITTED = Path(__file__).resolve().parent / "vectors"
SPEC = Path(__file__).resolve().parents[1] / "docs" / "spec"

@pytest.fixture(scope="session")
def backend(request):
    """The backend under test: the one spec_tests/conftest.py loaded, else ``load_backend()``."""
    return getattr(request.config, "refrope_backend", None) or load_backend()



def _cases():
    directory = COMMITTED if (COMMITTED / file_names()[-1]).is_file() else None
    if directory is None:  # wheel install: the ids come from the case list, the files from the fixture
        return [pytest.param(i, id=f"case{i}") for i in range(len(generate.ROPE_CASES) + len(generate.ATTENTION_CASES)
                                                              + len(generate.LONG_ROPE_CASES)
                                                              + len(generate.LONG_ATTENTION_CASES) + len(ND_CASES)
                                                              + sum(map(len, cases_schemes.ALL)))]
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
    if case.function == "apply_rope_nd":  # [MM-GV-1]
        reason = supports(backend, "apply_rope_nd", layout=i["layout"], rotary_offset=i["rotary_offset"] > 0)
        if reason:
            pytest.skip(reason)
        out = backend.function("apply_rope_nd")(backend.to_backend(i["x"], dtype), i["positions"], freqs,
                                                axes=tuple(int(a) for a in i["axes"]), layout=i["layout"],
                                                rotary_offset=i["rotary_offset"])
        return np.asarray(backend.to_numpy(out), dtype=np.float64)
    if case.function == "apply_rope":
        reason = supports(backend, "apply_rope", layout=i["layout"], rotary_offset=i["rotary_offset"] > 0
                          or i["x"].shape[-1] != freqs.rotary_dim)
        if reason:
            pytest.skip(reason)
        out = backend.function("apply_rope")(backend.to_backend(i["x"], dtype), i["positions"], freqs,
                                             layout=i["layout"], rotary_offset=i["rotary_offset"])
        return np.asarray(backend.to_numpy(out), dtype=np.float64)
    if case.function in ("apply_xpos", "dual_chunk_attention"):
        return _run_scheme(backend, case, dtype, freqs)
    relpos = getattr(refrope.relpos, i["relpos"][0])(*i["relpos"][1])
    qs = None if i["query_scale"] is None else getattr(refrope.query_scale, i["query_scale"][0])(*i["query_scale"][1])
    bias = None if i.get("bias") is None else getattr(refrope.bias, i["bias"][0])(*i["bias"][1])
    features = {"layout": i["layout"], "relpos": feature_name("relpos", relpos),
                "gqa": i["q"].shape[-3] != i["k"].shape[-3], "rotary_offset": i["q"].shape[-1] != freqs.rotary_dim,
                "chunk_size": i.get("chunk_size") is not None}
    for kind, value in (("query_scale", qs), ("bias", bias)):
        if value is not None:
            features[kind] = feature_name(kind, value)
    reason = supports(backend, "attention", **features)
    if reason:
        pytest.skip(reason)
    q, k, v = (backend.to_backend(i[n], dtype) for n in ("q", "k", "v"))
    extra = {} if bias is None and i.get("chunk_size") is None else {"bias": bias, "chunk_size": i["chunk_size"]}
    out = backend.function("attention")(q, k, v, freqs, positions_q=i["positions_q"], positions_k=i["positions_k"],
                                        relpos=relpos, layout=i["layout"], causal=i["causal"],
                                        sliding_window=i["sliding_window"], key_mask=None, scale=i["logit_scale"],
                                        query_scale=qs, mscale_all_dim=None, **extra)
    return np.asarray(backend.to_numpy(out), dtype=np.float64)


def _run_scheme(backend, case, dtype: str, freqs) -> np.ndarray:
    """An xPos or dual-chunk case through the backend (skipped, with the reason, if it lacks the function)."""
    i = case.inputs
    features = {"layout": i["layout"]}
    if case.function == "dual_chunk_attention":
        features["gqa"] = i["q"].shape[-3] != i["k"].shape[-3]
    reason = supports(backend, case.function, **features)
    if reason:
        pytest.skip(reason)
    if case.function == "apply_xpos":
        out = backend.function("apply_xpos")(backend.to_backend(i["x"], dtype), i["positions"], freqs, role=i["role"],
                                             scale_base=i["scale_base"], gamma=i["gamma"], layout=i["layout"])
    else:
        q, k, v = (backend.to_backend(i[n], dtype) for n in ("q", "k", "v"))
        out = backend.function("dual_chunk_attention")(q, k, v, freqs, chunk_size=i["chunk_size"],
                                                       local_size=i["local_size"], layout=i["layout"],
                                                       scale=i["logit_scale"])
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
    err = capsys.readouterr().err  # a file edited after export: the copy is damaged, re-export it ([GV-CLI-2])
    assert "damaged" in err and "refrope vectors export" in err
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
    assert {c.group["variant"] for c in rope + attn} == set(refrope.VARIANTS)
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
        if c.function in ("apply_rope", "apply_xpos"):
            assert c.budget["max_angle"] == float(np.max(np.abs(i["positions"]))) * float(np.max(i["inv_freq"]))
            assert c.budget["max_abs_input"] == float(np.max(np.abs(i["x"])))
        elif c.function == "apply_rope_nd":  # each pair at its own axis's largest position
            angle = float(np.max(np.abs(i["positions"]).max(axis=1)[i["axes"]] * i["inv_freq"]))
            assert c.budget["max_angle"] == angle and c.budget["max_abs_input"] == float(np.max(np.abs(i["x"])))
        elif c.function == "dual_chunk_attention":
            assert c.budget["max_angle"] == i["chunk_size"] * float(np.max(i["inv_freq"]))
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

