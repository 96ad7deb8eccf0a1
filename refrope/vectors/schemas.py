"""The JSON schemas the vector documents reference (``"schema": "schema/RopeApplyTest.schema.json"``).

They are package data (copies of docs/vectors/schema, kept identical by a repository test), so that
``refrope vectors export DIR`` from an installed refrope writes ``DIR/schema/`` beside the documents and
a validator finds what each document names. Spec: docs/spec/vectors.md [GV-FILES-1].
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SCHEMA_DIR", "schema_files"]

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"


def schema_files() -> dict[str, bytes]:
    """The schemas by path relative to an export directory.

    >>> sorted(schema_files())  # doctest: +NORMALIZE_WHITESPACE
    ['schema/AttentionTest.schema.json', 'schema/DualChunkTest.schema.json', 'schema/RopeApplyTest.schema.json',
     'schema/RopeNdTest.schema.json', 'schema/XposTest.schema.json', 'schema/index.schema.json']
    """
    return {f"schema/{p.name}": p.read_bytes() for p in sorted(SCHEMA_DIR.glob("*.schema.json"))}
