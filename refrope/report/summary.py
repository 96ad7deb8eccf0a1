"""What a run says, computed once for the console, ``report.md`` and ``report.json``.

* :func:`coverage`: how many of the selected tests ran, and the skips grouped by reason;
* :func:`grid`: the compact variant x layout x dtype grid: one row per test function and variant (or attention
  case), one column per layout and dtype (pass / FAIL / skip / xfail), the row's worst error/budget and
  largest absolute error;
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

__all__ = ["coverage", "grid", "clause_table", "failure_groups", "cell_text", "DTYPE_ORDER", "SYMBOLS"]

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


def _row(r: Result) -> tuple[str, str]:
    return r.function.removeprefix("test_"), r.params.get("variant") or r.params.get("case") or ""


def _column(r: Result) -> tuple[str, str]:
    return r.params.get("layout") or "-", r.params.get("dtype") or "-"


def _order(value: str, order) -> tuple:
    return (order.index(value), value) if value in order else (len(order), value)


def _status(c: Counter) -> str:
    if c["failed"] or c["error"]:
        return "FAIL"
    if c["passed"] or c["xpassed"]:
        return "pass"
    return "xfail" if c["xfailed"] else "skip"


def grid(results: list[Result]) -> tuple[list[tuple[str, str]], list[dict]]:
    """``(columns, rows)``: one row per test function and variant (or attention case), one column per (layout,
    dtype) (``"-"``: the test takes no such parameter); each cell holds the outcome counts and ``status``
    (pass / FAIL / skip / xfail), each row its worst error/budget and largest absolute error. Doctests and
    tests without parameters are left out.

    >>> columns, rows = grid([Result("t[float32-yarn-half]", "failed", "test_apply_rope",
    ...     params={"variant": "yarn", "layout": "half", "dtype": "float32"}, ratio=3.5, error=0.25)])
    >>> columns, rows[0]["row"], rows[0]["cells"][("half", "float32")]["status"], rows[0]["worst"]
    ([('half', 'float32')], ('apply_rope', 'yarn'), 'FAIL', 3.5)
    """
    from ..layouts import LAYOUTS

    rows: dict = {}
    for r in results:
        if r.kind != "test" or not r.params:
            continue
        row = rows.setdefault(_row(r), {"row": _row(r), "cells": {}, "worst": None, "abs_error": None})
        row["cells"].setdefault(_column(r), Counter())[r.outcome] += 1
        for key, value in (("worst", r.ratio), ("abs_error", r.error)):
            if value is not None:
                row[key] = max(row[key] or 0.0, float(value))
    columns = sorted({c for row in rows.values() for c in row["cells"]},
                     key=lambda c: (_order(c[0], (*LAYOUTS, "-")), _order(c[1], DTYPE_ORDER)))
    out = []
    for key in sorted(rows):
        row = rows[key]
        row["status"] = _status(sum(row["cells"].values(), Counter()))
        row["cells"] = {c: {"status": _status(counts), **dict(counts)} for c, counts in row["cells"].items()}
        out.append(row)
    return columns, out


SYMBOLS = {"pass": ".", "FAIL": "F", "skip": "s", "xfail": "x"}
"""One character per grid cell on the console, as pytest's progress uses them."""


def cell_text(cell: dict | None, *, short: bool = False) -> str:
    """A grid cell: ``pass``, ``FAIL``, ``skip``, ``xfail`` (``short``: ``.``, ``F``, ``s``, ``x``); blank when no
    test has these parameters.

    >>> cell_text({"status": "FAIL", "failed": 1}), cell_text({"status": "skip"}, short=True), cell_text(None)
    ('FAIL', 's', '')
    """
    if not cell:
        return ""
    return SYMBOLS[cell["status"]] if short else cell["status"]


def clause_table(results: list[Result]) -> dict[str, dict[str, int]]:
    """Outcome counts per clause: a passing, skipped or xfailed test counts under every clause it cites, a
    failing test only under the clause its failure names (else under the first it cites); doctests under
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
