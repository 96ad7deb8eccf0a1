"""Timing side by side, and the time and peak memory of one call in a fresh process.

Repetitions are interleaved (A B C A B C ...) after one warm-up call each, so that a change of load on a shared
machine hits every case alike; the median of each case is what the ratios use. Peak memory is measured in a child
process per case: the peak resident set (``VmHWM``, reset just before the call through ``/proc/self/clear_refs``)
minus the resident set before it.
Spec: docs/spec/performance.md [PERF-BENCH-1].
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

__all__ = ["interleaved", "medians", "peak_memory", "in_child"]


def interleaved(cases: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Seconds of every repetition of each case, interleaved, after one warm-up call each.

    >>> times = interleaved({"a": lambda: None, "b": lambda: sum(range(100))}, 3)
    >>> sorted(times), len(times["a"])
    (['a', 'b'], 3)
    """
    for run in cases.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, run in cases.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def medians(times: dict[str, list[float]]) -> dict[str, float]:
    """The median of each case.

    >>> medians({"a": [3.0, 1.0, 2.0]})
    {'a': 2.0}
    """
    return {name: statistics.median(t) for name, t in times.items()}


def _status(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_memory(run: Callable[[], object]) -> dict:
    """``{"seconds", "rss_before", "peak_increase"}`` of one call (``peak_increase`` None where the system does not
    say; measured by ``tracemalloc`` there instead).

    >>> sorted(peak_memory(lambda: bytearray(10**6)))
    ['peak_increase', 'rss_before', 'seconds']
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset VmHWM to the current resident set
        traced = False
    except OSError:
        traced = True
    before = _status("VmRSS")
    if traced or before is None:
        import tracemalloc

        tracemalloc.start()
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"seconds": seconds, "rss_before": before, "peak_increase": peak}
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rss_before": before, "peak_increase": (_status("VmHWM") or before) - before}


def in_child(*args: str, timeout: float = 1800) -> dict:
    """Run ``python -m refrope.bench.child ARGS`` (a fresh process) and return what it printed (JSON)."""
    out = subprocess.run([sys.executable, "-m", "refrope.bench.child", *args], capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode:
        raise RuntimeError(f"refrope.bench.child {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
