"""What a run says, computed once for the console, ``report.md`` and ``report.json``.

* :func:`coverage`: how many of the selected tests ran, and the skips grouped by reason;
* :func:`grid`: the compact variant x layout x dtype grid (pass / FAIL / skip, worst error/budget, largest
  absolute error), one row per test function and parameter set, one column per dtype;
* :func:`clause_table`: per clause, the tests that passed, failed (counted under the clause their failure
  names), were skipped or xfailed;
* :func:`failure_groups`: identical failures together (same test function, clause, kind, likely cause and
  message up to its numbers).

Spec: docs/spec/conformance.md [K-REPORT-1], [K-REPORT-2], [K-REPORT-3].
"""

from __future__ import annotations

from collections import Counter, defaultdict

from .collector import Result
from .failures import signature

__all__ = ["coverage", "grid", "clause_table", "failure_groups", "cell_text", "DTYPE_ORDER"]

DTYPE_ORDER = ("float64", "float32", "float16", "bfloat16", "-")


def coverage(results: list[Result], selected: int | None = None) -> dict:
    """Counts of the outcomes, ``ran`` (passed, failed, errors, xpassed), ``selected``, and the skipped and
    xfailed tests grouped by reason (most frequent first).

    >>> c = coverage([Result("a", "passed"), Result("b", "skipped", reason="no cos_sin"),
    ...               Result("c", "skipped", reason="no cos_sin")], 3)
    >>> c["ran"], c["selected"], c["skipped_by_reason"]
    (1, 3, [('no cos_sin', 2)])
    """
    counts = Counter(r.outcome for r in results)
    reasons = Counter(r.reason or "(no reason given)" for r in results if r.outcome == "skipped")
    xfails = Counter(r.reason or "(no reason given)" for r in results if r.outcome == "xfailed")
    return {"selected": selected if selected is not None else len(results), "recorded": len(results),
            "ran": sum(r.ran for r in results), "passed": counts["passed"], "failed": counts["failed"],
            "errors": counts["error"], "skipped": counts["skipped"], "xfailed": counts["xfailed"],
            "xpassed": counts["xpassed"], "skipped_by_reason": reasons.most_common(),
            "xfailed_by_reason": xfails.most_common()}


def _row(r: Result) -> tuple[str, str, str]:
    p = r.params
    return (r.function.removeprefix("test_"), p.get("variant") or p.get("case") or "", p.get("layout") or "")


def grid(results: list[Result]) -> tuple[list[str], list[dict]]:
    """``(dtypes, rows)``: one row per (test function, variant or case, layout) with a cell per dtype
    (``"-"``: the test takes no dtype) holding the outcome counts, the worst error/budget and the largest
    absolute error of the tests in it. Doctests and tests without parameters are left out.

    >>> dtypes, rows = grid([Result("t[float32-yarn-half]", "failed", "test_apply_rope",
    ...     params={"variant": "yarn", "layout": "half", "dtype": "float32"}, ratio=3.5, error=0.25)])
    >>> dtypes, rows[0]["row"], rows[0]["cells"]["float32"]["status"], rows[0]["cells"]["float32"]["worst"]
    (['float32'], ('apply_rope', 'yarn', 'half'), 'FAIL', 3.5)
    """
    cells: dict = defaultdict(dict)
    for r in results:
        if r.kind != "test" or not r.params:
            continue
        cell = cells[_row(r)].setdefault(r.params.get("dtype", "-"), Counter())
        cell[r.outcome] += 1
        for key, value in (("worst", r.ratio), ("error", r.error)):
            if value is not None:
                cell[key] = max(cell.get(key, 0.0), float(value))
    dtypes = sorted({d for row in cells.values() for d in row},
                    key=lambda d: DTYPE_ORDER.index(d) if d in DTYPE_ORDER else len(DTYPE_ORDER))
    rows = []
    for key in sorted(cells):
        row = {}
        for dtype, c in cells[key].items():
            status = ("FAIL" if c["failed"] or c["error"] else "pass" if c["passed"] or c["xpassed"]
                      else "xfail" if c["xfailed"] else "skip")
            row[dtype] = {"status": status, "worst": c.get("worst"), "error": c.get("error"),
                          **{k: c[k] for k in ("passed", "failed", "error", "skipped", "xfailed", "xpassed") if c[k]}}
        rows.append({"row": key, "cells": row})
    return dtypes, rows


def cell_text(cell: dict | None) -> str:
    """A grid cell in a few characters: ``pass 0.21``, ``FAIL 1.2e+06``, ``skip``, ``xfail`` (blank: no test).

    >>> cell_text({"status": "FAIL", "worst": 1176461.75}), cell_text({"status": "skip", "worst": None})
    ('FAIL 1.18e+06', 'skip')
    """
    if not cell:
        return ""
    worst = cell.get("worst")
    return cell["status"] + (f" {worst:.3g}" if worst is not None and cell["status"] in ("pass", "FAIL") else "")


def clause_table(results: list[Result]) -> dict[str, dict[str, int]]:
    """Outcome counts per clause: a passing, skipped or xfailed test counts under every clause it cites, a
    failing test only under the clause its failure names (else under those it cites); doctests under
    ``(doctest)``, tests citing nothing under ``(none)``.

    >>> clause_table([Result("t1", "passed", clauses=("K-APPLY-1", "K-INPUT-1")),
    ...               Result("t2", "failed", clauses=("K-APPLY-1", "K-INPUT-1"), failure={"clauses": ["K-APPLY-1"]})])
    {'K-APPLY-1': {'passed': 1, 'failed': 1}, 'K-INPUT-1': {'passed': 1}}
    """
    table: dict = defaultdict(Counter)
    for r in results:
        outcome = "failed" if r.outcome == "error" else r.outcome
        clauses = r.failed_clauses if outcome == "failed" else r.clauses
        for clause in clauses or (("(doctest)",) if r.kind == "doctest" else ("(none)",)):
            table[clause][outcome] += 1
    return {clause: dict(counts) for clause, counts in sorted(table.items())}


def failure_groups(results: list[Result]) -> list[dict]:
    """The failing tests grouped by :func:`~refrope.report.failures.signature`, largest group first; each group:
    ``clauses``, ``function``, ``hint``, ``tests`` (ids as skip/xfail files write them), ``first`` (the first
    failing :class:`Result`, whose message, values and repro stand for the group) and ``worst``.

    >>> f = {"clauses": ["K-APPLY-1"], "kind": "ConformanceFailure", "hint": None, "message": "x 1.5", "ratio": 2.0}
    >>> g = failure_groups([Result("a", "failed", "test_apply_rope", failure=f),
    ...                     Result("b", "failed", "test_apply_rope", failure={**f, "message": "x 2.5"})])
    >>> len(g), g[0]["tests"], g[0]["clauses"]
    (1, ['a', 'b'], ('K-APPLY-1',))
    """
    groups: dict = {}
    for r in results:
        if r.outcome not in ("failed", "error"):
            continue
        key = signature(r.function, r.failure or {})
        group = groups.setdefault(key, {"clauses": r.failed_clauses, "function": r.function, "tests": [],
                                        "first": r, "hint": (r.failure or {}).get("hint"), "worst": None})
        group["tests"].append(r.test)
        if r.ratio is not None:
            group["worst"] = max(group["worst"] or 0.0, r.ratio)
    return sorted(groups.values(), key=lambda g: -len(g["tests"]))
