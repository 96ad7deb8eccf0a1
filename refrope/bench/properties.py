"""Examples per second of the suite's main properties (hypothesis), measured by running them with pytest.

Each property test runs in one pytest process (the ``ci`` profile: 40 examples, derandomized) writing JUnit XML,
in which hypothesis records per test the examples it ran and the time of its generate phase; examples per second
is the passing examples over that time.
Spec: docs/spec/performance.md [PERF-BENCH-1].
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

__all__ = ["MAIN", "QUICK_MAIN", "examples_per_second", "parse_statistics"]

MAIN = ("spec_tests.test_rotary_properties", "spec_tests.test_attention_properties", "spec_tests.test_frequencies",
        "spec_tests.conformance.test_conformance_rope", "spec_tests.conformance.test_conformance_attention")
"""The modules of the main properties: rotation, attention, frequencies, and the conformance checks of both."""
QUICK_MAIN = ("spec_tests.test_rotary_properties",)

_PREFIX = "hypothesis-statistics-"


def parse_statistics(text: str) -> tuple[int, float] | None:
    """``(passing examples, seconds of the generate phase)`` from hypothesis' statistics text.

    >>> parse_statistics("- during generate phase (0.21 seconds):\\n  - 25 passing examples, 0 failing examples")
    (25, 0.21)
    """
    phase = re.search(r"during generate phase \(([\d.]+) seconds\)", text)
    count = re.search(r"(\d+) passing examples", text)
    if not phase or not count:
        return None
    return int(count[1]), float(phase[1])


def examples_per_second(modules: tuple[str, ...] = MAIN, timeout: float = 1200) -> list[dict]:
    """One row per property test: ``{"test", "examples", "seconds", "per_second"}`` (slowest rate first)."""
    with tempfile.TemporaryDirectory(prefix="refrope-bench-") as tmp:
        xml = Path(tmp) / "junit.xml"
        env = dict(os.environ, HYPOTHESIS_PROFILE="ci")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:benchmark",
                   "--pyargs", *modules, f"--junitxml={xml}", "-o", "addopts=", "-W", "ignore::DeprecationWarning"]
        import importlib.util  # run from the folder holding the suite (ids read spec_tests/test_x.py::test)

        spec = importlib.util.find_spec("spec_tests")
        if spec is None or not spec.origin:
            return []
        home = Path(spec.origin).resolve().parent.parent
        subprocess.run(command, cwd=home, env=env, capture_output=True, text=True, timeout=timeout)
        if not xml.is_file():
            return []
        root = ET.parse(xml).getroot()
    rows = []
    for prop in root.iter("property"):
        name = prop.get("name", "")
        if not name.startswith(_PREFIX):
            continue
        parsed = parse_statistics(base64.b64decode(prop.get("value", "")).decode("utf-8", "replace"))
        if parsed and parsed[1] > 0:
            rows.append({"test": name[len(_PREFIX):], "examples": parsed[0], "seconds": parsed[1],
                         "per_second": round(parsed[0] / parsed[1], 1)})
    return sorted(rows, key=lambda r: r["per_second"])
