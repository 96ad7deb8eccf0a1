"""A pytest plugin that records each test's outcome, the clauses its docstring cites, and its report cell.

Spec: docs/spec/conformance.md [K-REPORT-1].
"""

from __future__ import annotations

from collections import defaultdict

from .clauses import cited_clauses

__all__ = ["Collector", "summarize", "cell_table"]


class Collector:
    """A pytest plugin that records each test's outcome and the clauses its docstring cites."""

    def __init__(self) -> None:
        self.results: list[tuple[str, str, tuple[str, ...], float]] = []
        self.cells: dict[str, tuple[str, str, float | None]] = {}  # nodeid -> (variant, dtype, worst ratio)

    def pytest_runtest_logreport(self, report) -> None:  # pragma: no cover - exercised through pytest
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
            outcome = "xpassed" if hasattr(report, "wasxfail") and report.passed else outcome
            self.results.append((report.nodeid, outcome, self._clauses.get(report.nodeid, ()), report.duration))
            ratio = dict(report.user_properties).get("worst_error_over_budget")
            variant, dtype, _ = self.cells.get(report.nodeid, ("-", "-", None))
            self.cells[report.nodeid] = (variant, dtype, ratio)

    def pytest_collection_modifyitems(self, items) -> None:  # pragma: no cover
        self._clauses = {}
        for item in items:
            doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
            self._clauses[item.nodeid] = cited_clauses(doc)
            params = getattr(getattr(item, "callspec", None), "params", {})
            variant = "/".join(str(params[k]) for k in ("variant", "case", "layout") if k in params) or "-"
            self.cells[item.nodeid] = (variant, str(params.get("dtype", "-")), None)

    def pytest_collection_finish(self, session) -> None:  # pragma: no cover
        print(f"refrope check: {len(session.items)} tests collected; progress below (. pass, s skip, x xfail, F fail)",
              flush=True)


def summarize(results) -> dict[str, dict[str, int]]:
    """Outcome counts per clause (tests citing no clause are grouped under ``(none)``).

    >>> summarize([("t1", "passed", ("F-YARN-1",), 0.1), ("t2", "failed", ("F-YARN-1", "R-APPLY-1"), 0.2)])
    {'F-YARN-1': {'passed': 1, 'failed': 1}, 'R-APPLY-1': {'failed': 1}}
    """
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _, outcome, clauses, _ in results:
        for clause in clauses or ("(none)",):
            table[clause][outcome] += 1
    return {c: dict(v) for c, v in sorted(table.items())}


def cell_table(results, cells) -> dict[tuple[str, str, str], dict]:
    """Outcome counts and the worst error/budget per (clause, variant, dtype).

    >>> cell_table([("t", "passed", ("K-APPLY-1",), 0.1)], {"t": ("yarn/half", "float32", 0.25)})
    {('K-APPLY-1', 'yarn/half', 'float32'): {'passed': 1, 'worst': 0.25}}
    """
    table: dict = {}
    for nodeid, outcome, clauses, _ in results:
        variant, dtype, ratio = cells.get(nodeid, ("-", "-", None))
        for clause in clauses or ("(none)",):
            cell = table.setdefault((clause, variant, dtype), {})
            cell[outcome] = cell.get(outcome, 0) + 1
            if ratio is not None:
                cell["worst"] = max(cell.get("worst", 0.0), float(ratio))
    return dict(sorted(table.items()))
