"""Suite-wide configuration: hypothesis profiles, the report header, and the backend under test.

Options (docs/spec/conformance.md): ``--backend`` / ``--device`` (or ``REFROPE_BACKEND`` / ``REFROPE_DEVICE``)
choose the backend the conformance tests run against [K-PROTO-2]; ``--skips-file`` / ``--xfails-file`` (or
``REFROPE_SKIPS_FILE`` / ``REFROPE_XFAILS_FILE``) list test ids to skip or xfail, and ids matching nothing
are reported at the end [K-FILES-1]. ``--shard I/N`` runs one of N deterministic parts of the tests, chosen by
test id (:mod:`refrope.report.shard`, docs/sharding.md) [PERF-SHARD-1].

Profiles (``HYPOTHESIS_PROFILE`` selects one; default ``ci`` when ``CI`` is set, else ``dev``):

* ``dev``: 25 examples per property, for a fast local loop;
* ``ci``: hypothesis' own CI profile (derandomized, no deadline, no database) with 40 examples;
* ``thorough``: 1,000 examples per property, opt-in heavy fuzzing (``HYPOTHESIS_PROFILE=thorough``).
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from refrope.report.ids import normalized_id  # the suite's id of a test (also imported from here)
from refrope.report.shard import select as select_shard
from spec_tests.options import add_options

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile("ci", parent=settings.get_profile("ci"), max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)


def pytest_report_header(config):
    import refrope

    env = ", ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("REFROPE_"))
    from refrope.report.shrinking import describe

    return [
        f"refrope {refrope.__version__} (numpy {np.__version__}); hypothesis profile={PROFILE} "
        f"(max_examples={settings.get_profile(PROFILE).max_examples}); {describe()}",
        f"REFROPE_* environment: {env or '(none)'}",
        *_backend_header(config),
    ]


# --- the backend under test, skip/xfail files (docs/spec/conformance.md) ------------------------------------

def pytest_addoption(parser):
    add_options(parser)  # spec_tests/options.py; already there when pyproject.toml's "-p spec_tests.options" ran


def _option(config, option: str):
    """A pytest option, else its ``REFROPE_*`` variable (``refrope check`` sets those)."""
    value = config.getoption(option, default=None)
    return value or os.environ.get("REFROPE_" + option.strip("-").replace("-", "_").upper()) or None


def pytest_configure(config):
    import pytest

    from refrope.backends import load_backend

    config.addinivalue_line("markers", "conformance: a backend-vs-oracle test (spec_tests/conformance)")
    try:
        config.refrope_backend = load_backend(_option(config, "--backend"), device=_option(config, "--device"))
    except (ValueError, TypeError) as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.refrope_unmatched = {}


def _backend_header(config) -> list[str]:
    from refrope.report.markdown import backend_header

    return [f"refrope {line}" for line in backend_header(config.refrope_backend)]


def read_id_file(path: str) -> list[tuple[str, str]]:
    """``(id, reason)`` per non-empty line of a skip/xfail file; text after ``#`` is the reason."""
    entries = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            ident, _, reason = line.partition("#")
            if ident.strip():
                entries.append((ident.strip(), reason.strip()))
    return entries


def id_matches(ident: str, test: str) -> bool:
    """An id matches a test id exactly, as a prefix ending at ``::`` or ``[``, or, when it contains ``*``, as a
    pattern in which ``*`` matches any text (and nothing else is special).

    >>> (id_matches("a.py::t", "a.py::t[x]"), id_matches("a.py::t", "a.py::tt"),
    ...  id_matches("a.py::t[f16-*]", "a.py::t[f16-y]"))
    (True, False, True)
    """
    if "*" in ident:
        return re.fullmatch(".*".join(re.escape(part) for part in ident.split("*")), test) is not None
    return test == ident or test.startswith(ident + "::") or test.startswith(ident + "[")


def pytest_collection_modifyitems(config, items):
    import pytest

    for option, make in (("--skips-file", lambda r: pytest.mark.skip(reason=r)),
                         ("--xfails-file", lambda r: pytest.mark.xfail(reason=r, run=False))):
        path = _option(config, option)
        if not path:
            continue
        entries = read_id_file(path)
        used = set()
        for item in items:
            test = normalized_id(item.nodeid, item.path)
            for ident, reason in entries:
                if id_matches(ident, test):
                    item.add_marker(make(f"listed in {path}: {reason or 'no reason given'}"))
                    used.add(ident)
                    break
        config.refrope_unmatched[option] = [ident for ident, _ in entries if ident not in used]
    select_shard(config, items)


def pytest_terminal_summary(terminalreporter, config):
    for option, idents in getattr(config, "refrope_unmatched", {}).items():
        if idents:
            terminalreporter.write_line(f"refrope: {len(idents)} id(s) in {option} {_option(config, option)} "
                                        f"match no collected test: {', '.join(idents)}")


@pytest.fixture(scope="session")
def vector_dir(tmp_path_factory):
    """The committed golden vectors (spec_tests/vectors), or, in an installed suite without them, a fresh export."""
    from refrope import vectors
    from refrope.vectors.files import file_names
    from spec_tests.paths import SUITE

    committed = SUITE / "vectors"
    if (committed / file_names()[-1]).is_file():
        return committed
    out = tmp_path_factory.mktemp("vectors")
    vectors.export(out)
    return out
