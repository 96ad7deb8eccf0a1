"""Parsers of the spec pages and of the clause citations in tests and in the oracle (docs/spec/meta.md).

Clauses are defined in docs/spec/*.md as a MyST label line ``(r-apply-1)=`` followed by a paragraph that
starts with ``**[R-APPLY-1]**``. Tests cite them at the start of their docstrings; the oracle cites them in
docstrings and comments. The clause-id pattern is refrope's (:mod:`refrope.report.clauses`).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from refrope.report.clauses import CITATION, CLAUSE_ID

FAMILY = re.compile(r"\[([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)-\*\]")
LABEL_LINE = re.compile(r"^\(([^()\s]+)\)=\s*$")
DEFINITION = re.compile(r"^\*\*\[([^\]]*)\]\*\*")
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
LEADING_CITATION = re.compile(rf"^\s*\[{CLAUSE_ID}\]")


@dataclass(frozen=True)
class Clause:
    id: str
    page: str
    line: int


@dataclass(frozen=True)
class Citation:
    id: str
    where: str  # "path::object" or "path:line"
    by_test: bool


def parse_spec_pages(spec_dir: Path) -> tuple[dict[str, Clause], list[str]]:
    """Clauses defined in ``spec_dir/*.md`` by id, and the problems found (bad ids, labels, duplicates)."""
    clauses: dict[str, Clause] = {}
    problems: list[str] = []
    for page in sorted(spec_dir.glob("*.md")):
        for clause, problem in _page_definitions(page):
            if problem:
                problems.append(problem)
            elif clause.id in clauses:
                first = clauses[clause.id]
                problems.append(f"{clause.id} defined twice: {first.page}:{first.line} and {clause.page}:{clause.line}")
            else:
                clauses[clause.id] = clause
    return clauses, problems


def _page_definitions(page: Path):
    """Yield ``(clause, problem)`` for every ``**[ID]**`` paragraph opening outside code fences."""
    fence = None
    previous = ""  # last line outside fences; a paragraph opens after a blank line or a label line
    label = None
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        opener = FENCE.match(line)
        if fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence) \
                    and not line.strip()[len(opener.group(1)):].strip():
                fence = None
            continue
        if opener:
            fence, previous, label = opener.group(1), "", None
            continue
        if (m := LABEL_LINE.match(line)) is not None:
            label, previous = m.group(1), line
            continue
        definition = DEFINITION.match(line)
        if definition and (not previous.strip() or LABEL_LINE.match(previous)):
            yield from _check_definition(definition.group(1), label, page, number)
        if line.strip():
            label = None
        previous = line


def _check_definition(clause_id: str, label: str | None, page: Path, number: int):
    where = f"{page.name}:{number}"
    if not re.fullmatch(CLAUSE_ID, clause_id):
        yield None, f"{where}: malformed clause id [{clause_id}] (ids match {CLAUSE_ID})"
    elif label is None:
        yield None, f"{where}: [{clause_id}] has no label line ({clause_id.lower()})= before it"
    elif label != clause_id.lower():
        yield None, f"{where}: [{clause_id}] has label ({label})=, expected ({clause_id.lower()})="
    else:
        yield Clause(clause_id, page.name, number), None


def file_citations(path: Path, root: Path) -> tuple[list[Citation], list[str]]:
    """Citations in the docstrings of one file under spec_tests/, and its test functions without one."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = path.relative_to(root).as_posix()
    test_module = path.name.startswith("test_") or path.name.endswith("_test.py")
    citations = [Citation(c, f"{rel}::<module>", test_module) for c in _cited(ast.get_docstring(tree))]
    undocumented: list[str] = []

    def visit(body, prefix: str, in_test_class: bool, module_level: bool) -> None:
        for node in body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            name, docstring = f"{prefix}{node.name}", ast.get_docstring(node)
            is_class = isinstance(node, ast.ClassDef)
            is_test_class = is_class and node.name.startswith("Test") and module_level
            # pytest collects test* functions of the module and test* methods of its Test* classes
            is_test_function = not is_class and node.name.startswith("test") and (module_level or in_test_class)
            citations.extend(Citation(c, f"{rel}::{name}", test_module and (is_test_class or is_test_function))
                             for c in _cited(docstring))
            if test_module and is_test_function and not LEADING_CITATION.match(docstring or ""):
                undocumented.append(f"{rel}::{name}")
            visit(node.body, f"{name}::", is_test_class, False)

    visit(tree.body, "", False, True)
    return citations, undocumented


def _cited(text: str | None) -> list[str]:
    return CITATION.findall(text or "")


def oracle_citations(path: Path, root: Path) -> tuple[list[Citation], list[tuple[str, str]]]:
    """Clause ids and wildcard families ``[F-YARN-*]`` in the docstrings and comments of one module."""
    source = path.read_text(encoding="utf-8")
    rel = path.relative_to(root).as_posix()
    texts: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        # docstrings of modules, classes and functions, and attribute docstrings: every bare string statement
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            texts.append((node.lineno, node.value.value))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            texts.append((token.start[0], token.string))
    texts.sort()
    citations = [Citation(c, f"{rel}:{line}", False) for line, text in texts for c in _cited(text)]
    families = [(f, f"{rel}:{line}") for line, text in texts for f in FAMILY.findall(text)]
    return citations, families


def unknown_citations(citations: list[Citation], clauses: dict[str, Clause]) -> dict[str, list[str]]:
    """``{where: [unknown ids]}`` for every citation of an undefined clause."""
    unknown: dict[str, list[str]] = {}
    for c in citations:
        if c.id not in clauses:
            unknown.setdefault(c.where, []).append(c.id)
    return unknown


def uncited_clauses(clauses: dict[str, Clause], citations: list[Citation]) -> list[Clause]:
    """Clauses that no test (function, ``Test*`` class or test module docstring) cites."""
    cited = {c.id for c in citations if c.by_test}
    return [clause for cid, clause in sorted(clauses.items()) if cid not in cited]


def unknown_families(families: list[tuple[str, str]], clauses: dict[str, Clause]) -> list[str]:
    return [f"{where}: [{family}-*]" for family, where in families
            if not any(cid.startswith(family + "-") for cid in clauses)]


def collect_test_citations(root: Path) -> tuple[list[Citation], list[str]]:
    citations: list[Citation] = []
    undocumented: list[str] = []
    for path in sorted(p for p in (root / "spec_tests").rglob("*.py") if "__pycache__" not in p.parts):
        found, missing = file_citations(path, root)
        citations += found
        undocumented += missing
    return citations, undocumented

