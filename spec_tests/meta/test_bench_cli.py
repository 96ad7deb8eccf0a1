"""[PERF-BENCH-1] [PERF-BENCH-2]: ``refrope bench``'s structure and output at tiny sizes (``--quick``).

Nothing here times anything or compares a time with a target: performance is measured by the command, on a
machine chosen for it, never asserted by a unit test. These tests check what the command reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refrope.bench import QUICK, run_bench
from refrope.bench.report import TARGETS, memory_ratio, targets, text_lines
from spec_tests.paths import SUITE

ROOT = SUITE.parent


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFROPE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "refrope", "bench", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


def test_quick_bench_writes_every_part(tmp_path):
    """[PERF-BENCH-1] `refrope bench --quick --out DIR` exits 0, prints the machine line (CPU, cores, BLAS and its
    threads, refrope's threads, load before and after), each workload's medians, the scaling in n, one line per
    target with its verdict and the examples per second; writes bench.json, bench.md and a PNG."""
    run = _cli(tmp_path, "--quick", "--out", "out")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    text = run.stdout
    assert "refrope bench: " in text and " cores; BLAS " in text and " threads; refrope " in text
    assert "load average" in text and " after" in text
    for line in ("apply_rope: q and k of shape (2, 64, 32) float64", "attention: one head, n = 256",
                 "attention in n (one head, causal, fresh process each)", "targets:",
                 "examples per second of the main properties"):
        assert line in text, line
    verdicts = [line for line in text.splitlines() if "  target " in line]
    assert len(verdicts) == len(TARGETS) + 1
    assert all(line.endswith((": met", ": MISSED", ": not measured")) for line in verdicts)
    data = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert {"machine", "workloads", "scaling", "properties", "targets", "sizes", "date"} <= set(data)
    assert [r["n"] for r in data["scaling"]] == list(QUICK.scaling)
    assert all(r["seconds"] > 0 and r["input_bytes"] == 3 * r["n"] * QUICK.attn_d * 8 for r in data["scaling"])
    assert data["properties"] and all(r["per_second"] > 0 and r["examples"] > 0 for r in data["properties"])
    assert (tmp_path / "out" / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| workload | metric | value | target |" in (tmp_path / "out" / "bench.md").read_text()


def test_workloads_hold_every_case_with_its_repetitions():
    """[PERF-BENCH-1] Each workload times the oracle, its anchor and the machine limit side by side: every case
    has `repeats` timings and a median among them (transformers and torch SDPA when installed)."""
    result = run_bench(QUICK, only=("apply_rope", "attention"), say=lambda line: None)
    cases = {name: set(w["times"]) for name, w in result["workloads"].items()}
    assert {"refrope", "refrope exact", "copy", "copy (allocating)"} <= cases["apply_rope"]
    assert {"refrope", "refrope ReRoPE", "DGEMM bound"} <= cases["attention"]
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        pass
    else:
        assert "transformers" in cases["apply_rope"] and "torch SDPA" in cases["attention"]
    for work in result["workloads"].values():
        for case, times in work["times"].items():
            assert len(times) == QUICK.repeats and min(times) <= work["medians"][case] <= max(times)
    assert result["scaling"] == [] and result["properties"] == []


def test_target_rows_are_ratios_of_medians():
    """[PERF-BENCH-2] A target's value is the ratio of the two medians it names, its verdict follows its direction,
    a missing case is "not measured", and the memory target compares bytes per token."""
    medians = {"apply_rope": {"refrope": 1.0, "transformers": 5.0, "copy": 0.4, "refrope exact": 4.5},
               "attention": {"refrope": 2.0, "torch SDPA": 2.0, "DGEMM bound": 1.5, "refrope ReRoPE": 2.2}}
    scaling = [{"n": 1, "peak_increase": 10.0}, {"n": 2, "peak_increase": 20.0}, {"n": 4, "peak_increase": 100.0}]
    rows = {(r["workload"], r["metric"]): r for r in targets(medians, scaling)}
    assert rows["apply_rope", "speed-up over transformers (float64)"]["value"] == 5.0
    assert rows["apply_rope", "fraction of the copy bandwidth"] | {} == {
        "workload": "apply_rope", "metric": "fraction of the copy bandwidth", "value": 0.4, "op": ">=",
        "target": 0.5, "met": False}
    assert rows["apply_rope", "exact / fast time"]["met"] is False
    assert rows["attention", "time / torch SDPA (float64)"]["met"] is False
    assert rows["attention", "fraction of the DGEMM bound"]["value"] == 0.75
    assert rows["attention", "ReRoPE / plain RoPE time"]["met"] is True
    assert memory_ratio(scaling) == 2.5
    missing = targets({"apply_rope": {"refrope": 1.0}}, [])
    assert all(r["value"] is None and r["met"] is None for r in missing)
    result = {"machine": {"cpu": "x", "cores": 2, "blas": {"name": "b", "version": "1", "threads": 2},
                          "refrope_threads": 2, "load_average": 0.5, "load_after": 0.6},
              "workloads": {}, "scaling": [], "targets": missing, "properties": []}
    assert text_lines(result)[-1].endswith(": not measured")


@pytest.mark.parametrize("args, message", [(["--only", "nothing"], "invalid choice"),
                                           (["--repeats", "0", "--quick"], "--repeats must be >= 1")])
def test_bad_options(tmp_path, args, message):
    """[PERF-BENCH-1] A bad option is an error naming it (exit code 2), before anything is measured."""
    run = _cli(tmp_path, *args)
    assert run.returncode == 2 and message in run.stderr
