"""[K-ADAPT-1] [K-REPORT-1] [N-REF-1]: the bundled adapters pass the conformance suite with their xfail files,
through ``refrope check`` itself (report, JUnit XML, figure), and every xfail is a documented finding."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from spec_tests.paths import REPO_ROOT, SUITE

from ..conftest import PROFILE, read_id_file
from .test_check_cli import refrope_cli

XFAILS = SUITE / "conformance" / "xfails"
ADAPTERS = {"torch": "torch", "transformers": "transformers", "rotary_embedding_torch": "rotary_embedding_torch",
            "ggml": "ggml"}


def _check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``refrope check`` with this run's profile: under ``thorough`` a whole adapter's thorough conformance run
    (about 25 times the ``ci`` one), so no time limit there (docs/sharding.md)."""
    return refrope_cli(tmp_path, "check", "--profile", PROFILE, *args, timeout=None if PROFILE == "thorough" else 1200)


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_bundled_adapter_passes_with_its_xfails(tmp_path, name):
    """[K-ADAPT-1] [K-REPORT-1] [N-REF-1] `refrope check --backend NAME --xfails-file xfails/NAME.txt --report DIR`
    exits 0 and writes report.md (header, the variant x layout x dtype grid with the worst error over budget),
    junit.xml and the error-against-position figure."""
    if importlib.util.find_spec(ADAPTERS[name]) is None:
        pytest.skip(f"{ADAPTERS[name]} is not installed (pip install -e '.[hf]' or '.[ggml]')")
    run = _check(tmp_path, "--backend", name, "--xfails-file", str(XFAILS / f"{name}.txt"), "--report", "out")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "tests selected; estimated run time" in run.stdout and "PASSED" in run.stdout
    report = (tmp_path / "out" / "report.md").read_text()
    assert f"- backend: {name} ({name};" in report
    assert "| test | variant or case | half / float32 |" in report
    row = next(line for line in report.splitlines() if line.startswith("| apply_rope | default |"))
    assert "pass" in row and "FAIL" not in row, row
    assert "<testsuite" in (tmp_path / "out" / "junit.xml").read_text()
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "out" / "error_vs_position.png").read_bytes()[:4] == b"\x89PNG"


def test_a_failing_backend_fails_the_check(tmp_path):
    """[K-REPORT-1] [K-MUT-1] A mutant makes `refrope check` exit non-zero and the report lists its failures."""
    pytest.importorskip("torch")
    run = _check(tmp_path, "--backend", "spec_tests.meta.mutants.layout_swapped", "--report", "out", "--",
                 "-k", "test_apply_rope and float32-default-half", "-x")
    assert run.returncode == 1, run.stdout[-3000:]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Failures" in report and "test_apply_rope[float32-default-half]" in report
    assert "FAILED clause K-APPLY-1" in run.stdout


def test_figure_is_skipped_with_a_note_without_matplotlib(tmp_path, monkeypatch):
    """[K-REPORT-1] Without matplotlib the figure is skipped with a printed note, not an error."""
    pytest.importorskip("torch")
    from refrope.backends import load_backend
    from refrope.report.figure import write_figure

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert "matplotlib is not installed" in write_figure(load_backend("torch"), tmp_path)
    assert not (tmp_path / "error_vs_position.png").exists()


@pytest.mark.skipif(REPO_ROOT is None, reason="docs/ ships with the repository, not the wheel")
@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_every_xfail_is_a_documented_finding(name):
    """[K-ADAPT-1] [N-REF-1] Every xfail entry has a reason and is listed in docs/known_libraries.md; the torch
    reference has none."""
    entries = read_id_file(str(XFAILS / f"{name}.txt"))
    page = (REPO_ROOT / "docs" / "known_libraries.md").read_text(encoding="utf-8")
    assert all(reason for _, reason in entries)
    assert [ident for ident, _ in entries if f"`{ident}`" not in page] == []
    assert name != "torch" or entries == []
