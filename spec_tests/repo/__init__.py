"""Tests that only make sense in the repository: the clause coverage of docs/spec, the docs build, its
doctests and rendering, the C and Triton examples, the committed golden vectors being up to date.
This package is not installed with the suite (pyproject.toml excludes it)."""
