"""[K-PROTO-1] [K-PROTO-2] [K-REPORT-1] [GV-CLI-2] [GV-FILES-1]: the smaller promises of the command line —
unknown capabilities, missing optional dependencies, ``refrope variants --format json``, the figure's labels,
and ``refrope vectors verify`` on missing, incomplete, damaged, other-version, platform-rounded and changed
copies; exported vectors carry the schemas they name."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import refrope
from refrope.backends import load_backend
from refrope.backends.protocol import valid_capabilities
from refrope.cli import main
from refrope.vectors import files as vector_files
from refrope.vectors import jsonfmt, safetensors
from refrope.vectors.cli import verify_report
from refrope.vectors.version import FORMAT_VERSION

from .test_backend_protocol import _module
from .test_check_cli import ROOT, refrope_cli

ROPE_JSON = f"rope_apply_v{FORMAT_VERSION}.json"
ROPE_TXT = f"rope_apply_v{FORMAT_VERSION}.txt"


def test_unknown_capability_lists_the_valid_ones(monkeypatch):
    """[K-PROTO-1] A capability that is not a function, a flag or a registered feature value is refused with a
    near match and the full list, which follows the registries (every variant, layout, map and scale)."""
    monkeypatch.setitem(sys.modules, "fake_backend", _module(capabilities={"apply_rope", "layout:neox", "rope"}))
    with pytest.raises(ValueError, match="did you mean") as info:
        load_backend("fake_backend")
    assert "'layout:neox'" in str(info.value) and "'rope'" in str(info.value)
    valid = valid_capabilities()
    assert all(f"variant:{v}" in valid for v in refrope.VARIANTS)
    assert all(f"layout:{v}" in valid for v in refrope.LAYOUTS)
    assert all(f"relpos:{v}" in valid for v in refrope.relpos.MAPS)
    assert ", ".join(valid) in str(info.value)


@pytest.mark.parametrize("name, module, extra", [("transformers", "transformers", "hf"),
                                                 ("torch", "torch", "torch"),
                                                 ("rotary_embedding_torch", "rotary_embedding_torch", "rotary")])
def test_missing_optional_dependency_names_its_extra(monkeypatch, name, module, extra):
    """[K-PROTO-2] A bundled backend whose library is not installed says which extra installs it."""
    monkeypatch.setitem(sys.modules, module, None)  # "not installed" for the import system
    for loaded in [m for m in sys.modules if m.startswith("refrope.backends.") and m.split(".")[-1] not in
                   ("protocol", "loader", "oracle")]:
        monkeypatch.delitem(sys.modules, loaded)
    with pytest.raises(ValueError, match=rf"{module} is not installed: install refrope's '{extra}' extra"):
        load_backend(name)


def test_a_module_that_fails_to_import_says_so(tmp_path):
    """[K-PROTO-2] A backend file that raises while it is imported is named with the error it raised."""
    (tmp_path / "bad.py").write_text("raise RuntimeError('my kernels are not built')\n")
    with pytest.raises(ValueError, match="importing it raised RuntimeError: my kernels are not built"):
        load_backend(str(tmp_path / "bad.py"))


def test_variants_as_json(capsys):
    """[K-CLI-3] `refrope variants --format json` lists the registry with clauses and parameters."""
    assert main(["variants", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [v["name"] for v in data] == list(refrope.VARIANTS)
    yarn = next(v for v in data if v["name"] == "yarn")
    assert yarn["clause"] == refrope.VARIANTS["yarn"].clause and {"name": "factor", "required": True,
                                                                  "default": None} in yarn["params"]


def test_figure_says_what_it_plots_and_keeps_position_zero(tmp_path, monkeypatch):
    """[K-REPORT-1] The figure's title names the backend, variant, theta, head dim and layout, its axis explains
    (m r), and position 0 is among the positions plotted."""
    from refrope.report import figure

    seen = {}

    def plot(curves, path, title):
        seen.update(curves=curves, title=title)
        return True

    monkeypatch.setattr(figure, "plot", plot)
    backend = load_backend("spec_tests.meta.numpy_backends:correct")
    assert figure.write_figure(backend, tmp_path).startswith("figure written")
    assert "variant default, theta = 10000, head dim = rotary dim = 128, layout 'half'" in seen["title"]
    curve = seen["curves"]["float32"]
    assert curve["positions"][0] == 0 and curve["error"][0] == 0.0 and (curve["error"] <= curve["budget"]).all()
    pytest.importorskip("matplotlib")
    monkeypatch.undo()
    assert figure.write_figure(backend, tmp_path) == f"figure written to {tmp_path / 'error_vs_position.png'}"


# --- refrope vectors verify ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    return vector_files.build()


@pytest.fixture
def copy(tmp_path, built, monkeypatch):
    """A fresh export in tmp_path/v; verify compares against the one build of this module."""
    monkeypatch.setattr(vector_files, "build", lambda: dict(built))
    vector_files.export(tmp_path / "v", files={**built, **vector_files.schema_files()})
    return tmp_path / "v"


def _rewrite(directory, name: str, edit, *, reindex: bool) -> None:
    path = directory / name
    path.write_bytes(edit(path.read_bytes()))
    if reindex:  # as if the copy had been exported that way: the index agrees with the file
        index = directory / f"index_v{FORMAT_VERSION}.json"
        doc = jsonfmt.loads(index.read_bytes())
        data = path.read_bytes()
        doc["files"][name] = {"bytes": len(data), "sha256": safetensors.sha256(data)}
        index.write_bytes(jsonfmt.dumps(doc))


def _first_hex(field: str, change):
    def edit(data: bytes) -> bytes:
        doc = jsonfmt.loads(data)
        test = doc["testGroups"][0]["tests"][0]
        test[field][0] = change(test[field][0])
        return jsonfmt.dumps(doc)
    return edit


def test_verify_an_intact_copy_and_a_missing_directory(copy, tmp_path):
    """[GV-CLI-2] An intact export verifies (schemas included); a missing directory is exit code 2 and says
    "directory not found"; --format json prints the verdict as JSON."""
    assert verify_report(copy)["verdict"] == "identical"
    run = refrope_cli(ROOT, "vectors", "verify", str(tmp_path / "nowhere"))
    assert run.returncode == 2 and "directory not found" in run.stderr
    run = refrope_cli(ROOT, "vectors", "verify", str(tmp_path / "nowhere"), "--format", "json")
    assert run.returncode == 2 and json.loads(run.stdout)["verdict"] == "directory not found"


def test_verify_a_damaged_copy_names_the_first_differing_test_and_value(copy):
    """[GV-CLI-2] One expected value edited after export: the copy is damaged (it no longer matches its own
    index), and the report names test tcId 1, the field and both values."""
    _rewrite(copy, ROPE_JSON, _first_hex("expected", lambda h: (float.fromhex(h) + 0.5).hex()),
             reindex=False)
    report = verify_report(copy)
    assert report["verdict"] == "damaged" and "restore it" in report["advice"].lower()
    [problem] = report["files"]
    assert problem["file"] == ROPE_JSON
    assert problem["first_difference"].startswith("first difference at test tcId 1 (")
    assert "field expected[0]: on disk" in problem["first_difference"]


def test_verify_incomplete_and_other_version_copies(copy, tmp_path):
    """[GV-CLI-2] A missing file makes the copy incomplete; a folder of another format version says so."""
    (copy / ROPE_TXT).unlink()
    report = verify_report(copy)
    assert report["verdict"] == "incomplete" and f"{ROPE_TXT} missing" in report["advice"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "index_v9.json").write_text("{}")
    report = verify_report(other)
    assert report["verdict"] == "other version" and "index_v9.json" in report["advice"]


def test_verify_tells_platform_rounding_from_a_changed_oracle(copy):
    """[GV-CLI-2] [GV-VERSION-1] An intact copy whose expected value differs by 1 ULP is platform rounding (the
    copy is fine); one whose input differs holds other cases (users: re-export; maintainers: bump the version)."""
    _rewrite(copy, ROPE_JSON, _first_hex("expected", lambda h: np.nextafter(float.fromhex(h), 9).hex()),
             reindex=True)
    report = verify_report(copy)
    assert report["verdict"] == "platform rounding" and "intact" in report["advice"]
    _rewrite(copy, ROPE_JSON, _first_hex("x", lambda h: (float.fromhex(h) + 1.0).hex()), reindex=True)
    report = verify_report(copy)
    assert report["verdict"] == "different"
    assert "Users:" in report["advice"] and "Maintainers:" in report["advice"]


def test_exported_documents_validate_against_the_exported_schemas(copy):
    """[GV-FILES-1] [GV-JSON-2] An export holds schema/*.schema.json, and every document validates against the
    schema its "schema" field names, relative to the document."""
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    for path in sorted(copy.glob("*.json")):
        doc = jsonfmt.loads(path.read_bytes())
        name = "schema/index.schema.json" if path.name.startswith("index_") else doc["schema"]
        jsonschema.validate(doc, jsonfmt.loads((copy / name).read_bytes()))
