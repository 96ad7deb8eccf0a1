"""[M-DOCS-1]: the documentation, spec pages included, builds without a warning (from a private copy of the
sources: the build writes nothing into the repository, [PERF-XDIST-1])."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from spec_tests.paths import REPO_ROOT
from spec_tests.repo.docs_copy import docs_copy

ROOT = REPO_ROOT
MISSING = [name for name in ("sphinx", "myst_parser", "furo") if importlib.util.find_spec(name) is None]


@pytest.mark.skipif(bool(MISSING),
                    reason=f"docs toolchain not installed: {', '.join(MISSING)} (pip install -e '.[docs]')")
def test_docs_build_without_warnings(tmp_path):
    """[M-DOCS-1] sphinx -W --keep-going -n -b html exits 0 and prints no WARNING or ERROR line."""
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-b", "html",
               "-d", str(tmp_path / "doctrees"), str(docs_copy(tmp_path)), str(tmp_path / "html")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    problems = [line for line in output.splitlines() if "WARNING" in line or "ERROR" in line]
    assert result.returncode == 0 and not problems, (
        f"{' '.join(command)} exited {result.returncode}:\n" + "\n".join(problems or output.splitlines()[-30:]))
    assert (tmp_path / "html" / "spec" / "frequencies.html").is_file()
