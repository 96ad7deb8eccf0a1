"""``refrope`` command line: run the spec suite against a backend and write a readable report.

``refrope check [--backend NAME] [--device D] [--report DIR]`` runs the installed spec suite
(``spec_tests``; for a backend other than the oracle, its conformance part) with pytest, prints progress
and a per-clause summary, and writes ``report.md`` (clause x variant x dtype), ``junit.xml`` and
``error_vs_position.png`` into ``--report DIR``. Every test cites the spec clauses it checks in its
docstring (e.g. ``[F-YARN-2]``). ``refrope variants`` lists the frequency variants and their parameters.
Spec: [K-REPORT-1] (docs/spec/conformance.md).
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
        self.cells: dict[str, tuple[str, str, float | None]] = {}  # nodeid -> (variant, dtype, worst ratio)

    def pytest_runtest_logreport(self, report) -> None:  # pragma: no cover - exercised through pytest
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
            outcome = "xpassed" if hasattr(report, "wasxfail") and report.passed else outcome
            self.results.append((report.nodeid, outcome, self._clauses.get(report.nodeid, ()), report.duration))
            ratio = dict(report.user_properties).get("worst_error_over_budget")
            variant, dtype, _ = self.cells.get(report.nodeid, ("-", "-", None))
            self.cells[report.nodeid] = (variant, dtype, ratio)

    def pytest_collection_modifyitems(self, items) -> None:  # pragma: no cover
        self._clauses = {}
        for item in items:
            doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
            self._clauses[item.nodeid] = tuple(dict.fromkeys(CLAUSE.findall(doc)))
            params = getattr(getattr(item, "callspec", None), "params", {})
            variant = "/".join(str(params[k]) for k in ("variant", "case", "layout") if k in params) or "-"
            self.cells[item.nodeid] = (variant, str(params.get("dtype", "-")), None)

    def pytest_collection_finish(self, session) -> None:  # pragma: no cover
        print(f"refrope check: {len(session.items)} tests collected; progress below (. pass, s skip, x xfail, F fail)",
              flush=True)


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


def cell_table(results, cells) -> dict[tuple[str, str, str], dict]:
    """Outcome counts and the worst error/budget per (clause, variant, dtype).

    >>> cell_table([("t", "passed", ("K-APPLY-1",), 0.1)], {"t": ("yarn/half", "float32", 0.25)})
    {('K-APPLY-1', 'yarn/half', 'float32'): {'passed': 1, 'worst': 0.25}}
    """
    table: dict = {}
    for nodeid, outcome, clauses, _ in results:
        variant, dtype, ratio = cells.get(nodeid, ("-", "-", None))
        for clause in clauses or ("(none)",):
            cell = table.setdefault((clause, variant, dtype), {})
            cell[outcome] = cell.get(outcome, 0) + 1
            if ratio is not None:
                cell["worst"] = max(cell.get("worst", 0.0), float(ratio))
    return dict(sorted(table.items()))


def _cells_markdown(results, cells) -> list[str]:
    lines = ["", "## By clause, variant and dtype", "",
             "worst = the largest |backend - oracle| / budget seen (docs/spec/numerics.md); must be <= 1.", "",
             "| clause | variant | dtype | passed | failed | skipped | xfailed | worst |", "|---|---|---|---|---|---|---|---|"]
    for (clause, variant, dtype), c in cell_table(results, cells).items():
        worst = f"{c['worst']:.3g}" if "worst" in c else ""
        lines.append(f"| {clause} | {variant} | {dtype} | {c.get('passed', 0)} | {c.get('failed', 0)} | "
                     f"{c.get('skipped', 0)} | {c.get('xfailed', 0)} | {worst} |")
    return lines


def _report_markdown(results, header: list[str], exit_code: int, cells=None) -> str:
    lines = ["# refrope spec report", "", *[f"- {h}" for h in header], f"- pytest exit code: {exit_code}", ""]
    counts = defaultdict(int)
    for _, outcome, _, _ in results:
        counts[outcome] += 1
    lines += ["## Totals", "", ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no tests ran", ""]
    lines += ["## By clause", "", "| clause | passed | failed | skipped |", "|---|---|---|---|"]
    for clause, c in summarize(results).items():
        lines.append(f"| {clause} | {c.get('passed', 0)} | {c.get('failed', 0)} | {c.get('skipped', 0)} |")
    if cells:
        lines += _cells_markdown(results, cells)
    failed = [r for r in results if r[1] == "failed"]
    if failed:
        lines += ["", "## Failures", ""] + [f"- `{nodeid}` ({', '.join(cl) or 'no clause'})" for nodeid, _, cl, _ in failed]
    return "\n".join(lines) + "\n"


def _backend_header(backend, args) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in backend.versions.items()) or "no versions declared"
    return [f"backend: {backend.name} ({backend.source}; {versions})",
            f"dtypes: {', '.join(backend.dtypes)}; angle dtype: {backend.angle_dtype}",
            f"capabilities: {', '.join(sorted(backend.capabilities))}",
            f"skips file: {args.skips_file or '(none)'}; xfails file: {args.xfails_file or '(none)'}"]


def _figure(backend, report_dir: Path) -> str:
    """Write DIR/error_vs_position.png; return a line saying what happened."""
    from spec_tests.conformance.sweep import error_vs_position, plot

    if "apply_rope" not in backend.capabilities:
        return f"no figure: {backend.name} does not provide apply_rope"
    curves = {dtype: error_vs_position(backend, dtype) for dtype in backend.dtypes}
    path = report_dir / "error_vs_position.png"
    if not plot(curves, path, f"{backend.name}: apply_rope error against position"):
        return "no figure: matplotlib is not installed (pip install matplotlib); error_vs_position.png skipped"
    return f"figure written to {path}"


def check(args: argparse.Namespace) -> int:
    """Run the spec suite; return pytest's exit code (5, no tests collected, is turned into 1)."""
    try:
        import pytest
    except ImportError:
        print("refrope check needs pytest and hypothesis: pip install 'refrope[test]'", file=sys.stderr)
        return 2
    import numpy as np

    from refrope.backend import load_backend

    try:
        backend = load_backend(args.backend, device=args.device)
    except (ValueError, TypeError) as exc:
        print(f"refrope check: {exc}", file=sys.stderr)
        return 2
    os.environ["HYPOTHESIS_PROFILE"] = args.profile
    report_dir = Path(args.report) if args.report else None
    target = "spec_tests" if backend.name == "refrope" else "spec_tests.conformance"
    pytest_args = ["--pyargs", target, "-p", "no:cacheprovider", "-q", "-rfE", "-W", "ignore::DeprecationWarning",
                   *args.pytest_args]
    # the conftest of an installed spec_tests loads after option parsing: pass the choices by environment
    os.environ["REFROPE_BACKEND"] = backend.source
    for name, value in (("REFROPE_DEVICE", args.device), ("REFROPE_SKIPS_FILE", args.skips_file),
                        ("REFROPE_XFAILS_FILE", args.xfails_file)):
        if value:
            os.environ[name] = value if name == "REFROPE_DEVICE" else str(Path(value).resolve())
    if report_dir:
        report_dir.mkdir(parents=True, exist_ok=True)
        pytest_args.append(f"--junitxml={report_dir / 'junit.xml'}")
    header = [*_backend_header(backend, args),
              f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}",
              f"hypothesis profile: {args.profile}",
              f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}"]
    print("refrope check\n" + "\n".join(f"  {line}" for line in header), flush=True)
    collector = _Collector()
    code = int(pytest.main(pytest_args, plugins=[collector]))
    table = summarize(collector.results)
    print(f"\nrefrope check: {len(collector.results)} tests over {len(table)} clauses")
    bad = {c: v for c, v in table.items() if v.get("failed")}
    for clause, v in bad.items():
        print(f"  FAILED clause {clause}: {v.get('failed')} failing test(s)")
    if not bad:
        print("  every clause exercised passed" if collector.results else "  no tests ran")
    if report_dir:
        (report_dir / "report.md").write_text(_report_markdown(collector.results, header, code, collector.cells))
        print(f"report written to {report_dir / 'report.md'} and {report_dir / 'junit.xml'}")
        print(_figure(backend, report_dir))
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
    p_check.add_argument("--report", metavar="DIR",
                         help="write DIR/report.md, DIR/junit.xml and DIR/error_vs_position.png")
    p_check.add_argument("--backend", metavar="NAME", default=None,
                         help="backend under test: refrope (default, or $REFROPE_BACKEND), torch, transformers, "
                              "rotary_embedding_torch, or a module path")
    p_check.add_argument("--device", default=None, help="device for the backend (e.g. cpu, cuda)")
    p_check.add_argument("--skips-file", metavar="FILE", default=None, help="test ids to skip, one per line")
    p_check.add_argument("--xfails-file", metavar="FILE", default=None, help="test ids to xfail, one per line")
    p_check.add_argument("--profile", choices=PROFILES, default="ci",
                         help="hypothesis profile: dev (fast), ci (default), thorough (opt-in heavy fuzzing)")
    p_check.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments after --")
    p_check.set_defaults(func=check)
    p_var = sub.add_parser("variants", help="list the frequency variants and their parameters")
    p_var.set_defaults(func=variants)
    from .vectors.cli import register as register_vectors

    register_vectors(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "pytest_args", None) and args.pytest_args[0] == "--":
        args.pytest_args = args.pytest_args[1:]
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
