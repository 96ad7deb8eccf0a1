"""Where the suite is: the repository checkout it runs from, if any.

An installed suite (``pip install refrope``, then ``refrope check``) has no ``docs/``, ``examples/`` or
committed vectors' sources next to it; the tests that read them live in ``spec_tests/repo`` and are not
installed. Tests elsewhere that can use the repository when it is there ask :data:`REPO_ROOT`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SUITE", "REPO_ROOT", "in_repository"]

SUITE = Path(__file__).resolve().parent
"""The ``spec_tests`` directory."""


def _repository() -> Path | None:
    root = SUITE.parent
    return root if (root / "pyproject.toml").is_file() and (root / "docs" / "spec").is_dir() else None


REPO_ROOT = _repository()
"""The root of the repository checkout the suite runs from, or None for an installed suite."""


def in_repository() -> bool:
    """True when the suite runs from a repository checkout (``docs/`` and ``pyproject.toml`` beside it).

    >>> isinstance(in_repository(), bool)
    True
    """
    return REPO_ROOT is not None
