"""How long hypothesis may shrink the failures of one run, so that a failing backend reports in bounded time.

Hypothesis shrinks each failing test's input for up to five minutes (``MAX_SHRINKING_SECONDS`` of
``hypothesis.internal.conjecture.engine``, documented there as monkeypatchable); a backend that fails two hundred
tests would take hours. The conformance suite sets that limit before each test
(spec_tests/conformance/conftest.py): at most :func:`limits` ``per_test`` seconds per failing test and
``total`` seconds over a process (each xdist worker is one), after which failures are reported as found,
unshrunk. ``REFROPE_SHRINK_SECONDS`` and ``REFROPE_SHRINK_TOTAL_SECONDS`` change them. Spec:
docs/spec/conformance.md [K-SHRINK-1].
"""

from __future__ import annotations

import os

__all__ = ["PER_TEST_S", "TOTAL_S", "limits", "describe"]

PER_TEST_S = 10.0
TOTAL_S = 60.0


def _seconds(name: str, default: float) -> float:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {text!r}") from None
    if not value >= 0.0 or value == float("inf"):
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {text!r}")
    return value


def limits() -> tuple[float, float]:
    """``(per_test, total)`` seconds of shrinking, from the environment or the defaults.

    >>> limits() == (PER_TEST_S, TOTAL_S) or "REFROPE_SHRINK_SECONDS" in os.environ
    True
    """
    return _seconds("REFROPE_SHRINK_SECONDS", PER_TEST_S), _seconds("REFROPE_SHRINK_TOTAL_SECONDS", TOTAL_S)


def describe() -> str:
    """The bound in one line, for headers and summaries.

    >>> describe().startswith("shrinking: at most")
    True
    """
    per_test, total = limits()
    return (f"shrinking: at most {per_test:g} s per failing test and {total:g} s in all per process, then failures "
            f"are reported unshrunk (REFROPE_SHRINK_SECONDS, REFROPE_SHRINK_TOTAL_SECONDS)")
