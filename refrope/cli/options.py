"""The options of ``refrope check`` and their checks: filters by exact name, failures, output format.

Spec: docs/spec/conformance.md [K-CLI-2], [K-CLI-3]; docs/spec/performance.md [PERF-XDIST-1], [PERF-SHARD-1].
"""

from __future__ import annotations

import argparse

__all__ = ["PROFILES", "FILTER_OPTIONS", "add_check_arguments", "filters_of", "check_filters", "check_parallel",
           "names"]

PROFILES = ("dev", "ci", "thorough")
FILTER_OPTIONS = ("variant", "layout", "dtype")


def names(values: list[str] | None) -> list[str]:
    """The names given to a repeatable option, commas splitting too, each once, in order.

    >>> names(["yarn,llama3", "yarn"]), names(None)
    (['yarn', 'llama3'], [])
    """
    out: list[str] = []
    for value in values or ():
        out += [v.strip() for v in value.split(",") if v.strip() and v.strip() not in out]
    return out


def filters_of(args: argparse.Namespace) -> dict[str, list[str]]:
    """``{"variant": [...], "layout": [...], "dtype": [...]}`` from the parsed options."""
    return {name: names(getattr(args, name, None)) for name in FILTER_OPTIONS}


def check_filters(args: argparse.Namespace, backend) -> None:
    """Reject a filter value that names nothing (``ValueError`` listing the valid names); a dtype must be one
    the backend declares."""
    from ..frequencies.registry import VARIANTS
    from ..layouts import LAYOUTS

    valid = {"variant": tuple(VARIANTS), "layout": tuple(LAYOUTS), "dtype": tuple(backend.dtypes)}
    for name, values in filters_of(args).items():
        unknown = [v for v in values if v not in valid[name]]
        if unknown:
            where = f"the dtypes {backend.name} declares" if name == "dtype" else f"the {name}s"
            raise ValueError(f"--{name} {', '.join(unknown)}: not among {where}: {', '.join(valid[name])}")


def check_parallel(args: argparse.Namespace) -> list[str]:
    """The pytest arguments of ``-n`` and ``--shard`` (``ValueError`` naming a bad value or a missing pytest-xdist).

    >>> check_parallel(argparse.Namespace(numprocesses="2", shard="1/3"))
    ['-n', '2', '--shard=1/3']
    """
    import importlib.util

    from ..report.shard import parse_shard

    out: list[str] = []
    n = getattr(args, "numprocesses", None)
    if n is not None:
        if n != "auto" and not (n.isdigit() and int(n) >= 0):
            raise ValueError(f"-n must be a number of worker processes or 'auto', got {n!r}")
        if importlib.util.find_spec("xdist") is None:
            raise ValueError("-n needs pytest-xdist: python -m pip install pytest-xdist")
        out += ["-n", n]
    if getattr(args, "shard", None):
        parse_shard(args.shard)
        out.append(f"--shard={args.shard}")
    return out


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``refrope check``."""
    p.add_argument("--backend", metavar="NAME", default=None,
                   help="backend under test: refrope (default, or $REFROPE_BACKEND), torch, transformers, "
                        "rotary_embedding_torch, a module (my_adapter, found in the current directory too; "
                        "pkg.mod[:attr]) or a file (path/to/my_adapter.py)")
    p.add_argument("--device", default=None,
                   help="device for the backend's make_backend (e.g. cpu, cuda); checked by the pre-flight")
    p.add_argument("--report", metavar="DIR",
                   help="write DIR/report.md, report.json, junit.xml, pytest.log and error_vs_position.png")
    for name, example in (("variant", "yarn"), ("layout", "half"), ("dtype", "bfloat16")):
        p.add_argument(f"--{name}", action="append", metavar=name.upper(),
                       help=f"run only the tests parametrized with exactly this {name} (e.g. {example}; repeat or "
                            f"separate by commas; tests without a {name} parameter are left out)")
    p.add_argument("--max-failures", type=_positive, metavar="N", default=None,
                   help="stop after N failing tests (default: run them all)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: print the report as JSON on stdout (progress goes to stderr)")
    p.add_argument("--skips-file", metavar="FILE", default=None, help="test ids to skip, one per line")
    p.add_argument("--xfails-file", metavar="FILE", default=None,
                   help="test ids to xfail, one per line ('#' starts the reason); report.md lists failures in "
                        "this form")
    p.add_argument("--profile", choices=PROFILES, default="ci",
                   help="hypothesis profile: dev (25 examples, random seed), ci (default: 40 examples, "
                        "derandomized), thorough (1,000 examples, opt-in heavy fuzzing)")
    p.add_argument("--seed", type=int, default=None, help="hypothesis seed (the dev profile picks and prints one)")
    p.add_argument("-n", "--numprocesses", metavar="N", default=None,
                   help="run the tests in N worker processes (pytest-xdist; 'auto': one per CPU); the report is the "
                        "same as with one")
    p.add_argument("--shard", metavar="I/N", default=None,
                   help="run only shard I of N: a deterministic part of the tests chosen by test id; join the "
                        "shards' reports with 'refrope report merge' (docs/sharding.md)")
    p.add_argument("--full-output", action="store_true",
                   help="show pytest's own output (tracebacks) on the console instead of in pytest.log")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments after --")
