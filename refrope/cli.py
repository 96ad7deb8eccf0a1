"""``refrope`` command line: run the spec suite and write a readable report.

``refrope check`` runs the installed spec suite (``spec_tests``) with pytest, prints progress and a
per-clause summary, and writes ``report.md`` and ``junit.xml`` into ``--report DIR``. Every test cites the
spec clauses it checks in its docstring (e.g. ``[F-YARN-2]``); the summary groups outcomes by clause.
``refrope variants`` lists the frequency variants and their parameters.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import sys
from collections import defaultdict
from pathlib import Path

CLAUSE = re.compile(r"\[([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\]")
PROFILES = ("dev", "ci", "thorough")


class _Collector:
    """A pytest plugin that records each test's outcome and the clauses its docstring cites."""

    def __init__(self) -> None:
        self.results: list[tuple[str, str, tuple[str, ...], float]] = []

    def pytest_runtest_logreport(self, report) -> None:  # pragma: no cover - exercised through pytest
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
            self.results.append((report.nodeid, outcome, self._clauses.get(report.nodeid, ()), report.duration))

    def pytest_collection_modifyitems(self, items) -> None:  # pragma: no cover
        self._clauses = {}
        for item in items:
            doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
            self._clauses[item.nodeid] = tuple(dict.fromkeys(CLAUSE.findall(doc)))


def summarize(results) -> dict[str, dict[str, int]]:
    """Outcome counts per clause (tests citing no clause are grouped under ``(none)``).

    >>> summarize([("t1", "passed", ("F-YARN-1",), 0.1), ("t2", "failed", ("F-YARN-1", "R-APPLY-1"), 0.2)])
    {'F-YARN-1': {'passed': 1, 'failed': 1}, 'R-APPLY-1': {'failed': 1}}
    """
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _, outcome, clauses, _ in results:
        for clause in clauses or ("(none)",):
            table[clause][outcome] += 1
    return {c: dict(v) for c, v in sorted(table.items())}


def _report_markdown(results, header: list[str], exit_code: int) -> str:
    lines = ["# refrope spec report", "", *[f"- {h}" for h in header], f"- pytest exit code: {exit_code}", ""]
    counts = defaultdict(int)
    for _, outcome, _, _ in results:
        counts[outcome] += 1
    lines += ["## Totals", "", ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no tests ran", ""]
    lines += ["## By clause", "", "| clause | passed | failed | skipped |", "|---|---|---|---|"]
    for clause, c in summarize(results).items():
        lines.append(f"| {clause} | {c.get('passed', 0)} | {c.get('failed', 0)} | {c.get('skipped', 0)} |")
    failed = [r for r in results if r[1] == "failed"]
    if failed:
        lines += ["", "## Failures", ""] + [f"- `{nodeid}` ({', '.join(cl) or 'no clause'})" for nodeid, _, cl, _ in failed]
    return "\n".join(lines) + "\n"


def check(args: argparse.Namespace) -> int:
    """Run the spec suite; return pytest's exit code (5, no tests collected, is turned into 1)."""
    try:
        import pytest
    except ImportError:
        print("refrope check needs pytest and hypothesis: pip install 'refrope[test]'", file=sys.stderr)
        return 2
    import numpy as np

    import refrope

    os.environ["HYPOTHESIS_PROFILE"] = args.profile
    report_dir = Path(args.report) if args.report else None
    pytest_args = ["--pyargs", "spec_tests", "-p", "no:cacheprovider", "-q", "-rfE",
                   "-W", "ignore::DeprecationWarning", *args.pytest_args]
    if report_dir:
        report_dir.mkdir(parents=True, exist_ok=True)
        pytest_args.append(f"--junitxml={report_dir / 'junit.xml'}")
    collector = _Collector()
    code = int(pytest.main(pytest_args, plugins=[collector]))
    header = [f"backend: refrope {refrope.__version__} (the oracle itself)",
              f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}",
              f"hypothesis profile: {args.profile}",
              f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}"]
    table = summarize(collector.results)
    print(f"\nrefrope check: {len(collector.results)} tests over {len(table)} clauses")
    bad = {c: v for c, v in table.items() if v.get("failed")}
    for clause, v in bad.items():
        print(f"  FAILED clause {clause}: {v.get('failed')} failing test(s)")
    if not bad:
        print("  every clause exercised passed" if collector.results else "  no tests ran")
    if report_dir:
        (report_dir / "report.md").write_text(_report_markdown(collector.results, header, code))
        print(f"report written to {report_dir / 'report.md'} and {report_dir / 'junit.xml'}")
    return 1 if code == 5 else code


def variants(args: argparse.Namespace) -> int:
    """Print the registry: each variant, its clause, its parameters with defaults."""
    import refrope

    for name, spec in refrope.VARIANTS.items():
        params = ", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in spec.params)
        print(f"{name:14s} [{spec.clause}] {spec.summary}\n{'':14s} params: {params or '(none)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="refrope", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="run the spec suite and write a report")
    p_check.add_argument("--report", metavar="DIR", help="write DIR/report.md and DIR/junit.xml")
    p_check.add_argument("--profile", choices=PROFILES, default="ci",
                         help="hypothesis profile: dev (fast), ci (default), thorough (opt-in heavy fuzzing)")
    p_check.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments after --")
    p_check.set_defaults(func=check)
    p_var = sub.add_parser("variants", help="list the frequency variants and their parameters")
    p_var.set_defaults(func=variants)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "pytest_args", None) and args.pytest_args[0] == "--":
        args.pytest_args = args.pytest_args[1:]
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
