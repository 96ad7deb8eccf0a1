"""``refrope bench``: measure the oracle against its anchors and the machine's limits (docs/spec/performance.md).

Spec: docs/spec/performance.md [PERF-BENCH-1], [PERF-BENCH-2].
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["register", "bench"]


def bench(args: argparse.Namespace) -> int:
    """Run the bench; 0 when it ran (whether or not the targets were met), 2 on bad options."""
    import dataclasses

    from ..bench import FULL, QUICK, WORKLOADS, run_bench
    from ..bench.machine import load, wait_for_quiet
    from ..bench.report import markdown, text_lines, write_figure

    out = sys.stderr if args.format == "json" else sys.stdout

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    sizes = QUICK if args.quick else FULL
    if args.repeats is not None:
        if args.repeats < 1:
            print(f"refrope bench: --repeats must be >= 1, got {args.repeats}", file=sys.stderr)
            return 2
        sizes = dataclasses.replace(sizes, repeats=args.repeats)
    only = tuple(args.only or WORKLOADS)
    quiet = True
    if args.max_load is not None:
        quiet = wait_for_quiet(args.max_load, args.wait, say=say)
    say(f"refrope bench: load average {load():.2f}; {'quick sizes' if args.quick else 'full sizes'}")
    try:
        result = run_bench(sizes, only=only, say=say)
    except ValueError as exc:
        print(f"refrope bench: {exc}", file=sys.stderr)
        return 2
    result["machine"]["quiet_before"] = quiet
    for line in text_lines(result):
        say(line)
    if args.out:
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "bench.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        (folder / "bench.md").write_text(markdown(result), encoding="utf-8")
        say(f"written: {folder / 'bench.json'}, {folder / 'bench.md'}")
        say(write_figure(result, folder / "bench.png"))
    if args.format == "json":
        print(json.dumps(result, indent=1))
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``bench`` to the ``refrope`` subcommands.

    >>> parser = argparse.ArgumentParser(prog="refrope")
    >>> _ = register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["bench", "--quick", "--only", "apply_rope"]).only
    ['apply_rope']
    """
    from ..bench import WORKLOADS

    p = subparsers.add_parser(
        "bench", help="measure refrope against its anchors and the machine's limits (time, memory, ratios)",
        description="Measure refrope against its anchors (transformers, torch SDPA) and the machine's limits "
                    "(copy bandwidth, DGEMM) in one run, as ratios with their targets (docs/spec/performance.md).")
    p.add_argument("--out", metavar="DIR", help="write DIR/bench.json, bench.md and bench.png")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the command in seconds, measures nothing")
    p.add_argument("--only", action="append", choices=WORKLOADS, metavar="WORKLOAD",
                   help=f"run only this workload (repeatable): {', '.join(WORKLOADS)}")
    p.add_argument("--repeats", type=int, default=None, help="interleaved repetitions per case (default 7)")
    p.add_argument("--max-load", type=float, default=None, metavar="L",
                   help="first wait until the one-minute load average is below L (e.g. 1.5; at most --wait s)")
    p.add_argument("--wait", type=float, default=900.0, metavar="S", help="longest wait for --max-load (default 900)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: print the result as JSON on stdout (progress goes to stderr)")
    p.set_defaults(func=bench)
    return p
