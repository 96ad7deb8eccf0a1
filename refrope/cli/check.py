"""``refrope check``: run the spec suite against a backend, print a summary, write the report.

Spec: docs/spec/conformance.md [K-REPORT-1].
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import sys
from pathlib import Path

from ..report.collector import Collector, summarize
from ..report.figure import write_figure
from ..report.markdown import backend_header, report_markdown

__all__ = ["check", "PROFILES"]

PROFILES = ("dev", "ci", "thorough")


@contextlib.contextmanager
def _environment(values: dict[str, str | None]):
    """Set (or, for None, leave unset) the given variables for the run and restore ``os.environ`` after it."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value



def check(args: argparse.Namespace) -> int:
    """Run the spec suite; return pytest's exit code (5, no tests collected, is turned into 1)."""
    try:
        import pytest
    except ImportError:
        print("refrope check needs pytest and hypothesis: pip install 'refrope[test]'", file=sys.stderr)
        return 2
    import numpy as np

    from ..backends import load_backend

    try:
        backend = load_backend(args.backend, device=args.device)
    except (ValueError, TypeError) as exc:
        print(f"refrope check: {exc}", file=sys.stderr)
        return 2
    report_dir = Path(args.report) if args.report else None
    target = "spec_tests" if backend.name == "refrope" else "spec_tests.conformance"
    pytest_args = ["--pyargs", target, "-p", "no:cacheprovider", "-q", "-rfE", "-W", "ignore::DeprecationWarning",
                   *args.pytest_args]
    # the conftest of an installed spec_tests loads after option parsing: pass the choices by environment
    environment = {"HYPOTHESIS_PROFILE": args.profile, "REFROPE_BACKEND": backend.source,
                   "REFROPE_DEVICE": args.device,
                   "REFROPE_SKIPS_FILE": args.skips_file and str(Path(args.skips_file).resolve()),
                   "REFROPE_XFAILS_FILE": args.xfails_file and str(Path(args.xfails_file).resolve())}
    if report_dir:
        report_dir.mkdir(parents=True, exist_ok=True)
        pytest_args.append(f"--junitxml={report_dir / 'junit.xml'}")
    header = [*backend_header(backend),
              f"skips file: {args.skips_file or '(none)'}; xfails file: {args.xfails_file or '(none)'}",
              f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}",
              f"hypothesis profile: {args.profile}",
              f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}"]
    print("refrope check\n" + "\n".join(f"  {line}" for line in header), flush=True)
    collector = Collector()
    with _environment(environment):
        code = int(pytest.main(pytest_args, plugins=[collector]))
    table = summarize(collector.results)
    print(f"\nrefrope check: {len(collector.results)} tests over {len(table)} clauses")
    bad = {c: v for c, v in table.items() if v.get("failed")}
    for clause, v in bad.items():
        print(f"  FAILED clause {clause}: {v.get('failed')} failing test(s)")
    if not bad:
        print("  every clause exercised passed" if collector.results else "  no tests ran")
    if report_dir:
        (report_dir / "report.md").write_text(report_markdown(collector.results, header, code, collector.cells))
        print(f"report written to {report_dir / 'report.md'} and {report_dir / 'junit.xml'}")
        print(write_figure(backend, report_dir))
    return 1 if code == 5 else code
