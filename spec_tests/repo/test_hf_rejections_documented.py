"""[H-MODEL-1]: every model type the enumeration rejects is listed, with its reason, in docs/spec/hf_config.md."""

from __future__ import annotations

import re

import pytest

from spec_tests.paths import REPO_ROOT

pytest.importorskip("torch", reason="the model-type enumeration needs torch")
pytest.importorskip("transformers", reason="the model-type enumeration needs transformers")

from spec_tests import hf_enumeration as enum  # noqa: E402


def _documented() -> set[str]:
    text = (REPO_ROOT / "docs" / "spec" / "hf_config.md").read_text("utf-8")
    section = text.split("### Rejected model types", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.MULTILINE))


def test_the_parser_reads_the_table():
    """[H-MODEL-1] The docs table parses to model-type names (the check below can fail)."""
    assert {"glm4v", "glm4_moe"} <= _documented()


def test_every_rejected_model_type_is_documented():
    """[H-MODEL-1] Each text model type from_hf_config rejects appears in the docs' table of rejected model types."""
    text = enum.outcomes([case for case in enum.discover() if case.text])
    rejected = {model for model, kind in enum.by_model_type(text).items() if kind == "rejected"}
    assert rejected, "the enumeration rejected nothing: the docs table should then be emptied"
    assert rejected <= _documented(), sorted(rejected - _documented())
