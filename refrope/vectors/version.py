"""The format version of the golden-vector files ([GV-VERSION-1], docs/vectors/versioning.md)."""

FORMAT_VERSION = 2
"""Version of the vector files; part of every file name (``rope_apply_v1.json``) and header."""
