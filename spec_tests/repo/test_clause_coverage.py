"""[M-CLAUSE-1] to [M-CLAUSE-3]: spec clauses, the tests that cite them and the oracle's citations agree.

Clauses are defined in docs/spec/*.md as a MyST label line ``(r-apply-1)=`` followed by a paragraph
that starts with ``**[R-APPLY-1]**`` (docs/spec/meta.md). Tests cite them at the start of their
docstrings; the oracle cites them in docstrings and comments. The parsers below are tested on small
synthetic trees first, so that the checks on the real tree can fail.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from spec_tests.paths import REPO_ROOT
from spec_tests.repo.clause_pages import (
    Clause,
    collect_test_citations,
    oracle_citations,
    parse_spec_pages,
    uncited_clauses,
    unknown_citations,
    unknown_families,
)

ROOT = REPO_ROOT


# --- the parsers on synthetic trees -------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def fake_tree(tmp_path: Path) -> Path:
    _write(tmp_path / "docs/spec/a.md", """\
        # Page A

        (x-one-1)=
        **[X-ONE-1]** The first clause **must** hold. It mentions **[X-TWO-1]** in passing.

        ```text
        (x-fenced-1)=
        **[X-FENCED-1]** inside a code fence: not a definition.
        ```

        (x-two-1)=

        **[X-TWO-1]** A blank line between label and paragraph is allowed.

        (x-wrong-1)=
        **[X-BADLABEL-1]** The label does not match.

        **[X-NOLABEL-1]** No label line.

        (bad_id)=
        **[lower-1]** Not an id.
        """)
    _write(tmp_path / "docs/spec/b.md", """\
        # Page B

        (x-one-1)=
        **[X-ONE-1]** Defined a second time.

        (x-three-1)=
        **[X-THREE-1]** Cited only by a helper.
        """)
    _write(tmp_path / "spec_tests/test_fake.py", '''\
        """[X-ONE-1] module docstring."""
        def test_ok():
            """[X-TWO-1] cites a defined clause."""
        def test_unknown():
            """[NOPE-1] cites an undefined clause, and [X-ONE-1]."""
        def test_no_citation():
            """Says nothing about the spec."""
        class TestGroup:
            def test_method(self):
                """[X-TWO-1] in a class."""
            def helper(self):
                """[NOPE-2] helpers are checked for unknown ids too."""
        ''')
    _write(tmp_path / "spec_tests/helpers.py", '''\
        def make():
            """[X-THREE-1] a helper citation does not count as a test."""
        ''')
    _write(tmp_path / "refrope/mod.py", '''\
        """Spec: [X-ONE-1], families [X-ONE-*] and [NOPE-*]."""
        def f():
            # see [NOPE-3]
            return "[NOPE-4] in a string literal is neither a docstring nor a comment"
        ''')
    return tmp_path


def test_parser_finds_definitions_and_their_problems(fake_tree):
    """[M-CLAUSE-1] The page parser keeps labelled definitions and reports bad labels, ids and duplicates."""
    clauses, problems = parse_spec_pages(fake_tree / "docs/spec")
    assert set(clauses) == {"X-ONE-1", "X-TWO-1", "X-THREE-1"}
    assert clauses["X-ONE-1"] == Clause("X-ONE-1", "a.md", 4)
    text = "\n".join(problems)
    assert "X-ONE-1 defined twice: a.md:4 and b.md:4" in text
    assert "[X-BADLABEL-1] has label (x-wrong-1)=" in text
    assert "[X-NOLABEL-1] has no label line" in text
    assert "malformed clause id [lower-1]" in text
    assert "FENCED" not in text and len(problems) == 4


def test_parser_reports_unknown_citations_and_missing_docstrings(fake_tree):
    """[M-CLAUSE-1] A fake test citing the undefined NOPE-1 is reported with file::test; so is one citing nothing."""
    clauses, _ = parse_spec_pages(fake_tree / "docs/spec")
    citations, undocumented = collect_test_citations(fake_tree)
    assert unknown_citations(citations, clauses) == {
        "spec_tests/test_fake.py::test_unknown": ["NOPE-1"],
        "spec_tests/test_fake.py::TestGroup::helper": ["NOPE-2"],
    }
    assert undocumented == ["spec_tests/test_fake.py::test_no_citation"]


def test_parser_reports_clauses_cited_only_outside_tests(fake_tree):
    """[M-CLAUSE-2] A clause cited only by a helper is uncited; module, function and method docstrings count."""
    clauses, _ = parse_spec_pages(fake_tree / "docs/spec")
    citations, _ = collect_test_citations(fake_tree)
    assert [c.id for c in uncited_clauses(clauses, citations)] == ["X-THREE-1"]
    assert {c.where for c in citations if c.by_test and c.id == "X-TWO-1"} == {
        "spec_tests/test_fake.py::test_ok", "spec_tests/test_fake.py::TestGroup::test_method"}


def test_parser_reads_oracle_docstrings_and_comments_only(fake_tree):
    """[M-CLAUSE-3] Oracle citations come from docstrings and comments; wildcard families must match a clause."""
    clauses, _ = parse_spec_pages(fake_tree / "docs/spec")
    citations, families = oracle_citations(fake_tree / "refrope/mod.py", fake_tree)
    assert unknown_citations(citations, clauses) == {"refrope/mod.py:3": ["NOPE-3"]}
    assert unknown_families(families, clauses) == ["refrope/mod.py:1: [NOPE-*]"]


# --- the real tree ------------------------------------------------------------------------------------

requires_repository = pytest.mark.skipif(
    not (ROOT / "docs" / "spec").is_dir(),
    reason="docs/spec ships with the repository, not with the installed package (refrope check from a wheel)")


@pytest.fixture(scope="module")
def spec() -> dict[str, Clause]:
    return parse_spec_pages(ROOT / "docs/spec")[0]


@requires_repository
def test_clause_definitions_are_well_formed():
    """[M-CLAUSE-1] Every clause in docs/spec has a matching label and a well-formed id defined on one page."""
    clauses, problems = parse_spec_pages(ROOT / "docs/spec")
    assert not problems, "malformed clause definitions in docs/spec:\n" + "\n".join(f"  {p}" for p in problems)
    assert {"M-CLAUSE-1", "M-CLAUSE-2", "M-CLAUSE-3", "M-DOCS-1"} <= set(clauses)


@requires_repository
def test_every_cited_clause_exists(spec):
    """[M-CLAUSE-1] Every clause cited under spec_tests/ is defined; every test's docstring starts with an id."""
    citations, undocumented = collect_test_citations(ROOT)
    unknown = unknown_citations(citations, spec)
    assert not unknown, "tests cite undefined clauses:\n" + "\n".join(
        f"  {where}: {', '.join(ids)}" for where, ids in sorted(unknown.items()))
    assert not undocumented, "tests whose docstring does not start with a [CLAUSE-ID]:\n" + "\n".join(
        f"  {name}" for name in undocumented)


@requires_repository
def test_every_clause_is_cited_by_a_test(spec):
    """[M-CLAUSE-2] Every clause in docs/spec is cited by at least one test (the list is printed for -rA)."""
    citations, _ = collect_test_citations(ROOT)
    uncited = uncited_clauses(spec, citations)
    report = "\n".join(f"  {c.id} ({c.page}:{c.line})" for c in uncited)
    print(f"{len(spec)} clauses, {len(uncited)} cited by no test" + (":\n" + report if uncited else ""))
    assert not uncited, "clauses cited by no test:\n" + report


@requires_repository
def test_every_clause_cited_by_the_oracle_exists(spec):
    """[M-CLAUSE-3] Every clause id and wildcard family in refrope/ docstrings and comments is defined."""
    problems: list[str] = []
    for path in sorted((ROOT / "refrope").rglob("*.py")):
        citations, families = oracle_citations(path, ROOT)
        problems += [f"{where}: {', '.join(ids)}" for where, ids in unknown_citations(citations, spec).items()]
        problems += unknown_families(families, spec)
    assert not problems, "refrope/ cites undefined clauses:\n" + "\n".join(f"  {p}" for p in problems)

