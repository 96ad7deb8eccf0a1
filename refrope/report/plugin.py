"""The pytest plugin of ``refrope check`` that runs where the tests run (``-p refrope.report.plugin``).

pytest-xdist starts its workers with the same command line, so this plugin runs in each of them; the
:class:`~refrope.report.collector.Collector` of the controlling process then only reads what arrives with
every report. It

* deselects the tests whose parametrized ``variant``, ``layout`` or ``dtype`` is not one asked for with
  ``--refrope-variant`` / ``--refrope-layout`` / ``--refrope-dtype`` (exact names: ``yarn`` does not select
  ``dynamic_yarn``; a test without that parameter is deselected) [K-CLI-2], and with
  ``--refrope-no-doctests`` the doctests (of the conformance suite's helpers, which test no backend);
* attaches ``report.refrope`` to every test report: the test's id as skip and xfail files write it, the
  clauses its docstring cites, its parameters, and for a failure :func:`~refrope.report.failures.failure_info`
  (the clause the failure names, message, values, repro, likely cause) [K-REPORT-2].

Spec: docs/spec/conformance.md.
"""

from __future__ import annotations

import pytest

from .clauses import cited_clauses
from .failures import failure_info
from .ids import normalized_id

__all__ = ["FILTERS", "PARAMETERS", "selected", "describe"]

FILTERS = ("variant", "layout", "dtype")
"""The parameters ``refrope check`` filters on (``--variant``, ``--layout``, ``--dtype``)."""
PARAMETERS = ("variant", "layout", "dtype", "case")
"""The parameters a report shows per test (``case``: an attention configuration)."""


def pytest_addoption(parser) -> None:
    group = parser.getgroup("refrope-report", "refrope check (report and filters)")
    group.addoption("--refrope-no-doctests", action="store_true", default=False,
                    help="leave out the doctests (of the conformance suite's helpers): they test no backend")
    for name in FILTERS:
        group.addoption(f"--refrope-{name}", action="append", default=[], metavar=name.upper(),
                        help=f"run only the tests whose parametrized {name} is exactly {name.upper()} (repeatable)")


def selected(params: dict, filters: dict[str, list[str]]) -> bool:
    """Whether a test with these parameters passes the filters: each filter with values needs the parameter,
    equal to one of them (exact match).

    >>> selected({"variant": "dynamic_yarn", "dtype": "float32"}, {"variant": ["yarn"], "dtype": []})
    False
    >>> selected({"variant": "yarn", "dtype": "float32"}, {"variant": ["yarn"]}), selected({}, {"variant": ["yarn"]})
    (True, False)
    """
    return all(key in params and str(params[key]) in values for key, values in filters.items() if values)


def _params(item) -> dict[str, str]:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return {key: str(params[key]) for key in PARAMETERS if key in params}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    filters = {name: config.getoption(f"--refrope-{name}") or [] for name in FILTERS}
    no_doctests = config.getoption("--refrope-no-doctests")
    if not any(filters.values()) and not no_doctests:
        return
    keep = [item for item in items if selected(_params(item), filters)
            and not (no_doctests and type(item).__name__ == "DoctestItem")]
    dropped = [item for item in items if item not in set(keep)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def describe(item, call=None) -> dict:
    """``report.refrope`` of one test phase: ``test`` (its skip/xfail-file id), ``function``, ``clauses`` (cited
    by its docstring), ``params``, and ``failure`` (:func:`~refrope.report.failures.failure_info`) or None."""
    doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
    kind = "doctest" if type(item).__name__ == "DoctestItem" else "test"
    info = {"test": normalized_id(item.nodeid, getattr(item, "path", None)), "kind": kind,
            "function": getattr(item, "originalname", None) or item.name.split("[", 1)[0],
            "clauses": list(cited_clauses(doc)) if kind == "test" else [], "params": _params(item), "failure": None}
    excinfo = getattr(call, "excinfo", None)
    if excinfo is not None and not excinfo.errisinstance((pytest.skip.Exception, pytest.xfail.Exception)):
        info["failure"] = failure_info(excinfo.value)
    return info


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.refrope = describe(item, call if report.failed else None)
