"""How strong the conformance suite is: examples per property per hypothesis profile, run time, mutants caught.

Runs ``spec_tests/conformance`` against a backend (default: the bundled torch reference) once per profile with
hypothesis' statistics, counts the examples each test ran (its explicit plans and its generated draws), then runs
the mutant meta test (spec_tests/meta/test_mutants.py). Prints a Markdown report (and writes it with ``--out``).
Measured figures are recorded in benchmarks/results/; docs/spec/conformance.md ([K-MUT-1], [K-BRANCH-1]) states
what is required. Run from the repository root::

    python benchmarks/suite_strength.py --profile dev --profile ci --out benchmarks/results/DIR/suite_strength.md
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_TEST = re.compile(r"^(spec_tests/\S+::\S+):$")
_PHASE = re.compile(r"^\s*- during (\w+) phase")
_COUNT = re.compile(r"^\s*- (\d+) passing examples?, (\d+) failing examples?, (\d+) invalid examples?")


def _pytest(args: list[str], env: dict) -> tuple[str, float, int]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    return proc.stdout + proc.stderr, time.perf_counter() - start, proc.returncode


def examples(output: str) -> dict[str, dict[str, int]]:
    """``{test id: {phase: passing examples}}`` from pytest's ``--hypothesis-show-statistics`` output."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    test = phase = None
    for line in output.splitlines():
        if m := _TEST.match(line.strip()):
            test, phase = m.group(1), None
        elif test and (m := _PHASE.match(line)):
            phase = m.group(1)
        elif test and phase and (m := _COUNT.match(line)):
            counts[test][phase] = int(m.group(1))
    return dict(counts)


def plans(test_id: str) -> int:
    """The explicit examples (plans, spec_tests/branches.py) a test runs before hypothesis draws."""
    path, name = test_id.split("[", 1)[0].split("::")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return len(getattr(getattr(module, name), "refrope_plans", ()))


def profile_run(profile: str, backend: str) -> dict:
    env = {**os.environ, "HYPOTHESIS_PROFILE": profile, "REFROPE_NUM_THREADS": "1"}
    out, seconds, rc = _pytest(["-q", "-p", "no:xdist", "--hypothesis-show-statistics", f"--backend={backend}",
                                "spec_tests/conformance"], env)
    if rc not in (0,):
        raise SystemExit(f"suite_strength: the conformance run ({profile}) exited {rc}:\n{out[-3000:]}")
    per_property: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for test, phases in examples(out).items():  # hypothesis' statistics leave the explicit examples out
        per_property[test.split("[", 1)[0]].append((plans(test), phases.get("generate", 0)))
    summary = re.findall(r"^=*\s*(\d+ passed.*)$", out, re.M)
    return {"profile": profile, "seconds": seconds, "summary": summary[-1].strip("= ") if summary else "",
            "properties": dict(per_property)}


def mutant_run() -> tuple[int, int, float]:
    out, seconds, rc = _pytest(["-q", "-p", "no:xdist", "spec_tests/meta/test_mutants.py", "-k", "is_caught",
                                "-rA"], dict(os.environ))
    caught = len(re.findall(r"^PASSED .*test_mutant_is_caught", out, re.M))
    missed = len(re.findall(r"^FAILED .*test_mutant_is_caught", out, re.M))
    return caught, caught + missed, seconds


def report(runs: list[dict], mutants: tuple[int, int, float], backend: str) -> str:
    lines = ["# Conformance suite strength", "",
             f"- backend: `{backend}`; machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
             f"python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             "- one process (no xdist), `REFROPE_NUM_THREADS=1`", ""]
    caught, total, seconds = mutants
    lines += [f"Mutants caught: **{caught} of {total}** (spec_tests/meta/mutants; {seconds:.0f} s).", ""]
    lines += ["| profile | run time | tests |", "|---|---|---|"]
    lines += [f"| {r['profile']} | {r['seconds']:.0f} s | {r['summary']} |" for r in runs]
    lines += ["", "Examples per property: explicit plans + generated draws per parametrized test (min / median / "
              "max over its parametrizations).", ""]
    header = "| property | " + " | ".join(f"{r['profile']}: plans + drawn" for r in runs) + " |"
    lines += [header, "|---|" + "---|" * len(runs)]
    names = sorted({name for r in runs for name in r["properties"]})
    for name in names:
        cells = []
        for r in runs:
            rows = r["properties"].get(name, [])
            if not rows:
                cells.append("-")
                continue
            plans = [p for p, _ in rows]
            drawn = [g for _, g in rows]
            cells.append(f"{statistics.median(plans):g} + {min(drawn)} / {statistics.median(drawn):g} / {max(drawn)}"
                         f" ({len(rows)} tests)")
        lines.append(f"| `{name.removeprefix('spec_tests/conformance/')}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", action="append", choices=["dev", "ci", "thorough"],
                        help="hypothesis profile (repeatable; default dev and ci)")
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    args = parser.parse_args()
    runs = [profile_run(p, args.backend) for p in (args.profile or ["dev", "ci"])]
    text = report(runs, mutant_run(), args.backend)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
