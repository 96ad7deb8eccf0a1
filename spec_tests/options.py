"""The suite's command-line options, one definition for two ways in (docs/spec/conformance.md, docs/sharding.md).

``--backend`` / ``--device`` choose the backend under test [K-PROTO-2], ``--skips-file`` / ``--xfails-file`` list
test ids to skip or xfail [K-FILES-1], ``--shard I/N`` keeps one deterministic part of the tests [PERF-SHARD-1].
pytest reads an option's value as a test path unless the option is known before the command line is parsed,
and a conftest below the repository root is known only once a test path leads to it: so this module is also a
plugin that ``pyproject.toml`` loads first (``-p spec_tests.options``), which makes ``python -m pytest --shard 1/4``
(no test path) work as ``--shard=1/4`` does. :file:`spec_tests/conftest.py` adds the same options for runs
outside the repository (``refrope check``, ``pytest --pyargs spec_tests``); whichever comes second finds them
there and adds nothing.
"""

from __future__ import annotations

from refrope.report.shard import add_option as add_shard_option

__all__ = ["add_options", "pytest_addoption"]


def add_options(parser) -> None:
    """Add the suite's options to ``parser`` (once: a second call finds ``--backend`` and returns)."""
    group = parser.getgroup("refrope", "refrope conformance")
    if any("--backend" in option.names() for option in group.options):
        return
    group.addoption("--backend", default=None,
                    help="backend under test: a module path or a bundled name (refrope, torch, transformers, "
                         "rotary_embedding_torch, ggml); default $REFROPE_BACKEND, then refrope")
    group.addoption("--device", default=None, help="device for the backend's make_backend (e.g. cpu, cuda)")
    group.addoption("--skips-file", default=None,
                    help="test ids to skip, one per line ('#' starts a comment); default $REFROPE_SKIPS_FILE")
    group.addoption("--xfails-file", default=None,
                    help="test ids to xfail, one per line ('#' starts a comment); default $REFROPE_XFAILS_FILE")
    add_shard_option(group)  # --shard I/N [PERF-SHARD-1]


def pytest_addoption(parser) -> None:
    add_options(parser)
