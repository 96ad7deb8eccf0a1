"""The id of a test in skip and xfail files: its node id from ``spec_tests/`` on, wherever the suite is installed.

Spec: docs/spec/conformance.md [K-FILES-1].
"""

from __future__ import annotations

__all__ = ["normalized_id"]


def normalized_id(nodeid: str, path=None) -> str:
    """The id used by skip/xfail files: the test's file from ``spec_tests/`` on, then ``::`` and the rest of
    its node id (wherever the suite is installed and whatever pytest's rootdir).

    >>> from pathlib import Path
    >>> normalized_id("test_x.py::test_a[float32]", Path("/venv/lib/site-packages/spec_tests/conformance/test_x.py"))
    'conformance/test_x.py::test_a[float32]'
    """
    _, sep, rest = nodeid.partition("::")
    parts = list(getattr(path, "parts", None) or nodeid.partition("::")[0].split("/"))
    if "spec_tests" in parts:
        parts = parts[len(parts) - parts[::-1].index("spec_tests"):]
    return "/".join(parts) + sep + rest
