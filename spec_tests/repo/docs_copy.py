"""A private copy of the documentation sources for a test's build.

A Sphinx build writes into its source folder (``docs/_generated``: the variants table and the figures drawn from
the oracle). Each build test copies the sources into its own temporary folder first, so that builds never write
into the repository and two of them (pytest-xdist runs them at the same time) never share a file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from spec_tests.paths import REPO_ROOT

__all__ = ["docs_copy"]


def docs_copy(target: Path) -> Path:
    """Copy ``docs/`` (without ``_build`` and ``_generated``) to ``target/docs``; return that folder."""
    source = REPO_ROOT / "docs"
    out = Path(target) / "docs"
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("_build", "_generated", "__pycache__"))
    return out
