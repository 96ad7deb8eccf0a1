"""[M-DOCS-3]: the examples on the documentation pages run and print what the pages show.

Each page of the overview, the families and the tutorials is run with :func:`doctest.testfile`
(every ``>>>`` line, in order, sharing one namespace per page), in a temporary working directory
that first receives the page's captioned Python files (the adapter of the "validate your kernel"
tutorial), because pages import those files. The output the golden-vector tutorial shows for the
C checker ``examples/c/rope_check.c`` is compared with what the checker prints.
"""

from __future__ import annotations

import doctest
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spec_tests.paths import REPO_ROOT

ROOT = REPO_ROOT
DOCS = ROOT / "docs"
PAGES = sorted([DOCS / "overview.md", *(DOCS / "families").glob("*.md"), *(DOCS / "tutorials").glob("*.md")])
PAGES = [p for p in PAGES if p.is_file()]
CC = shutil.which("cc") or shutil.which("gcc")
TEXT_BLOCK = re.compile(r"^```text\n(.*?)^```", re.S | re.M)
FILE_BLOCK = re.compile(r"^```\{code-block\} python\n:caption: (\w+\.py)\n\n(.*?)^```", re.S | re.M)


def _write_file_blocks(page: Path, folder: Path) -> list[str]:
    """Write the page's captioned Python files (e.g. ``my_rope_adapter.py``) into ``folder``; their module names."""
    names = []
    for filename, body in FILE_BLOCK.findall(page.read_text(encoding="utf-8")):
        (folder / filename).write_text(body, encoding="utf-8")
        names.append(filename[:-3])
    return names


def _run_page(page: Path) -> doctest.TestResults:
    return doctest.testfile(str(page), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE,
                            raise_on_error=False, verbose=False)


@pytest.mark.skipif(not PAGES, reason="the docs sources are not in this installation")
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_examples_run(page, tmp_path, monkeypatch, capsys):
    """[M-DOCS-3] every >>> example of the page prints exactly the output shown."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # a page may put its folder on sys.path
    modules = _write_file_blocks(page, tmp_path)
    try:
        result = _run_page(page)
    finally:
        for name in modules:
            sys.modules.pop(name, None)
    report = capsys.readouterr().out
    assert result.failed == 0, report


def test_pages_have_examples():
    """[M-DOCS-3] the overview, every family page but the index, and every tutorial but the index have examples."""
    if not PAGES:
        pytest.skip("the docs sources are not in this installation")
    without = [p.relative_to(DOCS).as_posix() for p in PAGES
               if p.name != "index.md" and ">>> " not in p.read_text(encoding="utf-8")]
    assert without == []


def test_adapter_file_is_extracted(tmp_path):
    """[M-DOCS-3] the captioned adapter file of the kernel tutorial is found and written (its examples need it)."""
    page = DOCS / "tutorials" / "validate_kernel.md"
    if not page.is_file():
        pytest.skip("the docs sources are not in this installation")
    assert _write_file_blocks(page, tmp_path) == ["my_rope_adapter"]
    assert "def apply_rope(" in (tmp_path / "my_rope_adapter.py").read_text()


def test_doctest_catches_a_wrong_output(tmp_path):
    """[M-DOCS-3] the runner used here fails on a page whose shown output is wrong (the check can fail)."""
    page = tmp_path / "wrong.md"
    page.write_text("```python\n>>> 1 + 1\n3\n\n```\n", encoding="utf-8")
    assert _run_page(page).failed == 1


@pytest.mark.skipif(CC is None, reason="no C compiler (cc) installed")
def test_c_checker_prints_what_the_tutorial_shows(tmp_path):
    """[M-DOCS-3] examples/c/rope_check on the committed text vectors prints the lines the golden-vector tutorial
    shows."""
    page = DOCS / "tutorials" / "golden_vectors.md"
    source = ROOT / "examples" / "c" / "rope_check.c"
    vectors = ROOT / "spec_tests" / "vectors" / "rope_apply_v2.txt"
    if not (page.is_file() and source.is_file() and vectors.is_file()):
        pytest.skip("the docs, examples/c or the committed vectors are not in this installation")
    shown = [block for block in TEXT_BLOCK.findall(page.read_text(encoding="utf-8")) if " passed, " in block]
    assert len(shown) == 1, "the tutorial shows the checker's output in one text block"
    build = subprocess.run([CC, "-std=c99", "-O2", "-o", str(tmp_path / "rope_check"), str(source), "-lm"],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    printed = []
    for extra in ([], ["--float"]):
        run = subprocess.run([str(tmp_path / "rope_check"), *extra, str(vectors)], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
        printed.append(run.stdout.strip())
    assert printed == shown[0].strip().splitlines()
