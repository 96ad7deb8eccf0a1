"""The one pattern of a spec clause id and of a citation of it, ``[F-YARN-2]``.

Spec: docs/spec/meta.md [M-CLAUSE-1].
"""

from __future__ import annotations

import re

__all__ = ["CLAUSE_ID", "CITATION", "cited_clauses"]

CLAUSE_ID = r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+"
"""A clause id: upper-case words joined by ``-``, at least two of them (``F-YARN-2``, ``K-MUT-1``)."""
CITATION = re.compile(rf"\[({CLAUSE_ID})\]")
"""A citation of a clause in a docstring or comment: the id in square brackets."""


def cited_clauses(text: str) -> tuple[str, ...]:
    """The clause ids cited in ``text``, in order of first appearance, each once.

    >>> cited_clauses("[F-YARN-2] and [N-ROPE-1], again [F-YARN-2]; not [x]")
    ('F-YARN-2', 'N-ROPE-1')
    """
    return tuple(dict.fromkeys(CITATION.findall(text or "")))
