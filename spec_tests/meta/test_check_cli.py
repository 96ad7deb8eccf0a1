"""[K-CLI-1] [K-CLI-2] [K-CLI-3] [K-REPORT-2] [K-REPORT-3] [K-PROTO-1] [K-PROTO-2]: ``refrope check`` as a kernel
author runs it, end to end, on the float32 NumPy backends of spec_tests/meta/numpy_backends.py (no torch).

Each run is a subprocess from a temporary directory, with this checkout first on ``PYTHONPATH`` (so the
refrope under test is this tree's, not an installed one).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import refrope
from spec_tests.paths import SUITE

ROOT = SUITE.parent
BACKENDS = "spec_tests.meta.numpy_backends"
COS_SIN_ONLY = """
from spec_tests.meta.numpy_backends import correct as _c
name, dtypes, angle_dtype = "my-numpy", ("float32",), "float32"
capabilities = CAPS
to_backend, to_numpy, cos_sin = _c.to_backend, _c.to_numpy, _c.cos_sin
"""


def refrope_cli(cwd: Path, *args: str, timeout: int | None = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFROPE_") and k != "HYPOTHESIS_PROFILE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "refrope", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _adapter(path: Path, caps: str = '{"cos_sin"}') -> Path:
    path.write_text(COS_SIN_ONLY.replace("CAPS", caps))
    return path


def test_version():
    """[K-CLI-3] `refrope --version` prints the version."""
    run = refrope_cli(ROOT, "--version")
    assert (run.returncode, run.stdout.strip()) == (0, f"refrope {refrope.__version__}")


def test_preflight_stops_a_backend_that_cannot_run(tmp_path):
    """[K-CLI-1] A backend whose apply_rope cannot run stops the check before any test, with exit code 2 and one
    line naming the call and the error (here from a path/to/file.py:attribute backend)."""
    (tmp_path / "broken.py").write_text(textwrap.dedent("""
        from spec_tests.meta.numpy_backends import NumpyBackend
        class Broken(NumpyBackend):
            def apply_rope(self, *args, **kwargs):
                raise RuntimeError("CUDA error: no CUDA-capable device is detected\\nmore text")
        backend = Broken("numpy-broken")
    """))
    run = refrope_cli(tmp_path, "check", "--backend", "./broken.py:backend")
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.strip().splitlines() == [
        "refrope check: pre-flight failed: numpy-broken: a tiny apply_rope call at float32 failed: RuntimeError: "
        "CUDA error: no CUDA-capable device is detected"]
    assert "tests selected" not in run.stdout


def test_preflight_on_a_device_that_is_not_there(tmp_path):
    """[K-CLI-1] `--device cuda` on a machine without CUDA exits 2 at once with one line naming the device."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    run = refrope_cli(tmp_path, "check", "--backend", "torch", "--device", "cuda")
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2 and len(lines) == 1, run.stdout + run.stderr
    assert lines[0].startswith("refrope check: pre-flight failed: torch on device 'cuda': ")


def test_backend_from_the_current_directory_and_from_a_file(tmp_path):
    """[K-PROTO-2] [K-CLI-3] [K-REPORT-1] `--backend my_adapter` finds my_adapter.py in the current directory
    without PYTHONPATH, `--backend ../my_adapter.py` from another; a run that exercises something passes, and
    runs the conformance tests without the doctests of their helpers."""
    _adapter(tmp_path / "my_adapter.py")
    run = refrope_cli(tmp_path, "check", "--backend", "my_adapter", "--layout", "half", "--profile", "dev")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "PASSED" in run.stdout and re.search(r"1 of \d+ ran \(1 passed\); \d+ skipped", run.stdout)
    (tmp_path / "elsewhere").mkdir()
    run = refrope_cli(tmp_path / "elsewhere", "check", "--backend", "../my_adapter.py", "--profile", "dev",
                      "--format", "json")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    results = json.loads(run.stdout)["results"]  # the conformance tests only: not the doctests of their helpers
    assert results and all(r["kind"] == "test" and r["test"].startswith("conformance/test_") for r in results)


def test_a_run_that_exercises_nothing_fails(tmp_path):
    """[K-REPORT-3] A backend none of whose tests apply (only cos_sin, filtered to a variant) does not pass: the
    verdict is NOTHING EXERCISED, exit code 1, with the skips grouped by reason."""
    _adapter(tmp_path / "my_adapter.py")
    run = refrope_cli(tmp_path, "check", "--backend", "my_adapter", "--variant", "yarn", "--report", "out")
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    assert "NOTHING EXERCISED" in run.stdout
    assert re.search(r"\n +\d+  my-numpy does not provide 'apply_rope' \(capability missing\)", run.stdout)
    assert "no figure: my-numpy does not provide apply_rope" in run.stdout


