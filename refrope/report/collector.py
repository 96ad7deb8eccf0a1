"""The pytest plugin of ``refrope check``'s own process: one :class:`Result` per test, progress while it runs.

It reads only what arrives with each test report (``pytest_runtest_logreport``), so it is as correct under
pytest-xdist, where the tests run in worker processes, as without it: the outcome, the skip or xfail reason,
the user properties ``worst_error_over_budget`` and ``worst_abs_error`` of the conformance suite, and
``report.refrope`` (id, clauses, parameters, failure) attached by :mod:`refrope.report.plugin`.
Spec: docs/spec/conformance.md [K-REPORT-1], [K-REPORT-2], [K-CLI-3].
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from .failures import short_message, signature

__all__ = ["Result", "Collector", "result_from_report", "duration_text"]


@dataclass
class Result:
    """One test's outcome: ``passed``, ``failed``, ``error`` (setup or teardown), ``skipped``, ``xfailed``,
    ``xpassed``; its cited ``clauses``; ``failure`` (:func:`~refrope.report.failures.failure_info`)."""

    test: str
    outcome: str
    function: str = ""
    clauses: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)
    duration: float = 0.0
    ratio: float | None = None
    error: float | None = None
    reason: str | None = None
    failure: dict | None = None
    kind: str = "test"

    @property
    def failed_clauses(self) -> tuple[str, ...]:
        """The clauses a failure is counted under: those its conformance failure names, else the first clause
        the test cites, the one it is about (a crash or a plain assertion names none)."""
        named = tuple((self.failure or {}).get("clauses") or ())
        return named or self.clauses[:1]

    @property
    def ran(self) -> bool:
        return self.outcome in ("passed", "failed", "error", "xpassed")


def _reason(report) -> str:
    if hasattr(report, "wasxfail"):
        return str(report.wasxfail or "xfail").removeprefix("reason: ")
    longrepr = report.longrepr
    if isinstance(longrepr, (tuple, list)) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def result_from_report(report) -> Result:
    """The :class:`Result` of one pytest test report (call phase, or a setup that did not pass).

    >>> from types import SimpleNamespace as R
    >>> r = result_from_report(R(nodeid="t.py::f[x]", when="call", outcome="failed", passed=False, skipped=False,
    ...     failed=True, duration=0.5, user_properties=[("worst_error_over_budget", 1176461.75)], longrepr="",
    ...     refrope={"test": "t.py::f[x]", "function": "f", "clauses": ["K-APPLY-1", "K-INPUT-1"], "params": {},
    ...              "failure": {"clauses": ["K-APPLY-1"]}, "kind": "test"}))
    >>> r.outcome, r.ratio, r.failed_clauses
    ('failed', 1176461.75, ('K-APPLY-1',))
    """
    info = getattr(report, "refrope", None) or {}
    outcome = report.outcome
    if hasattr(report, "wasxfail"):
        outcome = "xfailed" if report.skipped else "xpassed"
    elif report.when != "call" and report.failed:
        outcome = "error"
    props = dict(report.user_properties or ())
    result = Result(test=info.get("test", report.nodeid), outcome=outcome,
                    function=info.get("function", report.nodeid.split("::")[-1].split("[")[0]),
                    clauses=tuple(info.get("clauses", ())), params=dict(info.get("params", {})),
                    duration=float(report.duration), kind=info.get("kind", "test"),
                    ratio=props.get("worst_error_over_budget"), error=props.get("worst_abs_error"),
                    failure=info.get("failure"))
    if outcome in ("skipped", "xfailed"):
        result.reason = _reason(report)
    if outcome in ("failed", "error") and result.failure is None:
        text = getattr(report, "longreprtext", "") or str(report.longrepr or "")
        result.failure = {"clauses": [], "kind": "error", "message": text[-4000:], "ratio": None, "error": None,
                          "hint": None, "repro": None, "example": None, "where": [], "groups": 1}
    if result.failure and result.failure.get("ratio") is not None:
        result.ratio = max(result.ratio or 0.0, result.failure["ratio"])
    return result


def duration_text(seconds: float) -> str:
    """``"2 min 49 s"``, ``"12 s"``, ``"1 h 3 min"``.

    >>> duration_text(169), duration_text(12.4), duration_text(3790)
    ('2 min 49 s', '12 s', '1 h 3 min')
    """
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


class Collector:
    """Collects a :class:`Result` per test and prints progress, the estimate and each new kind of failure.

    ``estimate(nodeids) -> seconds`` (optional) gives the run-time estimate printed before the first test;
    ``out`` is where progress goes (stdout, or stderr when the report itself is printed as JSON).
    """

    def __init__(self, *, estimate: Callable[[list[str]], float] | None = None, out=None,
                 progress_every: float = 15.0) -> None:
        self.results: list[Result] = []
        self.selected: int | None = None
        self.deselected = 0
        self.unmatched: dict[str, list[str]] = {}
        self.collection_errors: list[str] = []
        self.stopped_early = False
        self._estimate, self._out, self._every = estimate, out, progress_every
        self._start = self._last = time.monotonic()
        self._signatures: set = set()
        self._next_percent = 10

    @property
    def out(self):
        return self._out or sys.stdout

    def write(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def _collected(self, nodeids: list[str], workers: int = 1) -> None:
        if self.selected is not None:
            return
        self.selected = len(nodeids)
        self._start = self._last = time.monotonic()
        line = f"refrope check: {len(nodeids)} tests selected"
        if self._estimate is not None and nodeids:
            seconds = self._estimate(nodeids) / max(workers, 1)
            line += f"; estimated run time about {duration_text(seconds)} (from the pre-flight timing; rough)"
        self.write(line)

    def pytest_collection_finish(self, session) -> None:
        self._collected([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        workers = getattr(getattr(node, "config", None), "option", None)
        self._collected(list(ids), int(getattr(workers, "numprocesses", 1) or 1))

    def pytest_deselected(self, items) -> None:
        self.deselected += len(items)

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {getattr(report, 'longreprtext', '')[-2000:]}")

    def pytest_runtest_logreport(self, report) -> None:
        if not (report.when == "call" or (report.when == "setup" and not report.passed)
                or (report.when == "teardown" and report.failed)):
            return
        result = result_from_report(report)
        if report.when == "teardown" and self.results and self.results[-1].test == result.test:
            self.results[-1] = result  # a teardown error turns the test into an error
        else:
            self.results.append(result)
        if result.outcome in ("failed", "error"):
            self._announce(result)
        self._progress()

    def _announce(self, result: Result) -> None:
        key = signature(result.function, result.failure or {})
        if key in self._signatures:
            return
        self._signatures.add(key)
        clauses = ", ".join(result.failed_clauses) or "no clause"
        message = (result.failure or {}).get("message", "")
        message = message.split("] ", 1)[1] if message.startswith(f"[{clauses}] ") else message
        self.write(f"  FAILED {result.test} [{clauses}]: {short_message(message)}")
        if (result.failure or {}).get("hint"):
            self.write(f"         likely cause: {result.failure['hint']}")

    def _progress(self) -> None:
        done, total, now = len(self.results), self.selected or 0, time.monotonic()
        percent = 100 * done // total if total else 0
        if done < total and (now - self._last < self._every and percent < self._next_percent
                             or now - self._last < 2.0):
            return
        while self._next_percent <= percent:
            self._next_percent += 10
        self._last = now
        elapsed = now - self._start
        failed = sum(r.outcome in ("failed", "error") for r in self.results)
        skipped = sum(r.outcome in ("skipped", "xfailed") for r in self.results)
        left = f", about {duration_text(elapsed / done * (total - done))} left" if 0 < done < total else ""
        self.write(f"  [{percent:3d}%] {done}/{total} tests: {done - failed - skipped} passed, {failed} failed, "
                   f"{skipped} skipped; {duration_text(elapsed)} elapsed{left}")

    def pytest_sessionfinish(self, session) -> None:
        self.unmatched = dict(getattr(session.config, "refrope_unmatched", {}) or {})
        stopped = session.shouldfail or session.shouldstop  # --maxfail sets shouldfail
        self.stopped_early = bool(stopped) and len(self.results) < (self.selected or 0)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start
