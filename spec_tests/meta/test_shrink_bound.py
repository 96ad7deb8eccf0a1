"""[K-SHRINK-1]: a failing backend reports in bounded time: hypothesis shrinks each failure for a limited time,
and the run says so."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from refrope.report import shrinking
from spec_tests.paths import REPO_ROOT

SLOW = "spec_tests.meta.slow_backend:slow_off_by_one"


def test_limits_read_the_environment(monkeypatch):
    """[K-SHRINK-1] The limits default to 10 s per failing test and 60 s in all; the environment changes them; a
    value that is not a finite number of seconds >= 0 is a ValueError naming the variable."""
    monkeypatch.delenv("REFROPE_SHRINK_SECONDS", raising=False)
    monkeypatch.delenv("REFROPE_SHRINK_TOTAL_SECONDS", raising=False)
    assert shrinking.limits() == (10.0, 60.0)
    monkeypatch.setenv("REFROPE_SHRINK_SECONDS", "2.5")
    monkeypatch.setenv("REFROPE_SHRINK_TOTAL_SECONDS", "0")
    assert shrinking.limits() == (2.5, 0.0)
    assert "at most 2.5 s per failing test and 0 s in all" in shrinking.describe()
    for bad in ("soon", "-1", "inf", "nan"):
        monkeypatch.setenv("REFROPE_SHRINK_SECONDS", bad)
        with pytest.raises(ValueError, match="REFROPE_SHRINK_SECONDS"):
            shrinking.limits()


def _run(args, env_extra):
    env = {**os.environ, "CI": "true", "HYPOTHESIS_PROFILE": "ci", **env_extra}
    start = time.monotonic()
    done = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    return done, time.monotonic() - start


@pytest.mark.skipif(REPO_ROOT is None, reason="needs the repository's spec_tests")
def test_a_slow_failing_backend_reports_in_bounded_time():
    """[K-SHRINK-1] Three failing cos_sin tests of a backend whose calls take 0.1 s (unbounded, hypothesis shrinks
    each for up to five minutes) end within seconds under a 1 s per-test and 2 s total limit; the failures are
    reported, the cut ones say their example may not be minimal, and the summary states the limit."""
    done, seconds = _run(["-m", "pytest", "-p", "no:cacheprovider", "-p", "no:benchmark", "-q",
                          "spec_tests/conformance/test_conformance_rope.py", "-k", "test_cos_sin", "--backend", SLOW],
                         {"REFROPE_SHRINK_SECONDS": "1", "REFROPE_SHRINK_TOTAL_SECONDS": "2"})
    assert done.returncode == 1, done.stdout[-2000:]
    assert "3 failed" in done.stdout
    assert "the example may not be minimal" in done.stdout
    assert "counted against the shrinking limit" in done.stdout and "at most 1 s per failing test" in done.stdout
    assert seconds < 60, seconds


@pytest.mark.skipif(REPO_ROOT is None, reason="needs the repository's spec_tests")
def test_refrope_check_states_the_limit_and_ends():
    """[K-SHRINK-1] [K-CLI-3] `refrope check` on the failing backend prints the limit in its header and exits 1 in
    bounded time."""
    done, seconds = _run(["-m", "refrope", "check", "--backend", SLOW, "--layout", "half"],
                         {"REFROPE_SHRINK_SECONDS": "1", "REFROPE_SHRINK_TOTAL_SECONDS": "2"})
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "shrinking: at most 1 s per failing test and 2 s in all" in done.stdout
    assert seconds < 120, seconds
