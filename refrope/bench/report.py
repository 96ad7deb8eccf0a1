"""The ratios and targets of a bench run, and how it is printed, written and drawn.

Spec: docs/spec/performance.md [PERF-BENCH-1], [PERF-BENCH-2].
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["TARGETS", "targets", "memory_ratio", "text_lines", "markdown", "write_figure"]

# (workload, metric, numerator case, denominator case, "<=" or ">=", target): value = median(num) / median(den)
TARGETS = (
    ("apply_rope", "speed-up over transformers (float64)", "transformers", "refrope", ">=", 4.0),
    ("apply_rope", "fraction of the copy bandwidth", "copy", "refrope", ">=", 0.5),
    ("apply_rope", "exact / fast time", "refrope exact", "refrope", "<=", 4.0),
    ("attention", "time / torch SDPA (float64)", "refrope", "torch SDPA", "<=", 0.8),
    ("attention", "fraction of the DGEMM bound", "DGEMM bound", "refrope", ">=", 0.6),
    ("attention", "ReRoPE / plain RoPE time", "refrope ReRoPE", "refrope", "<=", 1.2),
)
MEMORY_TARGET = 1.1


def memory_ratio(scaling: list[dict]) -> float | None:
    """Peak memory per token at the largest n over that at the middle n (flat per token: no n^2 term).

    >>> memory_ratio([{"n": 1, "peak_increase": 10}, {"n": 2, "peak_increase": 20}, {"n": 4, "peak_increase": 40}])
    1.0
    """
    rows = [r for r in scaling if r.get("peak_increase")]
    if len(rows) < 2:
        return None
    ref, last = rows[len(rows) // 2], rows[-1]
    return round((last["peak_increase"] / last["n"]) / (ref["peak_increase"] / ref["n"]), 3)


def targets(medians: dict[str, dict[str, float]], scaling: list[dict]) -> list[dict]:
    """One row per target: workload, metric, value (None when a case was not measured), op, target, met."""
    rows = []
    for workload, metric, num, den, op, target in TARGETS:
        m = medians.get(workload, {})
        value = round(m[num] / m[den], 3) if num in m and den in m and m[den] > 0 else None
        rows.append({"workload": workload, "metric": metric, "value": value, "op": op, "target": target})
    rows.append({"workload": "attention memory", "metric": "peak bytes per token, largest n / middle n",
                 "value": memory_ratio(scaling), "op": "<=", "target": MEMORY_TARGET})
    for row in rows:
        v, t = row["value"], row["target"]
        row["met"] = None if v is None else (v >= t if row["op"] == ">=" else v <= t)
    return rows


def _verdict(row: dict) -> str:
    return "not measured" if row["met"] is None else ("met" if row["met"] else "MISSED")


def _machine_line(machine: dict) -> str:
    blas = machine["blas"]
    return (f"{machine['cpu']}, {machine['cores']} cores; BLAS {blas['name']} {blas['version']} with "
            f"{blas['threads'] or '?'} threads; refrope {machine['refrope_threads']} threads; "
            f"load average {machine['load_average']} before, {machine.get('load_after', '?')} after")


def text_lines(result: dict) -> list[str]:
    """The console report: machine, each workload's medians, the scaling, the targets, examples per second."""
    lines = [f"refrope bench: {_machine_line(result['machine'])}"]
    for name, work in result["workloads"].items():
        lines.append(f"{name}: {work['what']}; medians of {work['repeats']} interleaved repetitions")
        for case, seconds in sorted(work["medians"].items(), key=lambda kv: kv[1]):
            lines.append(f"  {case:20s} {seconds:9.4f} s")
    if result["scaling"]:
        lines.append("attention in n (one head, causal, fresh process each): time, peak memory increase")
        for r in result["scaling"]:
            mem = "?" if r["peak_increase"] is None else f"{r['peak_increase'] / 2**20:8.1f} MiB"
            lines.append(f"  n = {r['n']:6d}  {r['seconds']:8.3f} s  {mem}  "
                         f"({r['seconds'] / r['n'] ** 2 * 1e9:.3f} ns per n^2)")
    lines.append("targets:")
    for row in result["targets"]:
        value = "-" if row["value"] is None else f"{row['value']:.3g}"
        lines.append(f"  {row['workload']:17s} {row['metric']:42s} {value:>7s}  target {row['op']} "
                     f"{row['target']:g}: {_verdict(row)}")
    if result.get("properties"):
        lines.append("examples per second of the main properties (ci profile), slowest first:")
        for r in result["properties"]:
            lines.append(f"  {r['per_second']:9.1f}/s  {r['examples']:4d} in {r['seconds']:.2f} s  {r['test']}")
    return lines


