"""``refrope`` command line: check a backend against the spec suite, list the variants, export the vectors.

``refrope check [--backend NAME] [--device D] [--report DIR] [--variant V] [--layout L] [--dtype T]`` loads
the backend, runs one tiny call per declared function on its device (pre-flight), estimates the run time,
runs the installed spec suite (``spec_tests``; for a backend other than the oracle, its conformance part)
with pytest, prints progress, each new kind of failure once, and a summary (coverage, the variant x layout x
dtype grid, failures grouped with their likely cause and a repro), and writes ``report.md``, ``report.json``,
``junit.xml``, ``pytest.log`` and ``error_vs_position.png`` into ``--report DIR``. ``refrope variants`` lists
the frequency variants and their parameters; ``refrope vectors`` exports and verifies the golden vectors;
``refrope report merge`` joins the reports of the shards of a run (``--shard I/N``); ``refrope bench`` measures
the oracle against its anchors and the machine's limits.
``--format json`` prints ``check``, ``variants`` and ``vectors verify`` as JSON.
Spec: [K-REPORT-1], [K-CLI-1], [K-CLI-2], [K-CLI-3] (docs/spec/conformance.md).
"""

from __future__ import annotations

import argparse
import sys

from .check import PROFILES, check
from .options import add_check_arguments
from .variants import variants

__all__ = ["main", "build_parser", "PROFILES"]


def build_parser() -> argparse.ArgumentParser:
    """The ``refrope`` parser.

    >>> build_parser().parse_args(["check", "--variant", "yarn", "--dtype", "float32"]).variant
    ['yarn']
    """
    from .. import __version__

    parser = argparse.ArgumentParser(prog="refrope", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"refrope {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="check a backend against the spec suite and write a report",
                             description="Check a backend against the spec suite (docs/spec/conformance.md).")
    add_check_arguments(p_check)
    p_check.set_defaults(func=check)
    p_var = sub.add_parser("variants", help="list the frequency variants and their parameters")
    p_var.add_argument("--format", choices=("text", "json"), default="text")
    p_var.set_defaults(func=variants)
    from ..vectors.cli import register as register_vectors

    register_vectors(sub)
    from ..report.merge import register as register_report

    register_report(sub)
    from .bench import register as register_bench

    register_bench(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    if getattr(args, "pytest_args", None) and args.pytest_args[0] == "--":
        args.pytest_args = args.pytest_args[1:]
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
