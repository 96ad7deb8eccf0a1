"""``refrope`` command line: run the spec suite against a backend and write a readable report.

``refrope check [--backend NAME] [--device D] [--report DIR]`` runs the installed spec suite
(``spec_tests``; for a backend other than the oracle, its conformance part) with pytest, prints progress
and a per-clause summary, and writes ``report.md`` (clause x variant x dtype), ``junit.xml`` and
``error_vs_position.png`` into ``--report DIR``. Every test cites the spec clauses it checks in its
docstring (e.g. ``[F-YARN-2]``). ``refrope variants`` lists the frequency variants and their parameters;
``refrope vectors`` exports and verifies the golden vectors.
Spec: [K-REPORT-1] (docs/spec/conformance.md).
"""

from __future__ import annotations

import argparse
import sys

from .check import PROFILES, check
from .variants import variants

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="refrope", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="run the spec suite and write a report")
    p_check.add_argument("--report", metavar="DIR",
                         help="write DIR/report.md, DIR/junit.xml and DIR/error_vs_position.png")
    p_check.add_argument("--backend", metavar="NAME", default=None,
                         help="backend under test: refrope (default, or $REFROPE_BACKEND), torch, transformers, "
                              "rotary_embedding_torch, ggml, or a module path")
    p_check.add_argument("--device", default=None, help="device for the backend (e.g. cpu, cuda)")
    p_check.add_argument("--skips-file", metavar="FILE", default=None, help="test ids to skip, one per line")
    p_check.add_argument("--xfails-file", metavar="FILE", default=None, help="test ids to xfail, one per line")
    p_check.add_argument("--profile", choices=PROFILES, default="ci",
                         help="hypothesis profile: dev (fast), ci (default), thorough (opt-in heavy fuzzing)")
    p_check.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments after --")
    p_check.set_defaults(func=check)
    p_var = sub.add_parser("variants", help="list the frequency variants and their parameters")
    p_var.set_defaults(func=variants)
    from ..vectors.cli import register as register_vectors

    register_vectors(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "pytest_args", None) and args.pytest_args[0] == "--":
        args.pytest_args = args.pytest_args[1:]
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
