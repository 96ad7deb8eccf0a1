"""``refrope report merge``: one report from the reports of the shards of a run (``--shard I/N`` on N machines).

Each input is a JUnit XML file (``pytest --junitxml``, or ``junit.xml`` of ``refrope check --report``) or a
``report.json`` of ``refrope check --report`` (which keeps the clauses, parameters and failure details). The
merge rebuilds one :class:`~refrope.report.collector.Result` per test, refuses a test that appears in two inputs
(overlapping shards), and writes the usual ``report.md``, ``report.json`` and, from the XML inputs, one
``junit.xml``. Its verdict and exit code are those of one run of all the tests.
Spec: docs/spec/performance.md [PERF-MERGE-1].
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from .collector import Result
from .ids import normalized_id

__all__ = ["read_results", "merge", "register"]


def _test_id(case: ET.Element) -> str:
    """``path/to/test_x.py::[Class::]name`` from a JUnit ``testcase`` (its ``file`` attribute, else its dotted
    ``classname``, whose segments from the first ``Test...`` one on are classes)."""
    parts = case.get("classname", "").split(".")
    cut = next((i for i, p in enumerate(parts) if p.startswith("Test")), len(parts))
    path = case.get("file") or "/".join(parts[:cut]) + ".py"
    return normalized_id("::".join([path, *parts[cut:], case.get("name", "")]))


def _from_case(case: ET.Element) -> Result:
    """One :class:`Result` from a JUnit ``testcase`` element.

    >>> r = _from_case(ET.fromstring('<testcase classname="spec_tests.test_x" name="t[a]" time="0.5">'
    ...                              '<skipped type="pytest.skip" message="no torch"/></testcase>'))
    >>> r.test, r.outcome, r.reason
    ('test_x.py::t[a]', 'skipped', 'no torch')
    """
    test = _test_id(case)
    outcome, reason, failure = "passed", None, None
    for child in case:
        if child.tag in ("failure", "error"):
            outcome = "failed" if child.tag == "failure" else "error"
            failure = {"clauses": [], "kind": child.tag, "message": (child.get("message") or child.text or "")[-4000:],
                       "ratio": None, "error": None, "hint": None, "repro": None, "example": None, "where": [],
                       "groups": 1}
        elif child.tag == "skipped":
            outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
            reason = (child.get("message") or "").removeprefix("xfail: ").removeprefix("reason: ")
    name = test.rsplit("::", 1)[-1]
    return Result(test=test, outcome=outcome, function=name.split("[", 1)[0], duration=float(case.get("time") or 0),
                  reason=reason, failure=failure)


def read_results(path: Path) -> tuple[list[Result], list[str], float, ET.Element | None]:
    """``(results, header, duration, XML root or None)`` of one input file."""
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("<"):
        root = ET.fromstring(text)
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        results = [_from_case(case) for suite in suites for case in suite.iter("testcase")]
        return results, [], max((float(s.get("time") or 0) for s in suites), default=0.0), root
    data = json.loads(text)
    if not isinstance(data, dict) or "results" not in data:
        raise ValueError(f"{path}: neither JUnit XML nor a report.json of refrope check (no 'results')")
    fields = set(Result.__dataclass_fields__)
    results = [Result(**{k: (tuple(v) if k == "clauses" else v) for k, v in r.items() if k in fields})
               for r in data["results"]]
    return results, list(data.get("header", [])), float(data.get("duration_s") or 0.0), None


def merge(paths: list[Path]) -> tuple[dict, ET.Element | None]:
    """The report data of all the inputs together, and their merged JUnit XML (None without an XML input)."""
    from .data import report_data

    results: list[Result] = []
    seen: dict[str, Path] = {}
    header: list[str] = []
    duration = 0.0
    merged = ET.Element("testsuites", name="refrope report merge")
    for path in paths:
        part, head, seconds, root = read_results(path)
        for r in part:
            if r.test in seen:
                raise ValueError(f"test {r.test} is in both {seen[r.test]} and {path}: the shards overlap")
            seen[r.test] = path
        results += part
        header = header or head
        duration = max(duration, seconds)
        if root is not None:
            merged.extend([root] if root.tag == "testsuite" else list(root.iter("testsuite")))
    header = [*header, f"merged from {len(paths)} reports: {', '.join(str(p) for p in paths)}"]
    data = report_data(results, header=header, selected=len(results), duration=duration)
    return data, (merged if len(merged) else None)


def _run(args: argparse.Namespace) -> int:
    from .console import summary_lines
    from .markdown import report_markdown

    try:
        data, xml = merge([Path(p) for p in args.files])
    except (OSError, ValueError, ET.ParseError) as exc:
        print(f"refrope report merge: {exc}", file=sys.stderr)
        return 2
    if args.report:
        out = Path(args.report)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.md").write_text(report_markdown(data), encoding="utf-8")
        (out / "report.json").write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
        if xml is not None:
            ET.ElementTree(xml).write(out / "junit.xml", encoding="utf-8", xml_declaration=True)
    if args.format == "json":
        print(json.dumps(data, indent=1, default=str))
    else:
        print("\n".join(summary_lines(data)))
        if args.report:
            print(f"report written to {Path(args.report) / 'report.md'}")
    return data["exit_code"]


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``report merge FILE... [--report DIR] [--format json]`` to the ``refrope`` subcommands.

    >>> parser = argparse.ArgumentParser(prog="refrope")
    >>> _ = register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["report", "merge", "a.xml", "b.xml", "--report", "out"]).files
    ['a.xml', 'b.xml']
    """
    p = subparsers.add_parser("report", help="merge the reports of the shards of a run (docs/sharding.md)")
    sub = p.add_subparsers(dest="report_command", required=True)
    m = sub.add_parser("merge", help="one report from JUnit XML files or report.json files of the shards",
                       description="One report from the shards' JUnit XML (pytest --junitxml) or report.json files.")
    m.add_argument("files", nargs="+", metavar="FILE", help="JUnit XML or report.json of each shard")
    m.add_argument("--report", metavar="DIR", help="write DIR/report.md, report.json and junit.xml")
    m.add_argument("--format", choices=("text", "json"), default="text", help="json: print the report as JSON")
    m.set_defaults(func=_run)
    return p
