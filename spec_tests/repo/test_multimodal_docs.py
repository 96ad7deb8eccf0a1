"""[MM-ENG-1] [MM-VIS-1] [K-MUT-1]: the multimodal pages list every registry entry (repository only: docs/)."""

from __future__ import annotations

import re

import pytest

from refrope.multimodal import ENGINE_TABLES, VISION_KINDS
from spec_tests.paths import REPO_ROOT

DOCS = None if REPO_ROOT is None else REPO_ROOT / "docs"
pytestmark = pytest.mark.skipif(DOCS is None or not (DOCS / "families").is_dir(),
                                reason="docs/ ships with the repository, not the wheel")


def test_every_engine_table_is_on_the_mrope_page():
    """[MM-ENG-1] Each ENGINE_TABLES entry has a row in the table of docs/families/mrope.md, and each row names one."""
    page = (DOCS / "families" / "mrope.md").read_text(encoding="utf-8")
    rows = [re.findall(r"`(\w+)`", line.split("|")[1]) for line in page.splitlines()
            if line.startswith("| `") and line.count("|") == 4]
    assert sorted(name for row in rows for name in row) == sorted(ENGINE_TABLES)


def test_every_vision_tower_is_on_the_vision_page_and_the_spec():
    """[MM-VIS-1] Each VISION_KINDS entry has a row on docs/families/vision.md and its clause on the spec page."""
    page = (DOCS / "families" / "vision.md").read_text(encoding="utf-8")
    spec = (DOCS / "spec" / "multimodal.md").read_text(encoding="utf-8")
    for name, kind in VISION_KINDS.items():
        assert f"| `{name}` |" in page
        assert f"**[{kind.clause}]**" in spec and f'vision_rope("{name}"' in spec
