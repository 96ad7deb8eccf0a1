"""The report of a ``refrope check`` run as one JSON-able dict: what ``report.json`` and ``--format json`` hold,
and what the console summary and ``report.md`` are rendered from.

Spec: docs/spec/conformance.md [K-REPORT-1], [K-REPORT-2], [K-REPORT-3].
"""

from __future__ import annotations

import dataclasses

from .collector import Result
from .summary import clause_table, coverage, failure_groups, grid

__all__ = ["report_data", "verdict", "FORMAT"]

FORMAT = 1
"""The version of the layout of ``report.json`` (bumped when a key changes meaning or goes away)."""


def verdict(cov: dict, *, collection_errors: int = 0, pytest_code: int = 0) -> tuple[str, int]:
    """``(verdict, exit code)``: ``FAILED`` (1) when a test failed or errored or collection broke,
    ``NOTHING EXERCISED`` (1) when no test ran (every one skipped, xfailed or deselected), ``INTERRUPTED`` with
    pytest's code when pytest stopped for another reason (2: interrupted, 3: internal error, 4: usage error),
    else ``PASSED`` (0).

    >>> verdict({"failed": 0, "errors": 0, "ran": 0}), verdict({"failed": 2, "errors": 0, "ran": 60})
    (('NOTHING EXERCISED', 1), ('FAILED', 1))
    >>> verdict({"failed": 0, "errors": 0, "ran": 60}), verdict({"failed": 0, "errors": 0, "ran": 6}, pytest_code=2)
    (('PASSED', 0), ('INTERRUPTED', 2))
    """
    if cov["failed"] or cov["errors"] or collection_errors:
        return "FAILED", 1
    if pytest_code in (2, 3, 4):
        return "INTERRUPTED", pytest_code
    if not cov["ran"]:
        return "NOTHING EXERCISED", 1
    return "PASSED", 0


def _failure(group: dict) -> dict:
    first: Result = group["first"]
    f = first.failure or {}
    return {"clauses": list(group["clauses"]), "function": group["function"], "count": len(group["tests"]),
            "tests": group["tests"], "hint": group["hint"], "worst_error_over_budget": group["worst"],
            "first": {"test": first.test, "kind": f.get("kind"), "message": f.get("message"),
                      "worst_error_over_budget": first.ratio, "worst_abs_error": first.error,
                      "repro": f.get("repro"), "example": f.get("example"), "where": f.get("where", [])}}


def report_data(results: list[Result], *, header: list[str], selected: int | None = None, deselected: int = 0,
                duration: float = 0.0, unmatched: dict | None = None, stopped_early: bool = False,
                collection_errors: list[str] = (), pytest_code: int = 0, filters: dict | None = None) -> dict:
    """Everything the run says: header, verdict and exit code, coverage, the grid, the failure groups, the
    per-clause counts, unmatched skip/xfail ids, and every test's :class:`~refrope.report.collector.Result`.

    >>> d = report_data([Result("a", "skipped", reason="no apply_rope")], header=["backend: x"], selected=1)
    >>> d["verdict"], d["exit_code"], d["coverage"]["skipped_by_reason"]
    ('NOTHING EXERCISED', 1, [('no apply_rope', 1)])
    """
    cov = coverage(results, selected)
    name, code = verdict(cov, collection_errors=len(collection_errors), pytest_code=pytest_code)
    columns, rows = grid(results)
    return {"format": FORMAT, "header": list(header), "verdict": name, "exit_code": code,
            "pytest_exit_code": pytest_code, "duration_s": round(duration, 1), "filters": dict(filters or {}),
            "deselected": deselected,
            "stopped_early": stopped_early, "collection_errors": list(collection_errors), "coverage": cov,
            "grid": {"columns": [list(c) for c in columns],
                     "rows": [{"row": list(r["row"]), "status": r["status"], "worst": r["worst"],
                               "abs_error": r["abs_error"], "cells": [r["cells"].get(c) for c in columns]}
                              for r in rows]},
            "failures": [_failure(g) for g in failure_groups(results)], "clauses": clause_table(results),
            "unmatched_ids": dict(unmatched or {}), "results": [dataclasses.asdict(r) for r in results]}
