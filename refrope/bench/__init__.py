"""``refrope bench``: the oracle against its anchors and against the machine's limits, measured in one run.

================  ==========================================================================================
module            what it holds
================  ==========================================================================================
``workloads``     the cases side by side: apply_rope (transformers, copy, exact), attention (torch SDPA, DGEMM)
``timing``        interleaved repetitions and medians; time and peak memory of one call in a fresh process
``child``         the fresh process of the scaling in n
``properties``    examples per second of the suite's main properties
``machine``       the machine record (CPU, cores, load, BLAS and its threads) and waiting for a quiet machine
``report``        the targets, the console lines, ``bench.md``, ``bench.json`` and ``bench.png``
================  ==========================================================================================

Spec: docs/spec/performance.md [PERF-BENCH-1], [PERF-BENCH-2].
"""

from __future__ import annotations

import datetime

from .workloads import FULL, QUICK, Sizes

__all__ = ["run_bench", "Sizes", "FULL", "QUICK", "WORKLOADS"]

WORKLOADS = ("apply_rope", "attention", "scaling", "properties")


def run_bench(sizes: Sizes = FULL, *, only: tuple[str, ...] = WORKLOADS, say=print) -> dict:
    """Measure the workloads in ``only`` at ``sizes``; the result as one JSON-able dict (``bench.json``)."""
    from . import report
    from .machine import load, machine
    from .properties import MAIN, QUICK_MAIN, examples_per_second
    from .timing import in_child, interleaved, medians
    from .workloads import attention_cases, rope_cases

    unknown = [w for w in only if w not in WORKLOADS]
    if unknown:
        raise ValueError(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    record = machine()
    result: dict = {"format": 1, "date": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
                    "machine": record, "sizes": {k: getattr(sizes, k) for k in sizes.__dataclass_fields__},
                    "workloads": {}, "scaling": [], "properties": []}
    h, n, d = sizes.rope_shape
    builders = {"apply_rope": (rope_cases, f"q and k of shape ({h}, {n}, {d}) float64, default RoPE, half layout"),
                "attention": (attention_cases, f"one head, n = {sizes.attn_n}, d = {sizes.attn_d}, causal, float64; "
                                               f"ReRoPE window {sizes.window}")}
    for name, (build, what) in builders.items():
        if name in only:
            say(f"  measuring {name} ({sizes.repeats} interleaved repetitions) ...")
            times = interleaved(build(sizes), sizes.repeats)
            result["workloads"][name] = {"what": what, "repeats": sizes.repeats, "times": times,
                                         "medians": medians(times)}
    if "scaling" in only:
        for n_tokens in sizes.scaling:
            say(f"  measuring attention at n = {n_tokens} in a fresh process ...")
            row = in_child("attention", str(n_tokens), str(sizes.attn_d), "rope")
            result["scaling"].append({"n": n_tokens, **row})
    if "properties" in only:
        say("  measuring the examples per second of the main properties ...")
        result["properties"] = examples_per_second(QUICK_MAIN if sizes == QUICK else MAIN)
    record["load_after"] = round(load(), 2)
    import sys

    for module in ("torch", "transformers"):
        if module in sys.modules:
            record["versions"][module] = getattr(sys.modules[module], "__version__", "?")
    if "torch" in sys.modules:
        record["torch_threads"] = sys.modules["torch"].get_num_threads()
    result["targets"] = report.targets({k: w["medians"] for k, w in result["workloads"].items()}, result["scaling"])
    return result
