"""``refrope check``: pre-flight the backend, run the spec suite against it, print progress and a summary, and
write the report.

Spec: docs/spec/conformance.md [K-REPORT-1], [K-REPORT-2], [K-REPORT-3], [K-CLI-1], [K-CLI-2], [K-CLI-3];
docs/spec/performance.md [PERF-XDIST-1] (``-n``), [PERF-SHARD-1] (``--shard``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from .options import PROFILES, check_parallel, filters_of

__all__ = ["check", "PROFILES"]


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


def _fail(message: str) -> int:
    print(f"refrope check: {message}", file=sys.stderr)
    return 2


def _header(args, backend, seed: int | None) -> list[str]:
    from importlib.metadata import version

    import numpy as np
    import pytest

    from .. import __version__
    from ..report import shrinking
    from ..report.markdown import backend_header

    filters = filters_of(args)
    return [*backend_header(backend),
            f"refrope {__version__}; python {platform.python_version()}, numpy {np.__version__}, pytest "
            f"{pytest.__version__}, hypothesis {version('hypothesis')}; {platform.machine()}",
            f"hypothesis profile {args.profile}"
            + (f", seed {seed} (rerun with --seed {seed})" if seed is not None else ", derandomized"),
            shrinking.describe(),
            f"filters: {'; '.join(f'{k} ' + ', '.join(v) for k, v in filters.items() if v) or '(none)'}; skips file: "
            f"{args.skips_file or '(none)'}; xfails file: {args.xfails_file or '(none)'}",
            f"command: refrope {' '.join(getattr(args, 'argv', []) or ['check'])}",
            f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}"]


def _pytest_args(args, backend, report_dir: Path | None, seed: int | None) -> list[str]:
    target = "spec_tests" if backend.name == "refrope" else "spec_tests.conformance"
    pytest_args = ["--pyargs", target, "-p", "no:cacheprovider", "-p", "refrope.report.plugin", "-q",
                   "-W", "ignore::DeprecationWarning"]
    if target != "spec_tests":
        pytest_args.append("--refrope-no-doctests")  # the doctests of the helpers test no backend
    for name, values in filters_of(args).items():
        pytest_args += [f"--refrope-{name}={value}" for value in values]
    if args.max_failures:
        pytest_args.append(f"--maxfail={args.max_failures}")
    if seed is not None:
        pytest_args.append(f"--hypothesis-seed={seed}")
    if report_dir:
        pytest_args.append(f"--junitxml={report_dir / 'junit.xml'}")
    return pytest_args + check_parallel(args) + list(args.pytest_args)


def _estimator(timings: dict[str, float]):
    def estimate(nodeids: list[str]) -> float:
        import hypothesis

        from .preflight import estimate_seconds

        return estimate_seconds(nodeids, timings, hypothesis.settings.default.max_examples)
    return estimate


def check(args: argparse.Namespace) -> int:
    """Run the check; return 0 when every test that ran passed and at least one ran, 1 when a test failed or
    none ran, 2 when the backend or the options are unusable (pytest's own code when it was interrupted)."""
    import importlib.util

    missing = [name for name in ("pytest", "hypothesis") if importlib.util.find_spec(name) is None]
    if missing:  # hypothesis itself is imported only inside pytest (its plugin must load first)
        from ..backends.loader import install_hint

        return _fail(f"needs pytest and hypothesis: {install_hint(missing[0])}")
    import pytest

    from ..backends import load_backend
    from ..backends.loader import resolve_spec
    from ..report.collector import Collector
    from ..report.console import summary_lines
    from ..report.data import report_data
    from .options import check_filters
    from .preflight import PreflightError, preflight

    out = sys.stderr if args.format == "json" else sys.stdout
    try:
        backend = load_backend(args.backend and resolve_spec(args.backend), device=args.device)
        check_filters(args, backend)
        check_parallel(args)
        timings = preflight(backend)
    except PreflightError as exc:
        return _fail(f"pre-flight failed: {exc}")
    except (ValueError, TypeError) as exc:
        return _fail(str(exc))
    report_dir = Path(args.report) if args.report else None
    if report_dir:
        report_dir.mkdir(parents=True, exist_ok=True)
    seed = args.seed if args.seed is not None else (random.randrange(2**31) if args.profile == "dev" else None)
    header = _header(args, backend, seed)
    print("refrope check\n" + "\n".join(f"  {line}" for line in header), file=out, flush=True)
    print(f"  pre-flight passed: {', '.join(f'{f} {t * 1e3:.2g} ms' for f, t in timings.items()) or 'no calls'}",
          file=out, flush=True)
    environment = {"HYPOTHESIS_PROFILE": args.profile, "REFROPE_BACKEND": backend.source,
                   "REFROPE_DEVICE": args.device,
                   "REFROPE_SKIPS_FILE": args.skips_file and str(Path(args.skips_file).resolve()),
                   "REFROPE_XFAILS_FILE": args.xfails_file and str(Path(args.xfails_file).resolve())}
    collector = Collector(estimate=_estimator(timings), out=out)
    plugins: list = [collector]
    log = None
    if not args.full_output:
        from .terminal import PytestLog

        log = report_dir / "pytest.log" if report_dir else Path(tempfile.mkstemp(prefix="refrope-check-",
                                                                                 suffix=".log")[1])
        plugins.append(PytestLog(log))
    start = time.monotonic()
    with _environment(environment):
        code = int(pytest.main(_pytest_args(args, backend, report_dir, seed), plugins=plugins))
    data = report_data(collector.results, header=header + [f"duration: {time.monotonic() - start:.0f} s"],
                       selected=collector.selected, deselected=collector.deselected,
                       duration=time.monotonic() - start, unmatched=collector.unmatched,
                       stopped_early=collector.stopped_early, collection_errors=collector.collection_errors,
                       pytest_code=code, filters=filters_of(args))
    print("", file=out)
    for line in summary_lines(data):
        print(line, file=out)
    if code in (2, 3, 4) and log is not None:
        print(f"pytest stopped with exit code {code}; its output is in {log}", file=out)
    elif log is not None:
        print(f"pytest's full output (tracebacks, hypothesis' examples): {log}", file=out)
    if report_dir:
        from ..report.markdown import report_markdown

        (report_dir / "report.md").write_text(report_markdown(data), encoding="utf-8")
        (report_dir / "report.json").write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
        print(f"report written to {report_dir / 'report.md'}, report.json and junit.xml", file=out)
        print(_figure(backend, report_dir), file=out)
    if args.format == "json":
        print(json.dumps(data, indent=1, default=str))
    return data["exit_code"]


def _figure(backend, report_dir: Path) -> str:
    from ..report.figure import write_figure

    try:
        return write_figure(backend, report_dir)
    except Exception as exc:  # a figure never hides the verdict
        return f"no figure: drawing it failed ({type(exc).__name__}: {exc})"

