"""[K-REPORT-1] [K-REPORT-2] [K-REPORT-3]: what the report of a run says, from pytest reports built here.

Each fake report carries what a real one carries after spec_tests/conformance/conftest.py and
refrope.report.plugin have seen the test: the outcome, user properties, ``report.refrope``. The end-to-end
runs (a real backend, under pytest-xdist too) are in test_check_cli.py.
"""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

from refrope.report.collector import Collector, result_from_report
from refrope.report.console import summary_lines
from refrope.report.data import report_data
from refrope.report.markdown import report_markdown
from refrope.report.plugin import selected

APPLY = "conformance/test_conformance_rope.py::test_apply_rope"
CITED = ["K-APPLY-1", "K-APPLY-2", "K-INPUT-1", "N-ROPE-1", "N-ROPE-2"]


def _report(test, outcome, *, when="call", params=None, props=(), failure=None, longrepr=None, **extra):
    info = {"test": test, "kind": "test", "function": test.split("::")[-1].split("[")[0], "clauses": CITED,
            "params": params or {}, "failure": failure}
    return SimpleNamespace(nodeid=test, when=when, outcome=outcome, passed=outcome == "passed",
                           skipped=outcome == "skipped", failed=outcome == "failed", duration=0.1,
                           user_properties=list(props), longrepr=longrepr, refrope=info, **extra)


def _failure(ratio, message="[K-APPLY-1] apply_rope(np.array([[0.0, 1.0]])): 2 of 2 elements outside the budget"):
    return {"clauses": ["K-APPLY-1"], "kind": "ConformanceFailure", "message": message, "ratio": ratio,
            "error": 0.84, "hint": "positions off by one (the backend used p + 1)",
            "repro": "b = load_backend('x')\nactual = b.function('apply_rope')(x)", "example": None, "where": []}


def _run(reports, selected_count=None):
    collector = Collector(out=io.StringIO())
    collector._collected([r.nodeid for r in reports] if selected_count is None else ["t"] * selected_count)
    for r in reports:
        collector.pytest_runtest_logreport(r)
    return collector


def _params(variant, layout="half", dtype="float32"):
    return {"variant": variant, "layout": layout, "dtype": dtype}


def test_worst_error_over_budget_of_a_failure_is_the_failures():
    """[K-REPORT-2] A failing test's worst error/budget is its failure's (1176461.75 for a positions + 1 bug), not
    the smaller ratios of the examples that passed before it."""
    r = result_from_report(_report(f"{APPLY}[float32-default-half]", "failed", params=_params("default"),
                                   props=[("worst_error_over_budget", 0.55)], failure=_failure(1176461.75)))
    assert r.ratio == 1176461.75
    data = report_data([r], header=[], selected=1)
    assert data["grid"]["rows"][0]["worst"] == 1176461.75
    assert data["failures"][0]["worst_error_over_budget"] == 1176461.75


def test_a_failure_counts_under_the_clause_it_names_only():
    """[K-REPORT-2] A failure that names K-APPLY-1 is counted under K-APPLY-1, not under K-INPUT-1 or K-APPLY-2,
    which its test also cites; a passing test counts under every clause it cites."""
    c = _run([_report(f"{APPLY}[float32-default-half]", "failed", params=_params("default"),
                      failure=_failure(3.0)),
              _report(f"{APPLY}[float32-yarn-half]", "passed", params=_params("yarn"))])
    clauses = report_data(c.results, header=[], selected=2)["clauses"]
    assert clauses["K-APPLY-1"] == {"failed": 1, "passed": 1}
    assert clauses["K-INPUT-1"] == {"passed": 1} and clauses["K-APPLY-2"] == {"passed": 1}
    lines = summary_lines(report_data(c.results, header=[]))
    assert "  FAILED clause K-APPLY-1: 1 failing test(s)" in lines
    assert [line for line in lines if "FAILED clause" in line] == ["  FAILED clause K-APPLY-1: 1 failing test(s)"]
    crash = result_from_report(_report(f"{APPLY}[float32-yarn-half]", "failed", params=_params("yarn"),
                                       failure={**_failure(None), "clauses": [], "kind": "ValueError"}))
    assert crash.failed_clauses == ("K-APPLY-1",)  # a crash names no clause: the test's first one


