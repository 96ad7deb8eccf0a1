"""[PERF-SHARD-1] [PERF-MERGE-1] [PERF-XDIST-1]: the shards of the suite, their merged report, and ``-n``.

Each run is a subprocess with this checkout first on ``PYTHONPATH`` (so the refrope under test is this tree's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from refrope.report.shard import parse_shard, shard_of
from spec_tests.paths import SUITE

ROOT = SUITE.parent


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFROPE_") and k != "HYPOTHESIS_PROFILE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return env


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600)


def _collected(*extra: str) -> list[str]:
    run = _run(ROOT, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "spec_tests/test_layouts.py",
               "spec_tests/test_relpos.py", *extra)
    assert run.returncode == 0, run.stdout + run.stderr
    return [line for line in run.stdout.splitlines() if "::" in line]


def test_shards_are_disjoint_and_cover_the_collection():
    """[PERF-SHARD-1] --shard 1/3, 2/3 and 3/3 collect disjoint sets whose union is the whole collection, the same
    in every run, and every test is in the shard sha256(id) mod 3 names."""
    whole = _collected()
    shards = [_collected(f"--shard={i}/3") for i in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(whole) and len(set(whole)) == len(whole)
    assert all(shards) and _collected("--shard=2/3") == shards[1]
    for i, ids in enumerate(shards, start=1):
        assert all(shard_of(t.removeprefix("spec_tests/"), 3) == i for t in ids)


def test_the_documented_shard_command_parses_without_a_test_path():
    """[PERF-SHARD-1] docs/sharding.md's ``python -m pytest -n auto --shard i/4 --junitxml=...`` from the repository
    root, with no test path and a space before the value (pyproject.toml loads ``-p spec_tests.options`` first, so
    ``1/64`` is not taken for a path), keeps a shard; so does ``--backend refrope`` before a test path."""
    run = _run(ROOT, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "--shard", "1/64")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "deselected" in run.stdout.splitlines()[-1], run.stdout[-500:]
    run = _run(ROOT, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "--backend", "refrope", "--shard", "1/2",
               "spec_tests/test_layouts.py")
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0"])
def test_bad_shard_is_a_usage_error(text):
    """[PERF-SHARD-1] A --shard that is not I/N with 1 <= I <= N stops pytest with a usage error naming it."""
    with pytest.raises(ValueError, match="--shard must be I/N"):
        parse_shard(text)
    run = _run(ROOT, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "spec_tests/test_layouts.py",
               f"--shard={text}")
    assert run.returncode == 4 and f"--shard must be I/N with 1 <= I <= N (e.g. 2/4), got '{text}'" in run.stderr


TESTS = {"test_a.py": """
    import pytest
    def test_pass(): assert True
    def test_fail(): assert 1 == 2
    @pytest.mark.skip(reason="not here")
    def test_skip(): pass
    """, "test_b.py": """
    import pytest
    @pytest.mark.xfail(reason="a finding", strict=False)
    def test_xfail(): assert False
    @pytest.mark.parametrize("x", [1, 2])
    def test_param(x): assert x
    """}


@pytest.fixture
def junit_files(tmp_path) -> list[Path]:
    out = []
    for name, body in TESTS.items():
        (tmp_path / name).write_text(textwrap.dedent(body))
        xml = tmp_path / f"{name}.xml"
        _run(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", name, f"--junitxml={xml}")
        out.append(xml)
    return out


def test_merge_of_junit_files(junit_files, tmp_path):
    """[PERF-MERGE-1] `refrope report merge a.xml b.xml --report DIR` counts every test of both files once, with its
    outcome and skip/xfail reason, gives the verdict of one run (FAILED, exit 1), and writes report.md,
    report.json and one junit.xml holding both files' test cases."""
    run = _run(tmp_path, "-m", "refrope", "report", "merge", *map(str, junit_files), "--report", "merged")
    assert run.returncode == 1, run.stdout + run.stderr
    data = json.loads((tmp_path / "merged" / "report.json").read_text())
    outcomes = {r["test"]: r["outcome"] for r in data["results"]}
    assert outcomes == {"test_a.py::test_pass": "passed", "test_a.py::test_fail": "failed",
                        "test_a.py::test_skip": "skipped", "test_b.py::test_xfail": "xfailed",
                        "test_b.py::test_param[1]": "passed", "test_b.py::test_param[2]": "passed"}
    assert data["verdict"] == "FAILED" and data["coverage"]["failed"] == 1
    reasons = {r["test"]: r["reason"] for r in data["results"] if r["reason"]}
    assert reasons == {"test_a.py::test_skip": "not here", "test_b.py::test_xfail": "a finding"}
    assert (tmp_path / "merged" / "junit.xml").read_text().count("<testcase") == 6
    assert "FAILED" in (tmp_path / "merged" / "report.md").read_text()


def test_merge_refuses_overlapping_shards(junit_files, tmp_path):
    """[PERF-MERGE-1] A test in two inputs (overlapping shards) is an error naming it, exit code 2."""
    run = _run(tmp_path, "-m", "refrope", "report", "merge", str(junit_files[0]), str(junit_files[0]))
    assert run.returncode == 2 and "test_a.py::test_pass is in both" in run.stderr


def test_merge_of_report_json_keeps_clauses_and_passes(tmp_path):
    """[PERF-MERGE-1] report.json files of refrope check merge with their clauses kept; all passed: exit 0."""
    from refrope.report.collector import Result
    from refrope.report.data import report_data

    for i, clause in enumerate(("R-APPLY-1", "A-PASS-1")):
        data = report_data([Result(f"t.py::t{i}", "passed", function=f"t{i}", clauses=(clause,))], header=["h"])
        (tmp_path / f"r{i}.json").write_text(json.dumps(data, default=str))
    run = _run(tmp_path, "-m", "refrope", "report", "merge", "r0.json", "r1.json", "--format", "json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["verdict"] == "PASSED" and sorted(data["clauses"]) == ["A-PASS-1", "R-APPLY-1"]


def test_check_with_workers_reports_the_same(tmp_path):
    """[PERF-XDIST-1] `refrope check -n 2` (pytest-xdist) reports the same tests with the same outcomes as one
    process, and a bad -n is an error naming it."""
    pytest.importorskip("xdist")
    (tmp_path / "mine.py").write_text(textwrap.dedent("""
        from spec_tests.meta.numpy_backends import correct as _c
        name, dtypes, angle_dtype = "my-numpy", ("float32",), "float32"
        capabilities = {"cos_sin"}
        to_backend, to_numpy, cos_sin = _c.to_backend, _c.to_numpy, _c.cos_sin
    """))
    reports = {}
    for n in ("0", "2"):
        run = _run(tmp_path, "-m", "refrope", "check", "--backend", "./mine.py", "--profile", "dev", "--seed", "1",
                   "-n", n, "--format", "json")
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        reports[n] = {r["test"]: r["outcome"] for r in json.loads(run.stdout)["results"]}
    assert reports["0"] == reports["2"] and "passed" in reports["0"].values()
    bad = _run(tmp_path, "-m", "refrope", "check", "--backend", "./mine.py", "-n", "lots")
    assert bad.returncode == 2 and "-n must be a number of worker processes or 'auto', got 'lots'" in bad.stderr
