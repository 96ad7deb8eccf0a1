"""Fixtures of the conformance suite: the backend under test, and ``dtype`` parametrized over its dtypes.

The backend is loaded once per session by spec_tests/conftest.py (``--backend``, ``--device``,
``REFROPE_BACKEND``); a test that needs a capability the backend lacks is skipped with a reason naming
it ([K-SKIP-1]).
"""

from __future__ import annotations

import os

import pytest

from refrope.backends import supports


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
    """``record(ratio)``: keep the worst error/budget of the running test (reported as a user property)."""
    def _record(ratio: float) -> None:
        current = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        _WORST[current] = max(_WORST.get(current, 0.0), float(ratio))
    return _record


_WORST: dict[str, float] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "call" and item.nodeid in _WORST:
        entry = ("worst_error_over_budget", _WORST.pop(item.nodeid))
        item.user_properties.append(entry)  # copied into the teardown report (junit reads that one)
        report = outcome.get_result()
        if entry not in report.user_properties:
            report.user_properties.append(entry)
