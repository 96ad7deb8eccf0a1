"""[GV-FILES-1] The JSON schemas that ship with refrope (refrope/vectors/schema, what `refrope vectors export`
writes) are the ones the documentation shows (docs/vectors/schema) and the committed vectors carry."""

from __future__ import annotations

from refrope.vectors.schemas import schema_files
from spec_tests.paths import REPO_ROOT, SUITE


def test_packaged_schemas_are_the_documented_ones():
    """[GV-FILES-1] Byte for byte, the same schemas in the package, in docs/vectors/schema and in
    spec_tests/vectors/schema, one per kind of document the vectors hold."""
    def folder(path):
        return {f"schema/{p.name}": p.read_bytes() for p in sorted(path.glob("*.schema.json"))}

    packaged = schema_files()
    kinds = {"index", "RopeApplyTest", "AttentionTest", "RopeNdTest", "XposTest", "DualChunkTest"}
    assert set(packaged) == {f"schema/{kind}.schema.json" for kind in kinds}
    assert packaged == folder(REPO_ROOT / "docs" / "vectors" / "schema") == folder(SUITE / "vectors" / "schema")
