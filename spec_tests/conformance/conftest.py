"""Fixtures of the conformance suite: the backend under test, and ``dtype`` parametrized over its dtypes.

The backend is loaded once per session by spec_tests/conftest.py (``--backend``, ``--device``,
``REFROPE_BACKEND``); a test that needs a capability the backend lacks is skipped with a reason naming
it ([K-SKIP-1]).
"""

from __future__ import annotations

import pytest

from refrope.backend import supports


def pytest_generate_tests(metafunc):
    if "dtype" in metafunc.fixturenames:
        metafunc.parametrize("dtype", metafunc.config.refrope_backend.dtypes)


@pytest.fixture(scope="session")
def backend(request):
    """The backend under test (a validated :class:`refrope.backend.Backend`)."""
    return request.config.refrope_backend


@pytest.fixture(scope="session")
def require(backend):
    """``require(function, **features)``: skip the test unless the backend supports it."""
    def _require(function, **features):
        reason = supports(backend, function, **features)
        if reason:
            pytest.skip(reason)
    return _require