def markdown(result: dict) -> str:
    """``bench.md``: the same as tables."""
    m = result["machine"]
    out = ["# refrope bench", "", f"- machine: {_machine_line(m)}", f"- {m['platform']}; " +
           ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
           f"- environment: {', '.join(f'{k}={v}' for k, v in m['env'].items()) or '(no thread variables set)'}",
           f"- date: {result['date']}", "", "| workload | metric | value | target | |", "|---|---|---|---|---|"]
    for row in result["targets"]:
        value = "–" if row["value"] is None else f"{row['value']:.3g}"
        out.append(f"| {row['workload']} | {row['metric']} | {value} | {row['op']} {row['target']:g} | "
                   f"{_verdict(row)} |")
    for name, work in result["workloads"].items():
        out += ["", f"## {name}", "", f"{work['what']}; medians of {work['repeats']} interleaved repetitions.", "",
                "| case | median | all |", "|---|---|---|"]
        for case, seconds in sorted(work["medians"].items(), key=lambda kv: kv[1]):
            out.append(f"| {case} | {seconds:.4f} s | {', '.join(f'{t:.4f}' for t in work['times'][case])} |")
    if result["scaling"]:
        out += ["", "## attention in n", "", "| n | time | peak memory increase | inputs |", "|---|---|---|---|"]
        for r in result["scaling"]:
            mem = "–" if r["peak_increase"] is None else f"{r['peak_increase'] / 2**20:.1f} MiB"
            out.append(f"| {r['n']} | {r['seconds']:.3f} s | {mem} | {r['input_bytes'] / 2**20:.1f} MiB |")
    if result.get("properties"):
        out += ["", "## examples per second (ci profile)", "", "| test | examples | seconds | per second |",
                "|---|---|---|---|"]
        out += [f"| `{r['test']}` | {r['examples']} | {r['seconds']:.2f} | {r['per_second']:.1f} |"
                for r in result["properties"]]
    return "\n".join(out) + "\n"


def write_figure(result: dict, path: Path) -> str:
    """``bench.png``: each target's value against its target (left), attention time and memory in n (right)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no figure: matplotlib is not installed (pip install 'refrope[report]')"
    rows = [r for r in result["targets"] if r["value"] is not None]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    labels = [f"{r['workload']}: {r['metric']}" for r in rows]
    scores = [r["value"] / r["target"] if r["op"] == ">=" else r["target"] / r["value"] for r in rows]
    left.barh(range(len(rows)), scores, color=["tab:green" if r["met"] else "tab:red" for r in rows])
    left.set_xscale("log")
    left.axvline(1.0, color="black", lw=1)
    left.set_yticks(range(len(rows)), [f"{lab} = {r['value']:.3g} ({r['op']} {r['target']:g})"
                                       for lab, r in zip(labels, rows)], fontsize=7)
    left.invert_yaxis()
    left.set_xlabel("value relative to its target (>= 1: met)")
    left.set_title("refrope against its anchors and the machine's limits", fontsize=9)
    scaling = result["scaling"]
    if scaling:
        n = [r["n"] for r in scaling]
        right.loglog(n, [r["seconds"] for r in scaling], "o-", label="time (s)")
        right.loglog(n, [(r["peak_increase"] or float("nan")) / 2**20 for r in scaling], "s-",
                     label="peak memory increase (MiB)")
        right.set_xscale("log", base=2)
        right.set_xlabel("n (tokens, one head)")
        right.legend(fontsize=8)
        right.set_title("causal attention in n", fontsize=9)
    fig.suptitle(_machine_line(result["machine"]), fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"figure written to {path}"