def test_unknown_capabilities_are_refused(tmp_path):
    """[K-PROTO-1] A misspelt capability stops the check (exit 2) with the valid ones listed."""
    _adapter(tmp_path / "my_adapter.py", '{"cos_sin", "layout:neox"}')
    run = refrope_cli(tmp_path, "check", "--backend", "my_adapter")
    assert run.returncode == 2
    assert "capabilities 'layout:neox' is not known" in run.stderr and "layout:interleaved" in run.stderr


def test_filters_are_exact_and_checked(tmp_path):
    """[K-CLI-2] [K-CLI-3] `--variant yarn` runs yarn and not dynamic_yarn; `--format json` prints the report as
    JSON on stdout (progress on stderr); unknown names and undeclared dtypes are usage errors listing the
    valid ones."""
    run = refrope_cli(tmp_path, "check", "--backend", f"{BACKENDS}:correct", "--variant", "yarn", "--profile", "dev",
                      "--format", "json")
    assert run.returncode == 0, run.stderr[-3000:]
    data = json.loads(run.stdout)
    variants = {r["params"].get("variant") for r in data["results"]}
    assert variants == {"yarn"} and data["coverage"]["ran"] >= 3 and data["verdict"] == "PASSED"
    assert "tests selected" in run.stderr
    bad = refrope_cli(tmp_path, "check", "--backend", f"{BACKENDS}:correct", "--variant", "yran")
    assert bad.returncode == 2 and "--variant yran: not among the variants: default, " in bad.stderr
    bad = refrope_cli(tmp_path, "check", "--backend", f"{BACKENDS}:correct", "--dtype", "float16")
    assert bad.returncode == 2 and "not among the dtypes numpy-correct declares: float32" in bad.stderr


def _failing_run(tmp_path: Path, name: str, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    run = refrope_cli(tmp_path, "check", "--backend", f"{BACKENDS}:off_by_one", "--variant", "default",
                      "--layout", "half", "--report", name, *extra)
    return run, json.loads((tmp_path / name / "report.json").read_text())


def test_a_failure_is_reported_as_the_run_saw_it_also_under_xdist(tmp_path):
    """[K-REPORT-2] [K-REPORT-3] [K-FILES-1] A positions + 1 bug: exit 1; the failure counted under K-APPLY-1
    only, its worst error/budget (about 1.2e6) in report.json and junit.xml, its likely cause, its id in the form
    --xfails-file reads (which then xfails it), the same through pytest-xdist workers."""
    run, data = _failing_run(tmp_path, "plain")
    assert run.returncode == 1, run.stdout[-3000:]
    assert "likely cause: positions off by one (the backend used p + 1)" in run.stdout
    [group] = data["failures"]
    assert group["clauses"] == ["K-APPLY-1"] and group["worst_error_over_budget"] > 1e5
    assert [c for c, v in data["clauses"].items() if v.get("failed")] == ["K-APPLY-1"]
    junit = (tmp_path / "plain" / "junit.xml").read_text()
    assert float(re.search(r'name="worst_error_over_budget" value="([^"]+)"', junit).group(1)) > 1e5
    report = (tmp_path / "plain" / "report.md").read_text()
    line = ("conformance/test_conformance_rope.py::test_apply_rope[float32-default-half]  # K-APPLY-1: positions "
            "off by one (the backend used p + 1)")
    assert line in report and "b.function('apply_rope')" in report
    (tmp_path / "accepted.txt").write_text(line + "\n")
    again, accepted = _failing_run(tmp_path, "accepted", "--xfails-file", "accepted.txt")
    assert [r["outcome"] for r in accepted["results"]] == ["xfailed"]
    assert importable("xdist"), "pytest-xdist is in the test extra"
    parallel, pdata = _failing_run(tmp_path, "parallel", "--", "-n", "2")
    assert parallel.returncode == 1, parallel.stdout[-3000:]

    def seen(d):
        return sorted((r["test"], r["outcome"], r["clauses"] and tuple((r["failure"] or {}).get("clauses", ())),
                       round(r["ratio"] or 0.0, 3)) for r in d["results"])
    assert seen(pdata) == seen(data)
    assert pdata["coverage"]["selected"] == data["coverage"]["selected"] == 1


def importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_max_failures_stops_early(tmp_path):
    """[K-CLI-3] `--max-failures 1` stops after the first failing test and says so."""
    run = refrope_cli(tmp_path, "check", "--backend", f"{BACKENDS}:off_by_one", "--variant", "default,yarn",
                      "--layout", "half", "--max-failures", "1", "--profile", "dev", "--report", "out")
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert run.returncode == 1 and data["stopped_early"] and data["coverage"]["failed"] == 1
    assert data["coverage"]["recorded"] < data["coverage"]["selected"]
    assert "stopped early" in run.stdout
