"""Fixtures of the conformance suite: the backend under test, and ``dtype`` parametrized over its dtypes.

The backend is loaded once per session by spec_tests/conftest.py (``--backend``, ``--device``,
``REFROPE_BACKEND``); a test that needs a capability the backend lacks is skipped with a reason naming
it ([K-SKIP-1]). Hypothesis shrinks a failure for a bounded time only ([K-SHRINK-1], :mod:`refrope.report.shrinking`).
"""

from __future__ import annotations

import os
import time

import pytest

from refrope.backends import supports
from refrope.report import shrinking
from refrope.report.failures import worst_ratio


def pytest_generate_tests(metafunc):
    if "dtype" in metafunc.fixturenames:
        metafunc.parametrize("dtype", metafunc.config.refrope_backend.dtypes)


@pytest.fixture(scope="session")
def backend(request):
    """The backend under test (a validated :class:`refrope.backends.Backend`)."""
    return request.config.refrope_backend


@pytest.fixture(scope="session")
def require(backend):
    """``require(function, **features)``: skip the test unless the backend supports it."""
    def _require(function, **features):
        reason = supports(backend, function, **features)
        if reason:
            pytest.skip(reason)
    return _require


@pytest.fixture(scope="session")
def record():
    """``record(ratio)``: keep the worst error/budget of the running test, and its largest absolute error when
    ``ratio`` carries one (``Ratio.error``); both are reported as user properties."""
    def _record(ratio: float) -> None:
        current = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        worst, error = _WORST.get(current, (0.0, None))
        value = getattr(ratio, "error", None)
        _WORST[current] = (max(worst, float(ratio)), error if value is None else max(error or 0.0, float(value)))
    return _record


_WORST: dict[str, tuple[float, float | None]] = {}


def _skip_reason_only(report, exc) -> None:
    """A skip raised in an explicit example carries hypothesis' note with the example (the whole backend object):
    the reason is the skip's own message ([K-SKIP-1])."""
    if report.skipped and isinstance(exc, pytest.skip.Exception) and getattr(exc, "__notes__", None) \
            and isinstance(report.longrepr, tuple):
        report.longrepr = (*report.longrepr[:2], f"Skipped: {exc.msg}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """The worst error/budget of the test: over the examples that passed (``record``) and the failure that ends
    it (``ConformanceFailure.ratio``, e.g. 1.2e6 for a positions + 1 bug), never only the former ([K-REPORT-2])."""
    outcome = yield
    if call.when != "call":
        return
    worst, error = _WORST.pop(item.nodeid, (None, None))
    exc = call.excinfo.value if call.excinfo is not None else None
    _skip_reason_only(outcome.get_result(), exc)
    entries = []
    for name, values in (("worst_error_over_budget", (worst, worst_ratio(exc))),
                         ("worst_abs_error", (error, worst_ratio(exc, "error")))):
        if any(v is not None for v in values):
            entries.append((name, max(v for v in values if v is not None)))
    report = outcome.get_result()
    for entry in entries:
        item.user_properties.append(entry)  # copied into the teardown report (junit reads that one)
        if entry not in report.user_properties:
            report.user_properties.append(entry)


_SHRUNK = {"seconds": 0.0, "tests": 0, "cut": 0}


def _engine():
    try:
        from hypothesis.internal.conjecture import engine
    except ImportError:  # pragma: no cover - a hypothesis without the module: its own five minutes apply
        return None
    return engine if hasattr(engine, "MAX_SHRINKING_SECONDS") else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """[K-SHRINK-1] Hypothesis may shrink this test's failure for ``min(per test, what is left of the total)``
    seconds; a failure's time (up to the per-test limit) counts against the total."""
    engine = _engine()
    if engine is None:
        yield
        return
    per_test, total = shrinking.limits()
    allowed = min(per_test, max(0.0, total - _SHRUNK["seconds"]))
    before, engine.MAX_SHRINKING_SECONDS = engine.MAX_SHRINKING_SECONDS, allowed
    start = time.perf_counter()
    try:
        outcome = yield
    finally:
        engine.MAX_SHRINKING_SECONDS = before
    exc = outcome.excinfo[1] if outcome.excinfo else None
    if exc is not None and not isinstance(exc, (pytest.skip.Exception, pytest.xfail.Exception)):
        spent = time.perf_counter() - start
        _SHRUNK["seconds"] += min(spent, per_test)
        _SHRUNK["tests"] += 1
        if spent >= allowed:
            _SHRUNK["cut"] += 1
            item.add_report_section("call", "refrope", f"the example may not be minimal: {shrinking.describe()}; "
                                    f"this test had {allowed:g} s")


def pytest_terminal_summary(terminalreporter):
    """[K-SHRINK-1] Say how long failures were shrunk, and that the limit held."""
    if _SHRUNK["tests"]:
        terminalreporter.write_line(f"refrope: {_SHRUNK['tests']} failing test(s) took {_SHRUNK['seconds']:.0f} s "
                                    f"counted against the shrinking limit ({_SHRUNK['cut']} cut short); "
                                    f"{shrinking.describe()}")