def test_coverage_groups_skips_by_reason_and_nothing_exercised_fails():
    """[K-REPORT-3] Coverage says how many of the selected tests ran and groups the skips by reason; a run in
    which every test was skipped is NOTHING EXERCISED with exit code 1, never a pass."""
    skip = ("x.py", 1, "Skipped: numpy-x does not provide 'cos_sin' (capability missing)")
    c = _run([_report(f"t.py::test_cos_sin[{i}]", "skipped", when="setup", longrepr=skip) for i in range(3)])
    data = report_data(c.results, header=[], selected=c.selected)
    assert (data["verdict"], data["exit_code"]) == ("NOTHING EXERCISED", 1)
    assert data["coverage"]["skipped_by_reason"] == [("numpy-x does not provide 'cos_sin' (capability missing)", 3)]
    assert summary_lines(data)[0].endswith("0 of 3 ran (none); 3 skipped")
    ran = _run([_report("t.py::test_a", "passed"), _report("t.py::test_b", "skipped", when="setup", longrepr=skip)])
    data = report_data(ran.results, header=[], selected=ran.selected)
    assert (data["verdict"], data["exit_code"]) == ("PASSED", 0)
    assert "1 of 2 ran (1 passed); 1 skipped" in report_markdown(data)


def test_identical_failures_are_one_group_with_xfail_ids_and_a_repro():
    """[K-REPORT-3] [K-FILES-1] The same bug in 9 tests is one group: the first's message, values, likely cause
    and repro, and every id in the form --xfails-file reads; the grid comes before the failures."""
    reports = [_report(f"{APPLY}[float32-{v}-{lay}]", "failed", params=_params(v, lay),
                       failure=_failure(1e6 + i, _failure(0)["message"].replace("0.0", f"{i}.0")))
               for i, (v, lay) in enumerate((v, lay) for v in ("default", "yarn", "llama3")
                                             for lay in ("half", "interleaved", "interleaved_to_half"))]
    data = report_data(_run(reports).results, header=["backend: x"], selected=9)
    assert len(data["failures"]) == 1 and data["failures"][0]["count"] == 9
    text = report_markdown(data)
    assert text.index("## Grid") < text.index("## Failures") < text.index("## By clause")
    assert f"{APPLY}[float32-yarn-interleaved]  # K-APPLY-1: positions off by one (the backend used p + 1)" in text
    assert "b.function('apply_rope')" in text and "Likely cause" in text
    assert len(text.splitlines()) < 120
    json.dumps(data)  # report.json and --format json hold exactly this


def test_xfailed_and_error_outcomes():
    """[K-REPORT-1] An xfail (listed in an xfails file, not run) is counted with its reason and is not a run; an
    error in setup is a failure of the run."""
    xfail = _report("t.py::test_x", "skipped", when="setup", wasxfail="reason: listed in f.txt: a finding")
    err = _report("t.py::test_y", "failed", when="setup", longrepr="E   RuntimeError: device lost")
    err.longreprtext = "E   RuntimeError: device lost"
    data = report_data(_run([xfail, err]).results, header=[], selected=2)
    assert data["coverage"]["xfailed_by_reason"] == [("listed in f.txt: a finding", 1)]
    assert data["coverage"]["errors"] == 1 and data["verdict"] == "FAILED"
    assert "RuntimeError: device lost" in data["failures"][0]["first"]["message"]


def test_filters_match_exactly():
    """[K-CLI-2] A filter keeps a test whose parameter equals one of its values: yarn does not select
    dynamic_yarn, and a test without the parameter is left out."""
    assert selected({"variant": "yarn"}, {"variant": ["yarn"]})
    assert not selected({"variant": "dynamic_yarn"}, {"variant": ["yarn"]})
    assert not selected({"layout": "half"}, {"variant": ["yarn"]})
    assert selected({"variant": "yarn", "dtype": "bfloat16"}, {"variant": ["yarn", "llama3"], "dtype": ["bfloat16"]})


def test_results_come_from_the_report_alone():
    """[K-REPORT-2] Everything the collector records comes with the report (what pytest-xdist sends from a worker):
    a report whose refrope data, properties and longrepr went through JSON gives the same result."""
    report = _report(f"{APPLY}[float32-default-half]", "failed", params=_params("default"),
                     props=[("worst_error_over_budget", 0.5), ("worst_abs_error", 0.25)], failure=_failure(7.0))
    wire = json.loads(json.dumps({"refrope": report.refrope, "user_properties": report.user_properties}))
    copy = SimpleNamespace(**{**vars(report), **wire})
    assert result_from_report(copy) == result_from_report(report)
    assert result_from_report(copy).error == 0.25
